"""Differentially private discriminator training (DP-SGD, Abadi et al. 2016) with Opacus.

Only the discriminator reads real rows, so only its updates need privacy: each step takes a Poisson sample
of the real rows (each row in with probability `sample_rate`), clips every row's gradient to
`max_grad_norm`, and adds Gaussian noise of `noise_multiplier * max_grad_norm` to the sum. The generator
learns from the discriminator alone, so the released generator is post-processing and inherits the
guarantee. Opacus' RDP accountant tracks what has been spent; the noise is calibrated so that the planned
steps spend exactly the budget, and no step is taken that would exceed it.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
from torch import nn

from ..errors import GanforgeError

BUDGET_TOLERANCE = 1e-6
# Two notices that say nothing to a user of this module: the accountant's search reached its largest order
# (the bound stays valid), and Opacus' hooks fire on a critic whose input needs no gradient (by design here).
warnings.filterwarnings("ignore", message="Optimal order is the largest alpha", category=UserWarning)
warnings.filterwarnings("ignore", message="Full backward hook is firing when gradients are computed",
                        category=UserWarning)


def lowest_reachable_epsilon(delta: float) -> float:
    """The epsilon that the accountant reports for infinite noise: a budget at or below it is unreachable."""
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis.rdp import get_privacy_spent

    orders = RDPAccountant.DEFAULT_ALPHAS
    return float(get_privacy_spent(orders=orders, rdp=np.zeros(len(orders)), delta=delta)[0])


class PrivateDiscriminator:
    def __init__(self, discriminator: nn.Module, epsilon: float, delta: float, max_grad_norm: float,
                 sample_rate: float, steps: int):
        from opacus import GradSampleModule
        from opacus.accountants import RDPAccountant
        from opacus.accountants.utils import get_noise_multiplier

        if not 0 < sample_rate <= 1:
            raise GanforgeError(f"differential privacy: sampling rate {sample_rate:.3g} must be in (0, 1]")
        floor = lowest_reachable_epsilon(delta)
        if epsilon <= floor:  # Opacus would search noise up to a million times the clipping norm first (minutes)
            raise GanforgeError(
                f"differential privacy: epsilon={epsilon:g} cannot be reached at delta={delta:g} by any amount of "
                f"noise (the accountant's floor is {floor:.3g}); use a larger epsilon")
        try:
            self.noise_multiplier = float(get_noise_multiplier(
                target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate, steps=steps,
                accountant="rdp"))
        except ValueError:
            raise GanforgeError(
                f"differential privacy: epsilon={epsilon:g} cannot be reached with {steps} steps sampling "
                f"{sample_rate:.2%} of the rows each; use fewer epochs, a smaller batch or a larger epsilon") from None
        self.epsilon, self.delta, self.max_grad_norm = epsilon, delta, max_grad_norm
        self.sample_rate, self.planned_steps = sample_rate, steps
        self.module = GradSampleModule(discriminator, loss_reduction="sum")
        self.accountant = RDPAccountant()
        self.allowed_steps = self._allowed_steps()

    def private_optimizer(self, optimizer):
        """The discriminator's optimiser with per-row clipping and noise in front of its step."""
        from opacus.optimizers import DPOptimizer

        return DPOptimizer(optimizer, noise_multiplier=self.noise_multiplier, max_grad_norm=self.max_grad_norm,
                           expected_batch_size=None, loss_reduction="sum")

    @contextmanager
    def generator_step(self):
        """The generator's step reads the discriminator but must not record per-row gradients for it."""
        self.module.disable_hooks()
        try:
            yield
        finally:
            self.module.enable_hooks()

    @property
    def steps(self) -> int:
        return sum(steps for _, _, steps in self.accountant.history)

    def spent(self) -> float:
        return float(self.accountant.get_epsilon(self.delta)) if self.accountant.history else 0.0

    def can_step(self) -> bool:
        """Whether one more noisy step stays within the budget."""
        return self.steps < self.allowed_steps

    def _allowed_steps(self) -> int:
        """The most steps at this noise and sampling rate within the budget (epsilon grows with steps)."""
        from opacus.accountants import RDPAccountant

        def within(steps: int) -> bool:
            trial = RDPAccountant()
            trial.history = [(self.noise_multiplier, self.sample_rate, steps)]
            return trial.get_epsilon(self.delta) <= self.epsilon + BUDGET_TOLERANCE

        low, high = 0, max(1, self.planned_steps)
        while within(high):
            low, high = high, 2 * high
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if within(middle) else (low, middle)
        return low

    def record_step(self) -> None:
        self.accountant.step(noise_multiplier=self.noise_multiplier, sample_rate=self.sample_rate)

    def summary(self) -> dict:
        return {"epsilon_target": self.epsilon, "delta": self.delta, "epsilon_spent": round(self.spent(), 6),
                "noise_multiplier": round(self.noise_multiplier, 6), "max_grad_norm": self.max_grad_norm,
                "sample_rate": self.sample_rate, "steps": self.steps, "planned_steps": self.planned_steps,
                "accountant": "rdp (Opacus)"}
