from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from ganforge.datasets import SPOKEN_DIGITS

RATE = 8000


def tone(frequency: float, seconds: float = 0.3, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """A short tone with a little noise, as 16-bit PCM."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * frequency * t) + 0.02 * rng.standard_normal(len(t))
    return (wave * 32767).astype(np.int16)


def write_wav(path: Path, data: np.ndarray, rate: int = RATE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, rate, data)
    return path


@pytest.fixture(scope="session")
def spoken_digits(tmp_path_factory) -> Path:
    """40 of the bundled recordings (4 of each digit), labelled by their file-name prefix."""
    folder = tmp_path_factory.mktemp("spoken") / "digits"
    folder.mkdir()
    for digit in range(10):
        for index in range(4):
            name = f"{digit}_theo_{index}.wav"
            (folder / name).write_bytes((SPOKEN_DIGITS / name).read_bytes())
    return folder
