"""The generator's sampling path must compute the same map as its training path."""

import pytest
import torch

from ganforge.tabular.networks import TabularGenerator
from ganforge.tabular.transform import Layout


def trained_generator(hidden: tuple[int, ...]) -> TabularGenerator:
    layout = Layout(n_scalars=3, block_sizes=(4, 2), conditional_blocks=(0,))
    generator = TabularGenerator(noise_dim=8, condition_dim=4, hidden=hidden, layout=layout)
    torch.manual_seed(0)
    for block in generator.body[:-1]:  # batch-norm statistics and affine terms away from their defaults
        block.norm.running_mean.normal_()
        block.norm.running_var.uniform_(0.5, 2.0)
        block.norm.weight.data.uniform_(0.5, 1.5)
        block.norm.bias.data.normal_()
    return generator


@pytest.mark.parametrize("hidden", [(16,), (16, 32), (8, 8, 8)])
def test_sampling_path_equals_module_path(hidden):
    generator = trained_generator(hidden).eval()
    noise, condition = torch.randn(64, 8), torch.eye(4)[torch.randint(0, 4, (64,))]
    with torch.no_grad():
        fast = generator(noise, condition)
        reference = generator.body(torch.cat([noise, condition], dim=1))
    assert fast.shape == (64, generator.layout.width)
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)


def test_training_uses_batch_statistics_and_keeps_gradients():
    generator = trained_generator((16,))
    noise, condition = torch.randn(32, 8), torch.eye(4)[torch.randint(0, 4, (32,))]
    trained = generator.train()(noise, condition)
    assert trained.requires_grad
    with torch.no_grad():
        sampled = generator.eval()(noise, condition)
    assert not torch.allclose(trained.detach(), sampled, atol=1e-3)  # running statistics differ from the batch's
