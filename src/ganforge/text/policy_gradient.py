"""The policy-gradient adversarial phase (SeqGAN, Yu et al. 2017): the generator is a policy that picks one
token at a time; the discriminator's belief that a finished text is real is the reward, and the value of a
prefix is estimated by Monte-Carlo rollouts that finish it. REINFORCE with the batch mean as baseline.

Rewards are estimated at up to `reward_points` evenly spaced prefix lengths (every position, as SeqGAN does,
costs a rollout per token: too slow for character-level texts on a CPU); the tokens between two points share
the later point's value.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TextConfig, TrainConfig
from ..core.losses import LOSSES
from ..core.progress import Progress, ProgressCallback
from .networks import TextDiscriminator, TextGenerator
from .tokenize import BOS, PAD

Tensor = torch.Tensor


def one_hot(ids: Tensor, vocabulary: int) -> Tensor:
    """Token ids as the discriminator reads them: one-hot rows, zero at padding."""
    return F.one_hot(ids, vocabulary).float() * (ids != PAD)[..., None]


def mle_loss(generator: TextGenerator, ids: Tensor) -> Tensor:
    """Mean next-token cross-entropy of real texts (teacher forcing), over the columns some text reaches:
    padding only trails, so cutting it changes no loss and saves the work (most texts are far shorter than
    the longest)."""
    ids = ids[:, :int((ids != PAD).sum(dim=1).max())]
    inputs = torch.cat([torch.full_like(ids[:, :1], BOS), ids[:, :-1]], dim=1)
    return generator.next_token_loss(inputs, ids)


@dataclass
class Rollout:
    generator: TextGenerator
    discriminator: TextDiscriminator
    vocabulary: int
    rollouts: int
    points: int
    random: torch.Generator

    @torch.no_grad()
    def rewards(self, ids: Tensor) -> Tensor:
        """Per-token rewards (N, L): the probability the discriminator gives to rollouts of each prefix being
        real, the finished text's own score at the last point."""
        count, length = ids.shape
        stride = max(1, math.ceil(length / self.points))
        ends = list(range(stride, length, stride)) + [length]
        rewards = torch.empty(count, length, device=ids.device)
        start = 0
        for end in ends:
            if end == length:
                value = torch.sigmoid(self.discriminator(one_hot(ids, self.vocabulary))[:, 0])
            else:
                prefix = ids[:, :end].repeat(self.rollouts, 1)
                finished = self.generator.sample(len(prefix), length, 1.0, self.random, prefix=prefix)
                scores = torch.sigmoid(self.discriminator(one_hot(finished, self.vocabulary))[:, 0])
                value = scores.view(self.rollouts, count).mean(dim=0)
            rewards[:, start:end] = value[:, None]
            start = end
        return rewards


def train_policy_gradient(generator: TextGenerator, discriminator: TextDiscriminator, ids: Tensor,
                          config: TextConfig, train: TrainConfig, deadline: float | None,
                          progress: ProgressCallback | None = None) -> list[dict[str, float]]:
    """Alternate one discriminator step and one REINFORCE generator step (plus `mle_weight` x the maximum-
    likelihood loss on real texts) for `train.epochs` passes, until `deadline` (time.monotonic()), or until
    `progress` says stop."""
    loss = LOSSES[train.loss]
    vocabulary, batch = discriminator.embed.in_features, min(train.batch_size, len(ids))
    optimiser_g = torch.optim.Adam(generator.parameters(), lr=train.generator_lr, betas=(train.beta1, train.beta2))
    optimiser_d = torch.optim.Adam(discriminator.parameters(), lr=train.discriminator_lr,
                                   betas=(train.beta1, train.beta2))
    random = torch.Generator().manual_seed(train.seed)
    rollout = Rollout(generator, discriminator, vocabulary, config.rollouts, config.reward_points, random)
    history = []
    for epoch in range(train.epochs):
        totals = torch.zeros(3)
        steps = max(1, len(ids) // batch)
        for _ in range(steps):
            real = ids[torch.randint(len(ids), (batch,), generator=random).to(ids.device)]
            fake = generator.sample(batch, ids.shape[1], 1.0, random)
            for _ in range(train.n_critic):
                loss_d = loss.discriminator(discriminator(one_hot(real, vocabulary)),
                                            discriminator(one_hot(fake, vocabulary)))
                optimiser_d.zero_grad(set_to_none=True)
                loss_d.backward()
                optimiser_d.step()
            rewards = rollout.rewards(fake)
            advantage = rewards - rewards.mean(dim=0, keepdim=True)
            policy = -(advantage * generator.log_probabilities(fake)).sum(dim=1).mean()
            loss_g = policy + config.mle_weight * mle_loss(generator, real) if config.mle_weight else policy
            optimiser_g.zero_grad(set_to_none=True)
            loss_g.backward()
            nn.utils.clip_grad_norm_(generator.parameters(), 5.0)
            optimiser_g.step()
            totals += torch.tensor([loss_d.item(), loss_g.item(), rewards[:, -1].mean().item()])
        history.append(dict(zip(("loss_d", "loss_g", "reward"), (totals / steps).tolist())) | {"epoch": epoch + 1})
        if progress is not None and progress(Progress("policy gradient", epoch + 1, history[-1], generator)):
            break
        if deadline is not None and time.monotonic() > deadline:
            break
    return history
