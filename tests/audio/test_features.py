import numpy as np
import torch

from ganforge.audio.data import read_audio
from ganforge.audio.features import accuracy, train_extractor
from ganforge.datasets import SPOKEN_DIGITS


def test_the_extractor_names_recordings_it_never_saw():
    """The judge of label accuracy must itself be right: trained on recordings 10-49 of the bundled speaker, it
    names recordings 0-9 of each digit far above chance (0.1)."""
    files = sorted(SPOKEN_DIGITS.glob("*.wav"))  # the order read_audio reads them in
    audio = read_audio(SPOKEN_DIGITS)
    held = np.array([int(f.stem.split("_")[2]) < 10 for f in files])
    extractor = train_extractor(audio.subset(~held), samples=6144, seed=0, steps=150)
    test = audio.subset(held)
    score = accuracy(extractor.net, extractor.view(test), torch.as_tensor(test.labels))
    assert score >= 0.85
