"""What a fit tells its caller after each epoch, in one shape for every kind of data, so one callback can
watch (or stop) any synthesizer: `fit(data, progress=callback)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Progress:
    """One finished epoch. `generator` is the one the fit would keep now (the EMA copy in a GAN phase, in
    train mode: use it under torch.no_grad() and eval()); None where a phase has none to show."""

    phase: str
    epoch: int
    figures: dict[str, float] = field(default_factory=dict)
    generator: nn.Module | None = None

    def line(self) -> str:
        """The epoch as one log line: '  adversarial epoch 3: loss_d 1.2, loss_g 0.8'."""
        shown = ", ".join(f"{key} {value:.4g}" for key, value in self.figures.items()
                          if isinstance(value, (int, float)) and key != "epoch")
        return f"  {self.phase} epoch {self.epoch}" + (f": {shown}" if shown else "")


# returning True asks the fit to stop after this epoch (it then ends as a finished fit would, with a model)
ProgressCallback = Callable[[Progress], "bool | None"]


def both(first: ProgressCallback | None, second: ProgressCallback | None) -> ProgressCallback | None:
    """Two watchers as one: both hear every epoch; either may stop the fit."""
    if first is None or second is None:
        return first or second

    def call(progress: Progress) -> bool:
        stop_first, stop_second = first(progress), second(progress)
        return bool(stop_first) or bool(stop_second)
    return call
