"""The tabular generator (residual MLP) and packed discriminator, and the generator's output activation."""

from __future__ import annotations

import math

import numpy as np
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

    def folded(self) -> tuple[Tensor, Tensor]:
        """The linear layer and the eval-mode batch norm as one affine map (weight, bias)."""
        norm = self.norm
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        return self.linear.weight * scale[:, None], (self.linear.bias - norm.running_mean) * scale + norm.bias


def linear_over(sources: list[Tensor], weight: Tensor, bias: Tensor) -> Tensor:
    """`cat(reversed(sources)) @ weight.T + bias` without building the concatenation: a residual block puts
    its newest input first, so the oldest source owns the last columns of `weight`."""
    out, end = None, weight.shape[1]
    for source in sources:
        part = weight[:, end - source.shape[1]:end].t()
        out = torch.addmm(bias, source, part) if out is None else out.addmm_(source, part)
        end -= source.shape[1]
    return out


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
        x = noise if condition is None else torch.cat([noise, condition], dim=1)
        if self.training or torch.is_grad_enabled():
            return self.body(x)
        return self._inference(x)

    def _inference(self, x: Tensor) -> Tensor:
        """The same map for sampling, about twice as fast on a CPU: batch norm folded into the linear layers,
        and each layer's output multiplied by its slice of every later layer's weight instead of copied into
        ever wider concatenations (those copies cost as much as the products)."""
        sources = [x]
        for block in self.body[:-1]:
            sources.append(linear_over(sources, *block.folded()).relu_())
        return linear_over(sources, self.body[-1].weight, self.body[-1].bias)


class TabularDiscriminator(nn.Module):
    """Judges packs of `pack` rows at once (PacGAN, Lin et al. 2018), which penalises mode collapse."""

    def __init__(self, input_dim: int, hidden: tuple[int, ...], pack: int, spectral_norm: bool):
        super().__init__()
        layers, width = [], input_dim * pack
        for size in hidden:
            layers += [maybe_spectral_norm(nn.Linear(width, size), spectral_norm), nn.LeakyReLU(0.2), Dropout(0.5)]
            width = size
        layers.append(maybe_spectral_norm(nn.Linear(width, 1), spectral_norm))
        self.body = nn.Sequential(*layers)
        self.pack = pack

    def forward(self, x: Tensor, condition: Tensor | None) -> Tensor:
        if condition is not None:
            x = torch.cat([x, condition], dim=1)
        return self.body(x.reshape(-1, x.shape[1] * self.pack))


def gumbel_noise(like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Standard Gumbel noise from uniforms; torch's exponential_ (used by F.gumbel_softmax) is ~5x slower on CPUs."""
    uniform = torch.rand(like.shape, device=like.device, generator=generator).clamp_(1e-10, 1.0)
    return -torch.log(-torch.log(uniform))


class Dropout(nn.Module):
    """nn.Dropout with its mask drawn by torch.rand: CPU bernoulli_ is ~3x slower and was a tenth of a step."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        return x * (torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p))


class Blocks:
    """Per-block softmax, Gumbel-softmax and sampling over all one-hot blocks of the generator's output at once.

    A table has one block per categorical column (and per mixture-mode choice), often dozens; looping over
    them costs a handful of tiny kernels each, which dominated small-batch training. Here every operation is a
    few whole-tensor kernels, with `index` telling which block each logit belongs to.
    """

    def __init__(self, layout: Layout, device: torch.device | str = "cpu"):
        sizes = np.asarray(layout.block_sizes, dtype=np.int64)
        self.n_scalars, self.count = layout.n_scalars, len(sizes)
        self.index = torch.as_tensor(np.repeat(np.arange(self.count), sizes), device=device)
        self.starts = torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64), device=device)

    def _reduce(self, values: Tensor, how: str, fill: float) -> Tensor:
        """One value per row and block: the `how` ("amax", "amin", "sum") of the block's entries."""
        out = values.new_full((values.shape[0], self.count), fill)
        return out.scatter_reduce(1, self.index.expand_as(values), values, how, include_self=how != "sum")

    def log_softmax(self, logits: Tensor) -> Tensor:
        with torch.no_grad():
            shift = self._reduce(logits, "amax", -math.inf)[:, self.index]
        shifted = logits - shift  # softmax ignores a constant per block, so the shift needs no gradient
        return shifted - self._reduce(shifted.exp(), "sum", 0.0).log()[:, self.index]

    def gumbel_softmax(self, logits: Tensor, tau: float) -> Tensor:
        """Differentiable stand-in for a one-hot draw (Jang et al. 2017), one per block."""
        return self.log_softmax((logits + gumbel_noise(logits)) / tau).exp()

    def sample(self, logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One category code per row and block, drawn from softmax(logits) by the Gumbel-max trick: what the
        Gumbel-softmax stands in for during training. Taking the argmax instead would collapse every column to
        its mode."""
        return self.argmax(logits + gumbel_noise(logits, generator))

    def argmax(self, noisy: Tensor) -> Tensor:
        """Each block's code of the largest entry (the first where entries tie)."""
        is_max = noisy == self._reduce(noisy, "amax", -math.inf)[:, self.index]
        positions = torch.arange(noisy.shape[1], device=noisy.device).expand_as(noisy)
        first = self._reduce(torch.where(is_max, positions, noisy.shape[1]), "amin", noisy.shape[1])
        return first - self.starts


def activate(raw: Tensor, blocks: Blocks) -> Tensor:
    """What the discriminator sees: tanh offsets and Gumbel-softmax one-hots."""
    scalars, logits = raw[:, :blocks.n_scalars], raw[:, blocks.n_scalars:]
    if blocks.count == 0:
        return torch.tanh(scalars)
    return torch.cat([torch.tanh(scalars), blocks.gumbel_softmax(logits, GUMBEL_TEMPERATURE)], dim=1)
