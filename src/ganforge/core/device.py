"""Where training runs and how it is made repeatable."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

from ..errors import GanforgeError


def choose_device(name: str = "auto") -> torch.device:
    """'auto' takes CUDA when present, else the CPU; an explicit device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanforgeError(f"device {name!r} asked for, but no CUDA GPU is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise GanforgeError(f"device {name!r} asked for, but MPS is not available")
    return device


def seed_everything(seed: int | None) -> np.random.Generator:
    """Seed torch, NumPy and random so a CPU run repeats exactly; returns a NumPy generator to pass around."""
    if seed is None:
        return np.random.default_rng()
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


Fit = TypeVar("Fit", bound=Callable)


def flushing_subnormals(fit: Fit) -> Fit:
    """Run `fit` with subnormal floats flushed to zero on the CPU, and put the processor's setting back after:
    a few of them (squared gradients of 1e-20, activations that died away) slow every operation that touches
    them a hundredfold (a private fit of 3,000 survey rows took 124 s where it usually takes 6), but the
    setting is the whole process's, NumPy's included, so it must not outlast the fit."""

    @functools.wraps(fit)
    def flushed(*args, **kwargs):
        kept = torch.tensor([1e-40]).item() != 0.0  # whether subnormals survive now (torch has no getter)
        torch.set_flush_denormal(True)  # a no-op where the processor cannot do it
        try:
            return fit(*args, **kwargs)
        finally:
            torch.set_flush_denormal(not kept)

    return flushed  # type: ignore[return-value]
