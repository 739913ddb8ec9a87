"""A GRU language model as the generator, and a convolutional discriminator over (soft) one-hot sequences.

The generator is trained first by maximum likelihood (teacher forcing), then adversarially through the
Gumbel-softmax relaxation (RelGAN, Nie et al. 2019): each step's token is a soft one-hot that feeds the next
step as a mixture of embeddings, so the discriminator's gradient reaches the generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .tokenize import BOS, EOS, PAD, UNK

NEVER = [PAD, BOS, UNK]  # tokens a generated text never contains (UNK would print as '<unk>')

Tensor = torch.Tensor


class TextGenerator(nn.Module):
    """`tied`: logits through the input embedding, transposed (Press & Wolf 2017), as models saved before
    the output layer was untied have it. Untied by default: with 64-dimensional embeddings the tied layer is
    a bottleneck whose logits grow with the square of the embeddings' norms, so the held-out loss turns back
    after a few epochs and then explodes (2,000 fortunes: best 4.27 nats per word against 3.88 untied, at
    equal seconds; first names 1.98 against 1.92 per letter).

    `clusters`: an adaptive softmax (Grave et al. 2017) with these cut-offs in the frequency-ranked vocabulary
    instead of one output layer over every token. Frequent words keep the full width; rarer ones share
    narrower projections, so a training step over a few thousand words costs about half as much and a time
    budget buys about twice the epochs. The outputs are then log-probabilities, which every use of the logits
    (softmax, Gumbel-softmax, temperature) treats the same."""

    def __init__(self, vocabulary: int, embedding: int = 64, hidden: int = 256, tied: bool = False,
                 clusters: tuple[int, ...] = ()):
        super().__init__()
        self.tied = tied
        self.embed = nn.Embedding(vocabulary, embedding)
        self.cell = nn.GRU(embedding, hidden, batch_first=True)
        self.adaptive = None
        if clusters:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(hidden, vocabulary, list(clusters), div_value=4.0)
        elif tied:
            self.project = nn.Linear(hidden, embedding)
            self.bias = nn.Parameter(torch.zeros(vocabulary))
        else:
            self.head = nn.Linear(hidden, vocabulary)

    def out(self, hidden: Tensor) -> Tensor:
        if self.adaptive is not None:
            return self.adaptive.log_prob(hidden.reshape(-1, hidden.shape[-1])).reshape(*hidden.shape[:-1], -1)
        return self.project(hidden) @ self.embed.weight.T + self.bias if self.tied else self.head(hidden)

    def forward(self, ids: Tensor) -> Tensor:
        """Next-token logits for every position of `ids` (N, L): teacher forcing."""
        hidden, _ = self.cell(self.embed(ids))
        return self.out(hidden)

    def next_token_loss(self, inputs: Tensor, targets: Tensor) -> Tensor:
        """Mean cross-entropy of `targets` (N, L) after `inputs` (N, L), padding left out. The adaptive softmax
        scores only each target's own cluster, which is where its saving lies."""
        if self.adaptive is None:
            logits = self(inputs)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD)
        hidden, _ = self.cell(self.embed(inputs))
        keep = targets.reshape(-1) != PAD
        return self.adaptive(hidden.reshape(-1, hidden.shape[-1])[keep], targets.reshape(-1)[keep]).loss

    def log_probabilities(self, ids: Tensor) -> Tensor:
        """log p(token) of every position of `ids` (N, L) given the tokens before it, under the same masking
        as `sample`; 0 at padding. The policy gradient's score function."""
        inputs = torch.cat([torch.full_like(ids[:, :1], BOS), ids[:, :-1]], dim=1)
        logits = self(inputs).index_fill(2, torch.tensor(NEVER, device=ids.device), -float("inf"))
        chosen = logits.log_softmax(dim=-1).gather(2, ids[..., None])[..., 0]
        return chosen.masked_fill(ids == PAD, 0.0)

    @torch.no_grad()
    def sample(self, count: int, max_length: int, temperature: float = 1.0,
               generator: torch.Generator | None = None, prefix: Tensor | None = None) -> Tensor:
        """Token ids (N, max_length), ended by EOS and padded after it; with `prefix` (N, t), its
        continuations (a rollout), the prefix included."""
        device = self.embed.weight.device
        start = torch.full((count, 1), BOS, dtype=torch.long, device=device)
        out = [] if prefix is None else list(prefix.unbind(dim=1))
        finished = torch.zeros(count, dtype=torch.bool, device=device)
        if prefix is not None:
            finished = (prefix == EOS).any(dim=1) | (prefix == PAD).any(dim=1)
        state = None
        if prefix is not None and prefix.shape[1] > 0:
            _, state = self.cell(self.embed(torch.cat([start, prefix[:, :-1]], dim=1)))
            token = prefix[:, -1:]
        else:
            token = start
        for _ in range(max_length - len(out)):
            if finished.all():
                break
            hidden, state = self.cell(self.embed(token), state)
            logits = self.out(hidden[:, -1]) / temperature
            logits[:, NEVER] = -float("inf")
            token = draw(logits.softmax(dim=-1), generator)
            token[finished] = PAD
            out.append(token[:, 0])
            finished |= token[:, 0] == EOS
        ids = torch.stack(out, dim=1)
        return F.pad(ids, (0, max_length - ids.shape[1]), value=PAD)

    def relaxed(self, count: int, max_length: int, tau: float, hard: bool = True) -> Tensor:
        """One-hot sequences (N, L, V) by Gumbel-softmax, differentiable in the weights. `hard`: exact one-hots
        forward with the soft gradient backward (straight-through), so the discriminator cannot tell generated
        texts by their softness alone."""
        device = self.embed.weight.device
        step_input = self.embed(torch.full((count, 1), BOS, dtype=torch.long, device=device))
        state, out = None, []
        for _ in range(max_length):
            hidden, state = self.cell(step_input, state)
            logits = self.out(hidden[:, -1])
            logits = logits.index_fill(1, torch.tensor(NEVER, device=device), -1e9)
            soft = F.gumbel_softmax(logits, tau=tau, hard=hard)
            out.append(soft)
            step_input = (soft @ self.embed.weight)[:, None]
        return torch.stack(out, dim=1)


def draw(probabilities: Tensor, generator: torch.Generator | None) -> Tensor:
    """One token per row by inverting the cumulative distribution: one uniform number per row, where
    `torch.multinomial` spends several seconds per thousand rows on a 10,000-word vocabulary."""
    uniform = torch.rand(len(probabilities), 1, generator=generator).to(probabilities.device)
    cumulative = probabilities.cumsum(dim=-1)
    token = torch.searchsorted(cumulative, uniform * cumulative[:, -1:])
    return token.clamp_max(probabilities.shape[1] - 1)


class TextDiscriminator(nn.Module):
    """One-hot (or soft) sequences -> a linear embedding -> convolutions of widths 2-5 -> max over time."""

    def __init__(self, vocabulary: int, embedding: int = 64, filters: int = 64):
        super().__init__()
        self.embed = nn.Linear(vocabulary, embedding, bias=False)
        self.convolutions = nn.ModuleList(nn.Conv1d(embedding, filters, width, padding=width - 1)
                                          for width in (2, 3, 4, 5))
        self.score = nn.Linear(4 * filters, 1)

    def forward(self, sequences: Tensor, condition: Tensor | None = None) -> Tensor:
        x = self.embed(sequences).transpose(1, 2)
        pooled = [F.leaky_relu(conv(x), 0.2).amax(dim=2) for conv in self.convolutions]
        return self.score(torch.cat(pooled, dim=1))


def mask_after_end(soft: Tensor) -> Tensor:
    """Zero every position after a (soft) end token, as real sequences are padded there: the share of 'still
    running' is the product of (1 - p(EOS)) over the earlier steps."""
    running = torch.cumprod(1 - soft[..., EOS], dim=1)
    keep = torch.cat([torch.ones_like(running[:, :1]), running[:, :-1]], dim=1)
    return soft * keep[..., None]
