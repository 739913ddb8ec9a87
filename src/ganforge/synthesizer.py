"""What every synthesizer shares: the fitted check, and a model folder written and read the same way for every
kind of data (settings as JSON, weights as safetensors; `save`/`load` as Hugging Face's
`save_pretrained`/`from_pretrained`). `ganforge.load(path)` gives back the right class for any folder."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .errors import GanforgeError
from .persist import CONFIG_FILE, load_model_folder, save_model_folder

if TYPE_CHECKING:
    import torch

S = TypeVar("S", bound="Synthesizer")
C = TypeVar("C")
CLASSES = {"tabular": ("ganforge.tabular.synthesizer", "TabularSynthesizer"),
           "image": ("ganforge.image.synthesizer", "ImageSynthesizer"),
           "text": ("ganforge.text.synthesizer", "TextSynthesizer"),
           "audio": ("ganforge.audio.synthesizer", "AudioSynthesizer")}


class Synthesizer:
    """A subclass names its `model_type` and writes `state()` / `from_state()`; saving and loading follow."""

    model_type: ClassVar[str]

    @staticmethod
    def merge_settings(train, own: C | None, own_class: type[C], defaults: dict[str, Any],
                       settings: dict[str, Any]) -> tuple[Any, C]:
        """(TrainConfig, the modality's config) from dataclasses and keywords: keywords win, a name no config
        has is an error; without a TrainConfig the game starts from the modality's `defaults`."""
        from .config import TrainConfig, split_settings, to_dict

        train_settings, own_settings = split_settings(settings, TrainConfig, own_class)
        base = to_dict(train) if train is not None else {**to_dict(TrainConfig()), **defaults}
        return (TrainConfig(**{**base, **train_settings}),
                own_class(**{**to_dict(own if own is not None else own_class()), **own_settings}))

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise GanforgeError("this synthesizer is not fitted yet: call fit() or load() first")

    def state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """What the model folder holds: settings and records (JSON-ready), and the weights by name."""
        raise NotImplementedError

    @classmethod
    def from_state(cls: type[S], config: dict, weights: dict[str, torch.Tensor], source: str | os.PathLike,
                   device: str = "auto") -> S:
        """The inverse of `state`; `source` is the config file, named in error messages."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike, force: bool = False) -> Path:
        """A model folder at `path`, written whole or not at all; an existing one is replaced only with force."""
        self._check_fitted()
        config, weights = self.state()
        return save_model_folder(path, {"model_type": self.model_type, **config}, weights, force=force)

    @classmethod
    def load(cls: type[S], path: str | os.PathLike, device: str = "auto") -> S:
        config, weights = load_model_folder(path, cls.model_type)
        return cls.from_state(config, weights, Path(path) / CONFIG_FILE, device)


class LabelledSynthesizer(Synthesizer):
    """A synthesizer whose samples may carry a class (images, sounds): `classes_` names them and
    `class_counts_` gives their training frequencies; both are empty for an unconditional model."""

    classes_: list[str]
    class_counts_: list[int]

    def label_index(self, label: str | int) -> int:
        """A class by name (its folder name or file-name prefix) or, failing that, by position."""
        if str(label) in self.classes_:
            return self.classes_.index(str(label))
        if not self.classes_:
            raise GanforgeError("this model is not conditional: it was trained without labels")
        raise GanforgeError(f"unknown label {label!r}; the model's classes are: {', '.join(self.classes_)}")

    def draw_labels(self, n: int, label: str | int | None, generator: torch.Generator) -> torch.Tensor | None:
        """`n` class indices: all `label` when given, else drawn at the training frequencies; None for an
        unconditional model (which refuses a label)."""
        import torch

        if not self.classes_:
            if label is not None:
                self.label_index(label)
            return None
        if label is not None:
            return torch.full((n,), self.label_index(label), dtype=torch.long)
        weights = torch.tensor(self.class_counts_, dtype=torch.float)
        return torch.multinomial(weights, n, replacement=True, generator=generator)

    @staticmethod
    def temperature(asked: float | None, stored: float) -> float:
        """The noise's standard deviation for a draw: the one asked for, else the model's own."""
        temperature = stored if asked is None else asked
        if temperature <= 0:
            raise GanforgeError(f"--temperature must be positive, got {temperature}")
        return temperature


def load(path: str | os.PathLike, device: str = "auto") -> Synthesizer:
    """Any model folder, as the synthesizer that wrote it; config.json is read once."""
    config, weights = load_model_folder(path)
    kind = config["model_type"]
    if kind not in CLASSES:
        raise GanforgeError(f"{Path(path) / CONFIG_FILE}: unknown model type {kind!r} "
                            f"(this ganforge reads {', '.join(CLASSES)})")
    module, name = CLASSES[kind]
    return getattr(import_module(module), name).from_state(config, weights, Path(path) / CONFIG_FILE, device)
