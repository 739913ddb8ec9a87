"""Typed, frozen settings: one dataclass per concern, validated when built, stored as JSON in the model folder."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .errors import GanforgeError

LOSS_NAMES = ("wgan-gp", "hinge", "nonsaturating", "minimax", "lsgan")
COLUMN_KINDS = ("continuous", "integer", "categorical", "boolean", "datetime", "constant", "id")

T = TypeVar("T")
REFERENCE_BATCH = 500


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise GanforgeError(f"invalid setting {field_name}: {message}")


@dataclass(frozen=True)
class TrainConfig:
    """How the adversarial game is played; shared by every modality."""

    epochs: int = 300
    max_minutes: float | None = None
    batch_size: int = 500
    loss: str = "wgan-gp"
    n_critic: int = 1
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.9
    weight_decay: float = 1e-6
    gradient_penalty: float = 10.0
    r1_penalty: float = 0.0
    spectral_norm: bool = False
    ema_decay: float = 0.995
    seed: int | None = 0
    device: str = "auto"
    mixed_precision: bool = False  # bfloat16 autocast for the networks' passes; penalties stay float32
    compile: bool = False  # torch.compile the generator (the discriminator's penalty needs double backward)

    @property
    def learning_rate_scale(self) -> float:
        """Batches above REFERENCE_BATCH raise both learning rates by the square root of the ratio (the usual
        rule for Adam), so a GPU-sized batch learns about as fast per epoch as the reference one."""
        return max(1.0, (self.batch_size / REFERENCE_BATCH) ** 0.5)

    def __post_init__(self) -> None:
        _require(self.epochs >= 1, "epochs", f"must be at least 1, got {self.epochs}")
        _require(self.max_minutes is None or self.max_minutes > 0, "max_minutes",
                 f"must be positive, got {self.max_minutes}")
        _require(self.batch_size >= 2, "batch_size", f"must be at least 2, got {self.batch_size}")
        _require(self.loss in LOSS_NAMES, "loss", f"{self.loss!r} is not one of {', '.join(LOSS_NAMES)}")
        _require(self.n_critic >= 1, "n_critic", f"must be at least 1, got {self.n_critic}")
        for name in ("generator_lr", "discriminator_lr"):
            _require(getattr(self, name) > 0, name, f"must be positive, got {getattr(self, name)}")
        for name in ("beta1", "beta2", "ema_decay"):
            _require(0 <= getattr(self, name) < 1, name, f"must be in [0, 1), got {getattr(self, name)}")
        for name in ("weight_decay", "gradient_penalty", "r1_penalty"):
            _require(getattr(self, name) >= 0, name, f"must not be negative, got {getattr(self, name)}")
        _require(self.device == "auto" or self.device.split(":")[0] in ("cpu", "cuda", "mps"), "device",
                 f"{self.device!r} is not auto, cpu, cuda[:N] or mps")


@dataclass(frozen=True)
class TabularConfig:
    """How a table is encoded and which networks learn it."""

    column_kinds: dict[str, str] = field(default_factory=dict)
    max_modes: int = 10
    max_categories: int = 200
    mixture_sample_size: int = 20_000
    embedding_dim: int = 128
    generator_dims: tuple[int, ...] = (256, 256)
    discriminator_dims: tuple[int, ...] = (256, 256)
    pack: int = 10
    focus_columns: tuple[str, ...] = ()  # condition training on these categorical columns only

    def __post_init__(self) -> None:
        for column, kind in self.column_kinds.items():
            _require(kind in COLUMN_KINDS, "column_kinds",
                     f"column {column!r}: kind {kind!r} is not one of {', '.join(COLUMN_KINDS)}")
        _require(self.max_modes >= 1, "max_modes", f"must be at least 1, got {self.max_modes}")
        _require(self.max_categories >= 2, "max_categories", f"must be at least 2, got {self.max_categories}")
        _require(self.mixture_sample_size >= 100, "mixture_sample_size", "must be at least 100")
        _require(self.embedding_dim >= 1, "embedding_dim", "must be at least 1")
        _require(all(d >= 1 for d in self.generator_dims), "generator_dims", "sizes must be positive")
        _require(all(d >= 1 for d in self.discriminator_dims), "discriminator_dims", "sizes must be positive")
        _require(self.pack >= 1, "pack", f"must be at least 1, got {self.pack}")


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a config from JSON, naming unknown keys rather than ignoring them."""
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise GanforgeError(f"unknown {cls.__name__} settings: {', '.join(unknown)}")
    values = {}
    for name, value in data.items():
        if isinstance(value, list) and known[name].type.startswith("tuple"):  # type: ignore[union-attr]
            value = tuple(value)
        values[name] = value
    return cls(**values)
