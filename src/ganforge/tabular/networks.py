"""The tabular generator (residual MLP) and packed discriminator, and the generator's output activation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.layers import maybe_spectral_norm
from .transform import Layout

Tensor = torch.Tensor
GUMBEL_TEMPERATURE = 0.2


class Residual(nn.Module):
    """Linear -> BatchNorm -> ReLU, concatenated with its input (the CTGAN generator's block)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.norm = nn.BatchNorm1d(out_features)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([F.relu(self.norm(self.linear(x))), x], dim=1)


class TabularGenerator(nn.Module):
    """Maps noise and a condition vector to raw outputs (logits for blocks, pre-tanh for scalars)."""

    def __init__(self, noise_dim: int, condition_dim: int, hidden: tuple[int, ...], layout: Layout):
        super().__init__()
        layers, width = [], noise_dim + condition_dim
        for size in hidden:
            layers.append(Residual(width, size))
            width += size
        layers.append(nn.Linear(width, layout.width))
        self.body = nn.Sequential(*layers)
        self.noise_dim, self.layout = noise_dim, layout

    def forward(self, noise: Tensor, condition: Tensor | None) -> Tensor:
        return self.body(noise if condition is None else torch.cat([noise, condition], dim=1))


class TabularDiscriminator(nn.Module):
    """Judges packs of `pack` rows at once (PacGAN, Lin et al. 2018), which penalises mode collapse."""

    def __init__(self, input_dim: int, hidden: tuple[int, ...], pack: int, spectral_norm: bool):
        super().__init__()
        layers, width = [], input_dim * pack
        for size in hidden:
            layers += [maybe_spectral_norm(nn.Linear(width, size), spectral_norm), nn.LeakyReLU(0.2),
                       nn.Dropout(0.5)]
            width = size
        layers.append(maybe_spectral_norm(nn.Linear(width, 1), spectral_norm))
        self.body = nn.Sequential(*layers)
        self.pack = pack

    def forward(self, x: Tensor, condition: Tensor | None) -> Tensor:
        if condition is not None:
            x = torch.cat([x, condition], dim=1)
        return self.body(x.reshape(-1, x.shape[1] * self.pack))


def block_slices(layout: Layout) -> list[slice]:
    return [slice(int(o), int(o) + s) for o, s in zip(layout.block_offsets, layout.block_sizes)]


def activate(raw: Tensor, layout: Layout, slices: list[slice]) -> Tensor:
    """What the discriminator sees: tanh offsets and Gumbel-softmax one-hots (Jang et al. 2017)."""
    parts = [torch.tanh(raw[:, :layout.n_scalars])]
    parts += [F.gumbel_softmax(raw[:, s], tau=GUMBEL_TEMPERATURE) for s in slices]
    return torch.cat(parts, dim=1)


def block_log_softmax(raw: Tensor, slices: list[slice]) -> Tensor:
    """Log-probabilities within each block, laid out like the blocks (scalars dropped)."""
    return torch.cat([F.log_softmax(raw[:, s], dim=1) for s in slices], dim=1)


def sample_categories(logits: Tensor, generator: torch.Generator) -> Tensor:
    """Draw one category per row from softmax(logits) by the Gumbel-max trick: what the Gumbel-softmax
    stands in for during training. Taking the argmax instead would collapse every column to its mode."""
    uniform = torch.rand(logits.shape, device=logits.device, generator=generator).clamp_(1e-10, 1.0)
    return (logits - torch.log(-torch.log(uniform))).argmax(dim=1)
