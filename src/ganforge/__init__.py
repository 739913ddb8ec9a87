"""ganforge: synthetic data from generative adversarial networks, with the evaluation to trust it."""

from .config import ImageConfig, TabularConfig, TrainConfig
from .errors import GanforgeError
from .image.synthesizer import ImageSynthesizer
from .tabular.synthesizer import TabularSynthesizer

__all__ = ["GanforgeError", "ImageConfig", "ImageSynthesizer", "TabularConfig", "TabularSynthesizer", "TrainConfig"]
__version__ = "0.1.0"
