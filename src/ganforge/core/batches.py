"""Batches for the game when every sample is one tensor and labels are optional."""

from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor


class ConditionalBatches:
    """Random batches of real samples (images, spectrograms, waves; with their one-hot labels) and the
    generator's samples for labels: the `GanProblem` of every modality whose samples are one tensor each."""

    def __init__(self, samples: Tensor, labels: Tensor | None, classes: int, batch_size: int, noise_dim: int,
                 mode_seeking: float = 0.0, class_guidance: float = 0.0):
        self.samples, self.batch_size, self.noise_dim = samples, batch_size, noise_dim
        self.one_hot = None if labels is None else nn.functional.one_hot(labels, classes).float()
        self.mode_seeking, self.class_guidance = mode_seeking, class_guidance

    def real_batch(self) -> tuple[Tensor, Tensor | None]:
        rows = torch.randint(len(self.samples), (self.batch_size,), device=self.samples.device)
        return self.samples[rows], None if self.one_hot is None else self.one_hot[rows]

    def sample_condition(self) -> Tensor | None:
        """Labels for a generator step; with mode seeking, the second half repeats the first (pairs of noises
        for one label)."""
        if self.one_hot is None:
            return None
        condition = self.one_hot[torch.randint(len(self.one_hot), (self.batch_size,), device=self.one_hot.device)]
        half = self.batch_size // 2
        if self.mode_seeking > 0 and half > 0:
            condition = torch.cat([condition[:half], condition[:half], condition[2 * half:]])
        return condition

    def generate(self, generator: nn.Module, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        rows = self.batch_size if condition is None else len(condition)
        noise = torch.randn(rows, self.noise_dim, device=self.samples.device)
        half = rows // 2
        seeking = self.mode_seeking > 0 and half > 0 and torch.is_grad_enabled()  # the generator's step
        fake = generator(noise, condition)
        if not seeking:
            return fake, fake.new_zeros(())
        # mode seeking (Mao et al. 2019): two noises must not give the same picture for one label
        apart = (fake[:half] - fake[half:2 * half]).abs().mean() / (noise[:half] - noise[half:2 * half]).abs().mean()
        return fake, self.mode_seeking / (apart + 1e-5)
