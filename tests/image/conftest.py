import pytest

from ganforge.datasets import load_image_dataset
from ganforge.image.features import train_feature_net


@pytest.fixture(scope="session")
def digits():
    return load_image_dataset("digits")


@pytest.fixture(scope="session")
def digit_features(digits):
    """The offline extractor, trained once for the session on the real digits."""
    return train_feature_net(digits, seed=0, steps=300)
