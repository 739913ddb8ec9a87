"""Label conditioning layers: class batch norm starts as plain batch norm and then scales each label apart."""

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.core.layers import ClassBatchNorm, run_layers


def test_class_batch_norm_starts_plain_and_learns_a_scale_and_shift_per_label():
    torch.manual_seed(0)
    layer, plain = ClassBatchNorm(3, 4), nn.BatchNorm2d(3, affine=False)
    x, labels = torch.randn(8, 3, 5, 5), F.one_hot(torch.arange(8) % 4, 4).float()
    assert torch.allclose(layer(x, labels), plain(x), atol=1e-5)
    with torch.no_grad():
        layer.scale.weight[:, 2] = 1.0  # label 2: twice the scale
        layer.shift.weight[:, 3] = 0.5  # label 3: shifted by a half
    out, normed, rows = layer(x, labels), plain(x), labels.argmax(dim=1)
    assert torch.allclose(out[rows == 2], 2 * normed[rows == 2], atol=1e-5)
    assert torch.allclose(out[rows == 3], normed[rows == 3] + 0.5, atol=1e-5)
    assert torch.allclose(out[rows < 2], normed[rows < 2], atol=1e-5)
    stack = [nn.Identity(), layer, nn.ReLU()]  # the label reaches only the layers that take one
    assert torch.allclose(run_layers(stack, x, labels), out.relu(), atol=1e-5)
