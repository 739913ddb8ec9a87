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


def native_bfloat16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware: a CUDA GPU that supports it, or a CPU with AVX-512 BF16
    or AMX. There, bfloat16 convolutions run 1.5-1.7x faster than float32 ones; elsewhere they are emulated and
    slower, so mixed precision is only a default where this holds."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's own probes
        return any(getattr(torch.cpu, check, lambda: False)() for check in checks)
    return False


def resolve_precision(asked: bool | None, device: torch.device) -> bool:
    """Mixed precision for convolutional networks: what was asked, or where the device computes bfloat16
    natively."""
    return native_bfloat16(device) if asked is None else asked


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
