"""Image networks: shapes for every architecture, size, channel count and conditioning; augmentation; the
penalties on image tensors."""

import pytest
import torch

from ganforge.core.penalties import gradient_penalty, r1_penalty
from ganforge.image.diffaugment import DiffAugmented, colour, cutout, translation
from ganforge.image.networks import build_networks


@pytest.mark.parametrize("architecture", ["dcgan", "resnet"])
@pytest.mark.parametrize("size, channels", [(8, 1), (16, 3), (32, 1)])
@pytest.mark.parametrize("conditioning", ["none", "cgan", "acgan"])
def test_shapes(architecture, size, channels, conditioning):
    classes = 0 if conditioning == "none" else 5
    generator, discriminator = build_networks(architecture, 16, channels, size, classes, conditioning, 8,
                                              spectral_norm=architecture == "resnet", batch_norm=True)
    condition = None if not classes else torch.nn.functional.one_hot(torch.arange(4) % 5, 5).float()
    images = generator(torch.randn(4, 16), condition)
    assert images.shape == (4, channels, size, size) and images.abs().max() <= 1
    scores = discriminator(images, condition)
    assert scores.shape == (4, 1 + (classes if conditioning == "acgan" else 0))


def test_projection_makes_the_score_depend_on_the_label():
    _, discriminator = build_networks("dcgan", 8, 1, 8, 3, "cgan", 8, spectral_norm=False, batch_norm=False)
    images = torch.randn(2, 1, 8, 8)
    first = discriminator(images, torch.eye(3)[[0, 0]])
    second = discriminator(images, torch.eye(3)[[1, 1]])
    assert not torch.allclose(first, second)


def test_diffaugment_keeps_shapes_changes_images_and_passes_gradients():
    torch.manual_seed(0)
    images = torch.randn(6, 3, 16, 16, requires_grad=True)
    for augmentation in (colour, translation, cutout):
        out = augmentation(images)
        assert out.shape == images.shape and not torch.equal(out, images)
    _, discriminator = build_networks("dcgan", 8, 3, 16, 0, "none", 8, spectral_norm=True, batch_norm=False)
    wrapped = DiffAugmented(discriminator)
    wrapped(images).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    wrapped.eval()
    assert torch.equal(wrapped(images.detach()), discriminator(images.detach()))  # no augmentation in eval


def test_penalties_work_on_image_batches():
    _, discriminator = build_networks("dcgan", 8, 1, 8, 0, "none", 8, spectral_norm=False, batch_norm=False)
    real, fake = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8)
    assert gradient_penalty(discriminator, real, fake, None).ndim == 0
    assert r1_penalty(discriminator, real, None) > 0
