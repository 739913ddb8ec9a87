"""Within-class diversity while training. A conditional generator can draw one picture (or sound) per class
and still look varied over a whole batch (ten classes, ten pictures), so the spread is measured class by class:
the per-value spread of a class's generated samples (pixels, spectrogram bins, wave samples) over that of its
real ones."""

from __future__ import annotations

import copy
import logging

import torch
from torch import nn

from .progress import Progress

Tensor = torch.Tensor
log = logging.getLogger(__name__)
COLLAPSE_SPREAD = 0.35  # a class whose samples vary less than this share of its real images has collapsed
SAMPLES_PER_CLASS = 32


@torch.no_grad()
def real_spread(real: Tensor, labels: Tensor | None, classes: int) -> list[float]:
    """Per class (one value when unconditional): the real images' mean per-pixel standard deviation."""
    spreads = []
    for index in range(max(classes, 1)):
        mine = real if classes == 0 else real[labels == index]
        spreads.append(float(mine.float().std(dim=0).mean().clamp_min(1e-6)) if len(mine) > 1 else 1.0)
    return spreads


@torch.no_grad()
def class_spread(generator: nn.Module, reference: list[float], noise_dim: int, device: torch.device | str,
                 conditional: bool, seed: int = 0) -> list[float]:
    """Per class: the mean per-pixel standard deviation of SAMPLES_PER_CLASS generated images over the real
    class's (`reference`, from `real_spread`); about 1 is as varied as real, near 0 is one picture. Fixed
    noise on a side random stream, so training is unaffected and checks compare."""
    was_training = generator.training
    generator.eval()
    spreads = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for index, real in enumerate(reference):
            noise = torch.randn(SAMPLES_PER_CLASS, noise_dim).to(device)
            condition = None
            if conditional:
                condition = nn.functional.one_hot(torch.full((SAMPLES_PER_CLASS,), index), len(reference))
                condition = condition.float().to(device)
            fake = generator(noise, condition).float()
            spreads.append(round(float(fake.std(dim=0).mean()) / real, 4))
    generator.train(was_training)
    return spreads


EARLIEST_RESTORE = 0.5  # a healthy generator from before this share of the epochs is not put back


class CollapseGuard:
    """Called after every epoch with the EMA generator: keeps a copy of the last generator under which every
    class was varied enough, and, if training ends collapsed, `finish` puts that one back (and says so)."""

    def __init__(self, real: Tensor, labels: Tensor | None, classes: list[str], noise_dim: int):
        self.reference = real_spread(real, labels, len(classes))  # once: the real images do not change
        self.device, self.classes, self.noise_dim = real.device, classes, noise_dim
        self.healthy_state: dict | None = None
        self.healthy_epoch = 0
        self.last: list[float] = []
        self.collapsed_at: int | None = None
        self.epoch = 0

    def __call__(self, progress: Progress) -> None:
        epoch, generator = progress.epoch, progress.generator
        self.epoch = epoch
        self.last = class_spread(generator, self.reference, self.noise_dim, self.device, bool(self.classes))
        low = self.low_classes()
        if not low:
            self.healthy_state, self.healthy_epoch = copy.deepcopy(generator.state_dict()), epoch
            self.collapsed_at = None
        elif self.collapsed_at is None:
            self.collapsed_at = epoch
            log.warning("epoch %d: class(es) %s vary less than %.0f%% of their real samples: collapse", epoch,
                        ", ".join(low), 100 * COLLAPSE_SPREAD)

    def low_classes(self) -> list[str]:
        names = self.classes or ["all samples"]
        return [name for name, spread in zip(names, self.last) if spread < COLLAPSE_SPREAD]

    def finish(self, generator: nn.Module, restore: bool = True) -> dict:
        """The record for the model; restores the last healthy generator when training ended collapsed (unless
        `restore` is off: then the collapse is only recorded)."""
        record = {"spread_per_class": dict(zip(self.classes or ["all samples"], self.last)), "action": None}
        low = self.low_classes()
        if low and not restore:
            record["action"] = f"collapse in {', '.join(low)} from epoch {self.collapsed_at}; the guard is off: kept"
        elif low and self.healthy_state is not None and self.healthy_epoch < EARLIEST_RESTORE * self.epoch:
            # an EMA generator from early in training is a blur of its first steps, worse than a collapsed one
            # (32 px digits: the epoch-8 generator of 16 scored FID 654 against 19 for the last)
            record["action"] = (f"collapse in {', '.join(low)} from epoch {self.collapsed_at}; the last varied "
                                f"generator (epoch {self.healthy_epoch} of {self.epoch}) is too early to be "
                                "better: kept the last")
            log.warning(record["action"])
        elif low and self.healthy_state is not None:
            generator.load_state_dict(self.healthy_state)
            record["action"] = (f"collapse in {', '.join(low)} from epoch {self.collapsed_at}: restored the "
                                f"EMA generator of epoch {self.healthy_epoch}, the last with every class varied")
            log.warning(record["action"])
        elif low:
            record["action"] = (f"collapse in {', '.join(low)} from epoch {self.collapsed_at}, and no earlier "
                                "epoch was healthy: kept the last generator")
            log.warning(record["action"])
        return record
