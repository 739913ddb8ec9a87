"""The alternating discriminator/generator loop, shared by every modality.

A modality hands over its two networks and a `GanProblem`: where real batches (and their conditions) come
from, and how the generator's output for a condition is produced, with any auxiliary generator loss.
"""

from __future__ import annotations

import copy
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from ..config import TrainConfig
from ..errors import GanforgeError
from .losses import LOSSES
from .penalties import gradient_penalty, r1_penalty

Tensor = torch.Tensor
log = logging.getLogger(__name__)


class GanProblem(Protocol):
    def real_batch(self) -> tuple[Tensor, Tensor | None]:
        """A batch of real rows/images on the training device and the condition that selected them."""

    def sample_condition(self) -> Tensor | None:
        """Conditions for a generator step (None for an unconditional model)."""

    def generate(self, generator: nn.Module, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        """Fake samples for `condition` as the discriminator sees them, and an extra generator loss (or 0)."""


@dataclass
class TrainResult:
    generator: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_by: str = "epochs"
    seconds: float = 0.0


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Exponential moving average of the generator's weights (Yazici et al. 2019); buffers are copied."""
    for averaged, current in zip(average.parameters(), model.parameters()):
        averaged.lerp_(current, 1.0 - decay)
    for averaged, current in zip(average.buffers(), model.buffers()):
        averaged.copy_(current)


def train_gan(generator: nn.Module, discriminator: nn.Module, problem: GanProblem, config: TrainConfig,
              steps_per_epoch: int, pack: int = 1, description: str = "fit") -> TrainResult:
    """Play the game for `config.epochs` (or until `config.max_minutes`); return the EMA generator."""
    loss = LOSSES[config.loss]
    betas = (config.beta1, config.beta2)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=config.generator_lr, betas=betas,
                                   weight_decay=config.weight_decay)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=config.discriminator_lr, betas=betas,
                                   weight_decay=config.weight_decay)
    average = copy.deepcopy(generator).requires_grad_(False)
    use_gradient_penalty = loss.needs_gradient_penalty and config.gradient_penalty > 0
    deadline = None if config.max_minutes is None else time.monotonic() + 60 * config.max_minutes
    result = TrainResult(generator=average)
    start = time.monotonic()
    step = 0
    progress = tqdm(range(config.epochs), desc=description, unit="epoch", leave=False,
                    disable=not sys.stderr.isatty(), dynamic_ncols=True)
    for epoch in progress:
        generator.train()
        discriminator.train()
        totals: Tensor | float = 0.0
        steps_done = 0
        for _ in range(steps_per_epoch):
            for _ in range(config.n_critic):
                real, condition = problem.real_batch()
                with torch.no_grad():
                    fake, _ = problem.generate(generator, condition)
                loss_d = loss.discriminator(discriminator(real, condition), discriminator(fake, condition))
                if use_gradient_penalty:
                    loss_d = loss_d + config.gradient_penalty * gradient_penalty(
                        discriminator, real, fake, condition, group_size=pack)
                if config.r1_penalty > 0:
                    loss_d = loss_d + 0.5 * config.r1_penalty * r1_penalty(discriminator, real, condition)
                optimizer_d.zero_grad(set_to_none=True)
                loss_d.backward()
                optimizer_d.step()

            condition = problem.sample_condition()
            fake, auxiliary = problem.generate(generator, condition)
            loss_g = loss.generator(discriminator(fake, condition)) + auxiliary
            optimizer_g.zero_grad(set_to_none=True)
            loss_g.backward()
            optimizer_g.step()
            step += 1
            update_ema(average, generator, min(config.ema_decay, (1 + step) / (10 + step)))
            totals = totals + torch.stack([loss_d.detach(), loss_g.detach()])
            steps_done += 1
            if deadline is not None and time.monotonic() > deadline:
                result.stopped_by = "time"
                break

        loss_d_mean, loss_g_mean = (totals / steps_done).tolist()  # one sync per epoch
        if not (math.isfinite(loss_d_mean) and math.isfinite(loss_g_mean)):
            raise GanforgeError(f"training diverged at epoch {epoch + 1} (losses D={loss_d_mean}, "
                                f"G={loss_g_mean}); try a lower learning rate or another --loss")
        result.history.append({"epoch": epoch + 1, "loss_d": loss_d_mean, "loss_g": loss_g_mean,
                               "seconds": time.monotonic() - start})
        progress.set_postfix(loss_d=f"{loss_d_mean:.3f}", loss_g=f"{loss_g_mean:.3f}")
        if result.stopped_by == "time":
            log.info("stopped after %d epochs: the %.1f-minute budget is spent", epoch + 1, config.max_minutes)
            break
    progress.close()
    result.seconds = time.monotonic() - start
    average.eval()
    return result
