"""ganforge: synthetic data from generative adversarial networks, with the evaluation to trust it."""

from .config import TabularConfig, TrainConfig
from .errors import GanforgeError
from .tabular.synthesizer import TabularSynthesizer

__all__ = ["GanforgeError", "TabularConfig", "TabularSynthesizer", "TrainConfig"]
__version__ = "0.1.0"
