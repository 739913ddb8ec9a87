"""Discriminator rejection sampling for tables (after Azadi et al. 2019): a row-level critic, fitted once the
generator is trained, estimates how much likelier each generated row is under the real table than under the
generator, and sampling keeps a row with probability exp(min(0, logit - threshold)).

The training critic cannot do this job: it judges packs of rows and was never calibrated. This critic sees
one row at a time, in the copula view (each number as the normal score of its rank inside the batch, each
category one-hot), so it judges the dependence between columns, which is what the generator gets wrong; the
marginals are exact anyway, because sampling maps the kept rows onto each column's quantiles. It stops on a
held-out slice of the real rows, so it learns what tells the generator apart, not the training rows
themselves; a critic that cannot tell them apart on that slice is not kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .transform import Layout

Tensor = torch.Tensor
HIDDEN = (128, 128)
BATCH = 256
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
MAX_EPOCHS = 60
MAX_STEPS = 3_000
PATIENCE = 4  # epochs without a lower held-out loss
HELD_OUT_SHARE = 0.2
MAX_REAL_ROWS = 20_000
MIN_REAL_ROWS = 50
MIN_AUC = 0.55  # a critic that separates the held-out rows less well than this changes nothing worth its cost
THRESHOLD_QUANTILE = 0.97  # rows above this quantile of the critic's logits are always kept (0.5, 0.9, 0.97
# and 0.995 tried on the benchmark suite's tuning half)
BURN_IN = 10_000


class RowCritic(nn.Module):
    """Real-or-generated for one encoded row; its logit estimates log(p_real / p_generated)."""

    def __init__(self, width: int, hidden: tuple[int, ...] = HIDDEN):
        super().__init__()
        self.hidden = hidden
        layers: list[nn.Module] = []
        for size in hidden:
            layers += [nn.Linear(width, size), nn.LeakyReLU(0.2), nn.Dropout(0.2)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, rows: Tensor) -> Tensor:
        return self.body(rows).squeeze(1)


def rank_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half), what scikit-learn's roc_auc_score gives;
    computed here because importing scikit-learn's metrics would cost every fit more than a second."""
    ranks = pd.Series(np.concatenate([positive, negative])).rank().to_numpy()[:len(positive)]
    return float((ranks.sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def copula_view(scalars: Tensor, codes: Tensor, layout: Layout) -> Tensor:
    """Rows as the critic sees them: scalars replaced by the normal scores of their ranks within the batch
    (so a batch's marginals never tell real from generated), codes one-hot."""
    rows = len(scalars)
    out = torch.zeros(rows, layout.width, device=scalars.device)
    if layout.n_scalars and rows > 1:
        ranks = scalars.argsort(dim=0).argsort(dim=0).double()
        out[:, :layout.n_scalars] = torch.special.ndtri((ranks + 0.5) / rows).float()
    if codes.shape[1]:
        offsets = torch.as_tensor(layout.block_offsets, device=scalars.device)
        out.scatter_(1, codes.long() + offsets, 1.0)
    return out


@dataclass
class RejectionSampler:
    """The fitted critic and the logit above which a row is always kept."""

    critic: RowCritic
    threshold: float
    summary: dict

    @torch.no_grad()
    def keep(self, scalars: Tensor, codes: Tensor, layout: Layout, generator: torch.Generator) -> Tensor:
        """A boolean mask over a generated batch: which rows are kept."""
        logits = self.critic.eval()(copula_view(scalars, codes, layout))
        chance = torch.exp((logits - self.threshold).clamp(max=0.0))
        return torch.rand(len(logits), device=logits.device, generator=generator) < chance

    def state(self) -> dict:
        return {"hidden": list(self.critic.hidden), "threshold": self.threshold, "summary": self.summary}

    @classmethod
    def from_state(cls, state: dict, width: int, weights: dict[str, Tensor], device: torch.device) -> RejectionSampler:
        critic = RowCritic(width, tuple(state["hidden"])).to(device)
        critic.load_state_dict(weights)
        return cls(critic.eval(), float(state["threshold"]), state["summary"])


def fit_rejection_sampler(real_scalars: np.ndarray, real_codes: np.ndarray, layout: Layout,
                          draw: Callable[[int, torch.Generator], tuple[Tensor, Tensor]], device: torch.device,
                          seed: int) -> tuple[RejectionSampler | None, dict]:
    """Fit the row critic on real rows against fresh generated ones (`draw(n, generator)` gives the
    generator's scalars and codes). Returns (None, reason) when the table is too small or the critic cannot
    tell the held-out rows apart."""
    start = time.monotonic()
    rows = len(real_scalars)
    if rows < MIN_REAL_ROWS or layout.width == 0:
        return None, {"kept": False, "reason": f"{rows} rows are too few to fit a critic for rejection sampling"}
    rng = np.random.default_rng(seed)
    torch_rng = torch.Generator(device=device).manual_seed(seed)
    order = rng.permutation(rows)[:MAX_REAL_ROWS]
    cut = max(1, int(len(order) * HELD_OUT_SHARE))
    scalars = torch.as_tensor(real_scalars, device=device)
    codes = torch.as_tensor(real_codes, device=device)
    held_out, train = torch.as_tensor(order[:cut], device=device), torch.as_tensor(order[cut:], device=device)
    batch = min(BATCH, len(train))
    held_real = copula_view(scalars[held_out], codes[held_out], layout)
    held_fake = copula_view(*draw(len(held_out), torch_rng), layout)

    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(seed)
        critic = RowCritic(layout.width).to(device)
        optimiser = torch.optim.Adam(critic.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

        def held_out_loss() -> float:
            critic.eval()
            with torch.no_grad():
                logits = torch.cat([critic(held_real), critic(held_fake)])
                labels = torch.cat([torch.ones(len(held_real)), torch.zeros(len(held_fake))]).to(device)
                return float(F.binary_cross_entropy_with_logits(logits, labels))

        best, best_state, stale, steps, epochs = held_out_loss(), None, 0, 0, 0
        steps_per_epoch = max(1, len(train) // batch)
        while epochs < MAX_EPOCHS and steps < MAX_STEPS and stale < PATIENCE:
            critic.train()
            shuffled = train[torch.randperm(len(train), generator=torch_rng, device=device)]
            for step in range(steps_per_epoch):
                picked = shuffled[step * batch:(step + 1) * batch]
                real = copula_view(scalars[picked], codes[picked], layout)
                fake = copula_view(*draw(len(picked), torch_rng), layout)
                logits = critic(torch.cat([real, fake]))
                labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(device)
                loss = F.binary_cross_entropy_with_logits(logits, labels)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            steps += steps_per_epoch
            epochs += 1
            loss_now = held_out_loss()
            if loss_now < best - 1e-4:
                best, stale = loss_now, 0
                best_state = {key: value.clone() for key, value in critic.state_dict().items()}
            else:
                stale += 1
    if best_state is None:
        return None, {"kept": False, "reason": "the critic never told held-out real rows from generated ones"}
    critic.load_state_dict(best_state)
    critic.eval()
    with torch.no_grad():
        scores = torch.cat([critic(held_real), critic(held_fake)]).cpu().numpy()
        auc = rank_auc(scores[:len(held_real)], scores[len(held_real):])
        burn_in = critic(copula_view(*draw(BURN_IN, torch_rng), layout)).cpu().numpy()
    summary = {"held_out_auc": round(auc, 4), "held_out_loss": round(best, 4), "epochs": epochs,
               "held_out_rows": int(cut), "seconds": round(time.monotonic() - start, 2)}
    if auc < MIN_AUC:
        return None, {"kept": False, "reason": f"the critic barely tells held-out real rows from generated ones "
                                               f"(AUC {auc:.2f} < {MIN_AUC}): every row is kept", **summary}
    threshold = float(np.quantile(burn_in, THRESHOLD_QUANTILE))
    acceptance = float(np.exp(np.minimum(0.0, burn_in - threshold)).mean())
    summary.update(kept=True, acceptance=round(acceptance, 4),
                   reason=f"a row critic tells held-out real rows from generated ones (AUC {auc:.2f}); "
                          f"sampling keeps {acceptance:.0%} of generated rows")
    if not math.isfinite(threshold):
        return None, {"kept": False, "reason": "the critic's scores were not finite", **summary}
    return RejectionSampler(critic, threshold, summary), summary
