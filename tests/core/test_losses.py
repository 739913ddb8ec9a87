import math

import pytest
import torch
from torch import nn

from ganforge.core.losses import LOSSES
from ganforge.core.penalties import gradient_penalty, r1_penalty


def test_minimax_is_the_textbook_formula():
    d_real, d_fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    sigmoid = torch.sigmoid
    expected_d = -torch.log(sigmoid(d_real)).mean() - torch.log(1 - sigmoid(d_fake)).mean()
    expected_g = torch.log(1 - sigmoid(d_fake)).mean()
    loss = LOSSES["minimax"]
    assert torch.allclose(loss.discriminator(d_real, d_fake), expected_d)
    assert torch.allclose(loss.generator(d_fake), expected_g)


def test_nonsaturating_generator_is_minus_log_d():
    d_fake = torch.tensor([0.3, -2.0])
    assert torch.allclose(LOSSES["nonsaturating"].generator(d_fake), -torch.log(torch.sigmoid(d_fake)).mean())


def test_minimax_stays_finite_on_extreme_scores():
    scores = torch.tensor([1e4, -1e4])
    loss = LOSSES["minimax"]
    assert torch.isfinite(loss.discriminator(scores, -scores)) and torch.isfinite(loss.generator(scores))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_discriminator_loss_rewards_telling_real_from_fake(name):
    loss = LOSSES[name]
    confident = loss.discriminator(torch.full((8,), 3.0), torch.full((8,), -3.0))
    confused = loss.discriminator(torch.full((8,), -3.0), torch.full((8,), 3.0))
    assert confident < confused


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_generator_loss_rewards_fooling_the_discriminator(name):
    loss = LOSSES[name]
    assert loss.generator(torch.full((8,), 3.0)) < loss.generator(torch.full((8,), -3.0))


def test_hinge_and_lsgan_values():
    assert math.isclose(LOSSES["hinge"].discriminator(torch.tensor([0.5]), torch.tensor([0.0])).item(), 1.5)
    assert math.isclose(LOSSES["lsgan"].discriminator(torch.tensor([1.0]), torch.tensor([0.0])).item(), 0.0)


def test_gradient_penalty_is_zero_for_a_unit_norm_linear_critic():
    critic_layer = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        critic_layer.weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0]]))
    critic = lambda x, condition: critic_layer(x)  # noqa: E731
    real, fake = torch.randn(16, 4), torch.randn(16, 4)
    assert gradient_penalty(critic, real, fake, None).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic_layer.weight.mul_(3)
    assert gradient_penalty(critic, real, fake, None).item() == pytest.approx(4.0, rel=1e-5)


def test_packed_gradient_penalty_takes_the_norm_over_each_pack():
    critic_layer = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic_layer.weight.copy_(torch.tensor([[1.0, 0.0]]))
    critic = lambda x, condition: critic_layer(x)  # noqa: E731
    # each pack of 4 rows has gradient norm sqrt(4) = 2, so the penalty is (2 - 1)^2
    assert gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2), None, group_size=4).item() == \
        pytest.approx(1.0, rel=1e-5)


def test_r1_penalty_is_the_squared_gradient_norm():
    critic_layer = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic_layer.weight.copy_(torch.tensor([[1.0, 2.0, 2.0]]))
    assert r1_penalty(lambda x, c: critic_layer(x), torch.randn(5, 3), None).item() == pytest.approx(9.0)
