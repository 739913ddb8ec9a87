"""Conditional sampling checked by the critic's own classifier. A critic that names the real samples' classes
(class guidance, AC-GAN) can read each generated sample too: drawing a few candidates per wanted sample and
keeping the first one it names as the label asked for is rejection sampling on "looks like its class". It
removes the samples that drifted into a neighbouring class (a shirt asked for that reads as a T-shirt) and
leaves the rest of the class's variety alone, where a lower noise temperature narrows every class to buy the
same label accuracy."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..config import LABEL_FILTER_DRAWS

Tensor = torch.Tensor


@torch.no_grad()
def named_choice(class_logits: Tensor, labels: Tensor, draws: int) -> Tensor:
    """For rows of candidates laid out draw by draw (`draws` blocks of len(labels)), the index of the one kept
    per wanted label: the first the critic names as that label, else the one it gives the label most."""
    rows = len(labels)
    wanted = labels.repeat(draws)
    named = (class_logits.argmax(dim=1) == wanted).view(draws, rows)
    likelihood = class_logits.log_softmax(dim=1).gather(1, wanted[:, None]).view(draws, rows)
    first = named.int().argmax(dim=0)  # the first maximum: the earliest named draw
    draw = torch.where(named.any(dim=0), first, likelihood.argmax(dim=0))
    return draw * rows + torch.arange(rows, device=labels.device)


@torch.no_grad()
def filtered(generate: Callable[[Tensor, Tensor], Tensor], critic: nn.Module, noise: Tensor, labels: Tensor,
             classes: int, draws: int = LABEL_FILTER_DRAWS) -> Tensor:
    """Samples for `labels` (one per row) from `noise` of `draws` x len(labels) rows, kept by `named_choice`.
    `generate(noise, one_hot)` returns samples as the critic reads them."""
    wanted = labels.repeat(draws)
    condition = nn.functional.one_hot(wanted, classes).float().to(noise.device)
    samples = generate(noise, condition)
    logits = critic(samples, condition).float()[:, 1:]
    return samples[named_choice(logits, labels.to(noise.device), draws)]
