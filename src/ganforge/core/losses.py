"""Adversarial losses, one small pair of functions each.

Every discriminator loss takes the critic's raw scores on real and fake batches, every generator loss the
scores on fake ones; both return a scalar to minimise. `LOSSES` is the whole registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


class Loss(NamedTuple):
    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]
    needs_gradient_penalty: bool = False


def minimax_discriminator(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """L_D = -E[log D(x)] - E[log(1 - D(G(z)))] with D = sigmoid(score), written stably (Goodfellow et al. 2014)."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def minimax_generator(d_fake: Tensor) -> Tensor:
    """L_G = E[log(1 - D(G(z)))], the textbook saturating form: log(1 - sigmoid(s)) = -softplus(s)."""
    return -F.softplus(d_fake).mean()


def nonsaturating_generator(d_fake: Tensor) -> Tensor:
    """L_G = -E[log D(G(z))]: the same fixed point, strong gradients early on."""
    return F.softplus(-d_fake).mean()


def wasserstein_discriminator(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Critic of WGAN (Arjovsky et al. 2017); pair it with the gradient penalty (Gulrajani et al. 2017)."""
    return d_fake.mean() - d_real.mean()


def wasserstein_generator(d_fake: Tensor) -> Tensor:
    return -d_fake.mean()


def hinge_discriminator(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def least_squares_discriminator(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """LSGAN with targets 1 for real and 0 for fake (Mao et al. 2017)."""
    return 0.5 * ((d_real - 1.0) ** 2).mean() + 0.5 * (d_fake**2).mean()


def least_squares_generator(d_fake: Tensor) -> Tensor:
    return 0.5 * ((d_fake - 1.0) ** 2).mean()


LOSSES: dict[str, Loss] = {
    "minimax": Loss(minimax_discriminator, minimax_generator),
    "nonsaturating": Loss(minimax_discriminator, nonsaturating_generator),
    "wgan-gp": Loss(wasserstein_discriminator, wasserstein_generator, needs_gradient_penalty=True),
    "hinge": Loss(hinge_discriminator, wasserstein_generator),
    "lsgan": Loss(least_squares_discriminator, least_squares_generator),
}
