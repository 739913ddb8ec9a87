"""Regularisers on the critic's gradients, called by the trainer when the configuration asks for them."""

from __future__ import annotations

from collections.abc import Callable

import torch

Tensor = torch.Tensor
Critic = Callable[[Tensor, Tensor | None], Tensor]


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, condition: Tensor | None,
                     group_size: int = 1) -> Tensor:
    """WGAN-GP: E[(||grad D(x_hat)|| - 1)^2] on random interpolates (Gulrajani et al. 2017).

    `group_size` > 1 takes the norm over packs of rows, for a packed discriminator (Lin et al. 2018).
    """
    alpha = torch.rand(real.shape[0] // group_size, *[1] * (real.dim() - 1), device=real.device, dtype=real.dtype)
    alpha = alpha.repeat_interleave(group_size, dim=0).expand_as(real)  # rows (N, F) or images (N, C, H, W)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(interpolates, condition)
    (gradients,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    norms = gradients.reshape(real.shape[0] // group_size, -1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


def r1_penalty(critic: Critic, real: Tensor, condition: Tensor | None) -> Tensor:
    """R1: E[||grad D(x)||^2] on real data (Mescheder et al. 2018); the caller scales it by gamma / 2."""
    real = real.detach().requires_grad_(True)
    scores = critic(real, condition)
    (gradients,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
    return gradients.pow(2).reshape(gradients.shape[0], -1).sum(1).mean()
