"""ganforge: synthetic data from generative adversarial networks, with the evaluation to trust it.

The synthesizers are imported on first use (PEP 562), so `import ganforge` and `ganforge --help` do not pay
for torch."""

from importlib import import_module
from typing import Any

from .config import AudioConfig, ImageConfig, TabularConfig, TextConfig, TrainConfig
from .errors import GanforgeError

_LAZY = {"AudioSynthesizer": ".audio.synthesizer", "ImageSynthesizer": ".image.synthesizer",
         "TabularSynthesizer": ".tabular.synthesizer", "TextSynthesizer": ".text.synthesizer",
         "Synthesizer": ".synthesizer", "load": ".synthesizer"}

__all__ = ["AudioConfig", "AudioSynthesizer", "GanforgeError", "ImageConfig", "ImageSynthesizer", "Synthesizer",
           "TabularConfig", "TabularSynthesizer", "TextConfig", "TextSynthesizer", "TrainConfig", "load"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
