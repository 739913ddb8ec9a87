"""The within-class collapse guard: a generator that ignores its noise is caught, a varied one is not, and a
fit that ends collapsed gets its last healthy generator back."""

import torch
from torch import nn

from ganforge.core.diversity import COLLAPSE_SPREAD, CollapseGuard, class_spread, real_spread
from ganforge.core.progress import Progress

NOISE = 8


class Fixed(nn.Module):
    """One picture per class whatever the noise (`vary`=0), or pictures that follow the noise."""

    def __init__(self, vary: float):
        super().__init__()
        self.pictures = nn.Parameter(torch.rand(3, 1, 4, 4) * 2 - 1)
        self.mix = nn.Linear(NOISE, 16)
        self.vary = vary

    def forward(self, noise, condition):
        base = self.pictures[condition.argmax(1)]
        return (base + self.vary * self.mix(noise).reshape(-1, 1, 4, 4)).clamp(-1, 1)


def real_images():
    torch.manual_seed(0)
    images = torch.rand(90, 1, 4, 4) * 2 - 1
    return images, torch.arange(90) % 3


def test_a_generator_that_ignores_its_noise_is_caught_and_a_varied_one_is_not():
    images, labels = real_images()
    reference = real_spread(images, labels, 3)
    collapsed = class_spread(Fixed(0.0), reference, NOISE, "cpu", conditional=True)
    lively = Fixed(3.0)
    varied = class_spread(lively, reference, NOISE, "cpu", conditional=True)
    assert len(collapsed) == 3 and max(collapsed) < 0.01
    assert min(varied) > COLLAPSE_SPREAD
    assert class_spread(lively, reference, NOISE, "cpu", conditional=True) == varied  # fixed noise: checks compare


def test_training_that_ends_collapsed_gets_the_last_healthy_generator_back():
    images, labels = real_images()
    generator = Fixed(3.0)
    guard = CollapseGuard(images, labels, ["a", "b", "c"], NOISE)
    guard(Progress("adversarial", 1, {}, generator))
    healthy = {k: v.clone() for k, v in generator.state_dict().items()}
    with torch.no_grad():
        generator.mix.weight.zero_()
        generator.mix.bias.zero_()  # from here on it ignores its noise
    guard(Progress("adversarial", 2, {}, generator))
    record = guard.finish(generator)
    assert "restored the EMA generator of epoch 1" in record["action"] and "a, b, c" in record["action"]
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in healthy.items())
    fine = CollapseGuard(images, labels, ["a", "b", "c"], NOISE)
    fine(Progress("adversarial", 1, {}, Fixed(3.0)))
    assert fine.finish(Fixed(3.0))["action"] is None


def healthy_then_collapsed(last_epoch: int) -> tuple[CollapseGuard, Fixed, dict]:
    """A guard that saw a varied generator at epoch 1 and a collapsed one up to `last_epoch`."""
    images, labels = real_images()
    generator = Fixed(3.0)
    guard = CollapseGuard(images, labels, ["a", "b", "c"], NOISE)
    guard(Progress("adversarial", 1, {}, generator))
    with torch.no_grad():
        generator.mix.weight.zero_()
        generator.mix.bias.zero_()
    for epoch in range(2, last_epoch + 1):
        guard(Progress("adversarial", epoch, {}, generator))
    return guard, generator, {k: v.clone() for k, v in generator.state_dict().items()}


def test_with_the_guard_off_a_collapse_is_recorded_and_kept():
    guard, generator, collapsed = healthy_then_collapsed(2)
    record = guard.finish(generator, restore=False)
    assert "the guard is off: kept" in record["action"]
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in collapsed.items())


def test_a_healthy_generator_from_early_in_training_is_not_put_back():
    guard, generator, collapsed = healthy_then_collapsed(4)
    record = guard.finish(generator)
    assert "too early" in record["action"] and "epoch 1 of 4" in record["action"]
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in collapsed.items())
