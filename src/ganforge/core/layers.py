"""Building blocks shared by the modalities' networks."""

from __future__ import annotations

from torch import nn


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    """Spectral normalisation bounds each layer's Lipschitz constant (Miyato et al. 2018)."""
    return nn.utils.parametrizations.spectral_norm(layer) if enabled else layer
