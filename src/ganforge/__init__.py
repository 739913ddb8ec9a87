"""ganforge: synthetic data from generative adversarial networks, with the evaluation to trust it."""

from .config import ImageConfig, TabularConfig, TextConfig, TrainConfig
from .errors import GanforgeError
from .image.synthesizer import ImageSynthesizer
from .tabular.synthesizer import TabularSynthesizer
from .text.synthesizer import TextSynthesizer

__all__ = ["GanforgeError", "ImageConfig", "ImageSynthesizer", "TabularConfig", "TabularSynthesizer", "TextConfig",
           "TextSynthesizer", "TrainConfig"]
__version__ = "0.1.0"
