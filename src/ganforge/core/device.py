"""Where training runs and how it is made repeatable."""

from __future__ import annotations

import random

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
