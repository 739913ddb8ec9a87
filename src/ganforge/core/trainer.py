"""The alternating discriminator/generator loop, shared by every modality.

A modality hands over its two networks and a `GanProblem`: where real batches (and their conditions) come
from, and how the generator's output for a condition is produced, with any auxiliary generator loss.
"""

from __future__ import annotations

import copy
import logging
import math
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from ..config import TrainConfig
from ..errors import GanforgeError
from .distributed import Distributed
from .losses import LOSSES
from .penalties import gradient_penalty, r1_penalty
from .privacy import PrivateDiscriminator
from .progress import Progress, ProgressCallback

Tensor = torch.Tensor
log = logging.getLogger(__name__)


class GanProblem(Protocol):
    def real_batch(self) -> tuple[Tensor, Tensor | None]:
        """A batch of real rows/images on the training device and the condition that selected them."""

    def sample_condition(self) -> Tensor | None:
        """Conditions for a generator step (None for an unconditional model)."""

    def generate(self, generator: nn.Module, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        """Fake samples for `condition` as the discriminator sees them, and an extra generator loss (or 0)."""

    # optional: `class_guidance` (float). Where the discriminator returns class logits beside its score, 0 (or
    # absent) plays AC-GAN; a positive weight plays class guidance (see class_loss).


MAX_ROLLBACKS = 3
COLLAPSE_RATIO = 0.1  # warn when samples vary ten times less than real rows


@dataclass
class TrainResult:
    generator: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_by: str = "epochs"
    seconds: float = 0.0
    rollbacks: int = 0


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM during training; `state` is the last completed epoch, ready to resume."""

    def __init__(self, state: dict):
        super().__init__("training interrupted")
        self.state = state


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Exponential moving average of the generator's weights (Yazici et al. 2019); buffers are copied."""
    for averaged, current in zip(average.parameters(), model.parameters()):
        averaged.lerp_(current, 1.0 - decay)
    for averaged, current in zip(average.buffers(), model.buffers()):
        averaged.copy_(current)


@torch.no_grad()
def diversity_ratio(problem: GanProblem, generator: nn.Module) -> float:
    """Spread of generated samples over the spread of real ones, on a side RNG so training is unaffected."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        real, condition = problem.real_batch()
        was_training = generator.training
        generator.eval()
        fake, _ = problem.generate(generator, condition)
        generator.train(was_training)
    return float(fake.std(dim=0).mean() / real.float().std(dim=0).mean().clamp_min(1e-12))


class _Game:
    """Everything that changes while training, so it can be snapshot, rolled back and resumed exactly."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, config: TrainConfig):
        betas, scale = (config.beta1, config.beta2), config.learning_rate_scale
        generator_lr, discriminator_lr = config.learning_rates
        self.generator, self.discriminator = generator, discriminator
        self.average = copy.deepcopy(generator).requires_grad_(False)
        # fused Adam: one kernel for all parameters instead of several per tensor (a quarter of a small step)
        self.optimizer_g = torch.optim.Adam(generator.parameters(), lr=generator_lr * scale, betas=betas,
                                            weight_decay=config.weight_decay, fused=True)
        self.optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=discriminator_lr * scale,
                                            betas=betas,
                                            weight_decay=config.weight_decay, fused=True)
        self.epoch, self.step, self.elapsed, self.rollbacks = 0, 0, 0.0, 0
        self.history: list[dict[str, float]] = []

    def snapshot(self) -> dict:
        state = {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                 "average": self.average.state_dict(), "optimizer_g": self.optimizer_g.state_dict(),
                 "optimizer_d": self.optimizer_d.state_dict(), "rng": torch.get_rng_state(),
                 "epoch": self.epoch, "step": self.step, "elapsed": self.elapsed, "rollbacks": self.rollbacks,
                 "history": self.history}
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        return copy.deepcopy(state)

    def restore(self, state: dict) -> None:
        state = copy.deepcopy(state)
        for name in ("generator", "discriminator", "average", "optimizer_g", "optimizer_d"):
            getattr(self, name).load_state_dict(state[name])
        torch.set_rng_state(state["rng"])
        if "rng_cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.epoch, self.step, self.elapsed = state["epoch"], state["step"], state["elapsed"]
        self.rollbacks, self.history = state["rollbacks"], state["history"]

    def healthy(self, losses: list[float]) -> bool:
        parameters = list(self.generator.parameters()) + list(self.discriminator.parameters())
        finite = torch.stack([torch.isfinite(p).all() for p in parameters]).all()
        return all(math.isfinite(v) for v in losses) and bool(finite)

    def scale_learning_rates(self, factor: float, config: TrainConfig) -> None:
        for optimizer, base in zip((self.optimizer_g, self.optimizer_d), config.learning_rates):
            for group in optimizer.param_groups:
                group["lr"] = base * config.learning_rate_scale * factor


def class_loss(scores: Tensor, condition: Tensor) -> Tensor:
    """A discriminator that returns more than one column gives class logits after its adversarial score, and
    the condition is the one-hot class. AC-GAN (Odena et al. 2017) trains those logits on real and generated
    samples and charges the generator this loss in full. Class guidance (a problem's `class_guidance` weight)
    trains them on real samples only, so they stay a classifier of the real classes, and charges the generator
    that weight times the loss: its samples are pushed towards what the real classes look like, not towards
    whatever the critic learned to name in fakes, which is what narrows AC-GAN's classes."""
    return nn.functional.cross_entropy(scores[:, 1:], condition.argmax(dim=1))


def _private_critic_step(problem: GanProblem, generator: nn.Module, discriminator: nn.Module, loss,
                         game: _Game, privacy: PrivateDiscriminator) -> Tensor:
    """One DP-SGD step of the discriminator: real and fake rows in one forward, the loss summed over rows
    (each real row weighs 1 before clipping), then the private optimiser clips, adds noise and steps."""
    real, condition = problem.real_batch()
    privacy.record_step()  # the sample was drawn: it counts even when it is empty
    if len(real) == 0:
        return real.new_zeros(())
    with torch.no_grad():
        fake, _ = problem.generate(generator, condition)  # one fake row per condition row
    scores = discriminator(torch.cat([real, fake]), None if condition is None else torch.cat([condition, condition]))
    loss_d = loss.discriminator(scores[:len(real), :1], scores[len(real):, :1])
    game.optimizer_d.zero_grad(set_to_none=True)
    (loss_d * len(real)).backward()
    game.optimizer_d.step()
    return loss_d.detach()


def train_gan(generator: nn.Module, discriminator: nn.Module, problem: GanProblem, config: TrainConfig,
              steps_per_epoch: int, pack: int = 1, description: str = "fit", resume: dict | None = None,
              save_checkpoint: Callable[[dict], None] | None = None, checkpoint_every: int = 10,
              distributed: Distributed | None = None, privacy: PrivateDiscriminator | None = None,
              progress: ProgressCallback | None = None, phase: str = "adversarial") -> TrainResult:
    """Play the game for `config.epochs` (or until `config.max_minutes`); return the EMA generator.

    Every `checkpoint_every` epochs, and on Ctrl-C/SIGTERM, the last completed epoch goes to
    `save_checkpoint`; `resume` continues such a state exactly. A non-finite loss or weight rolls back to the
    last good epoch with halved learning rates, at most MAX_ROLLBACKS times; then training stops and keeps
    the last good generator.

    With `distributed`, every rank calls this with the same `steps_per_epoch` on its own shard; the networks
    run wrapped in DistributedDataParallel, epoch losses and the time limit are agreed on across ranks (so
    all ranks roll back or stop together), and only rank 0 shows progress and saves checkpoints.

    With `privacy`, the discriminator trains by DP-SGD on Poisson samples of the real rows (one forward over
    real and fake rows, so each row's gradient is clipped on its own), and training stops before a step
    that would overspend the budget; rollbacks do not refund what discarded steps spent.

    `progress` hears of every completed epoch as a `Progress` (named `phase`, its losses, the EMA generator),
    to watch a metric over time, say; returning True stops training there.
    """
    run = _Run(generator, discriminator, problem, config, pack, resume, save_checkpoint, checkpoint_every,
               distributed, privacy, progress, phase)
    bar = tqdm(total=config.epochs, initial=run.game.epoch, desc=description, unit="epoch", leave=False,
                    disable=not sys.stderr.isatty() or not run.main_process, dynamic_ncols=True)
    try:
        while run.game.epoch < config.epochs:
            totals, steps_done = run.play_epoch(steps_per_epoch)
            if steps_done == 0:  # the privacy budget ran out at the start of this epoch
                break
            losses = run.agree(totals, steps_done)
            if not run.game.healthy(losses):
                if run.roll_back():
                    continue
                break
            run.end_epoch(losses)
            bar.update(1)
            bar.set_postfix(loss_d=f"{losses[0]:.3f}", loss_g=f"{losses[1]:.3f}")
            if run.should_stop():
                break
    except KeyboardInterrupt:
        bar.close()
        if run.save_checkpoint is not None:
            run.save_checkpoint(run.good)
        raise TrainingInterrupted(run.good) from None
    bar.close()
    return run.finish()


class _Run:
    """One call of `train_gan`: the settings it was given, the game, and each named step of the loop."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, problem: GanProblem, config: TrainConfig,
                 pack: int, resume: dict | None, save_checkpoint: Callable[[dict], None] | None,
                 checkpoint_every: int, distributed: Distributed | None, privacy: PrivateDiscriminator | None,
                 progress: ProgressCallback | None, phase: str):
        self.loss = loss = LOSSES[config.loss]
        self.problem, self.config, self.pack = problem, config, pack
        self.class_guidance = float(getattr(problem, "class_guidance", 0.0))
        self.privacy, self.distributed = privacy, distributed
        self.checkpoint_every, self.progress, self.phase = checkpoint_every, progress, phase
        if config.mixed_precision:  # convolutions in bfloat16 run fastest on channels-last maps (1.5x for sounds)
            generator.to(memory_format=torch.channels_last)
            discriminator.to(memory_format=torch.channels_last)
        playing_generator, playing_discriminator = generator, discriminator
        if distributed is not None:  # wrapping copies rank 0's weights to every rank, before the EMA copy is taken
            playing_generator, playing_discriminator = distributed.wrap(generator), distributed.wrap(discriminator)
            if not distributed.is_main:
                save_checkpoint = None
        self.save_checkpoint = save_checkpoint
        self.game = game = _Game(generator, discriminator, config)
        if privacy is not None:
            if loss.needs_gradient_penalty or config.r1_penalty > 0 or distributed is not None:
                raise GanforgeError("differential privacy works with the nonsaturating, minimax, hinge or lsgan "
                                    "loss, no R1 penalty, in one process")
            playing_discriminator = privacy.module
            game.optimizer_d = privacy.private_optimizer(game.optimizer_d)
        if resume is not None:
            game.restore(resume)
            if distributed is not None:  # the checkpoint holds rank 0's random state: give each rank its own again
                torch.manual_seed((config.seed or 0) + 1000 * game.epoch + distributed.rank)
        if config.compile:
            playing_generator = torch.compile(playing_generator)
        self.generator, self.discriminator = playing_generator, playing_discriminator
        device_type = next(game.generator.parameters()).device.type
        self.precision = torch.autocast(device_type, dtype=torch.bfloat16,
                                        enabled=bool(config.mixed_precision))
        self.main_process = distributed is None or distributed.is_main
        self.use_gradient_penalty = loss.needs_gradient_penalty and config.gradient_penalty > 0
        self.good = game.snapshot()
        self.started = time.monotonic() - game.elapsed
        self.result = TrainResult(generator=game.average)

    def critic(self, x: Tensor, condition: Tensor | None) -> Tensor:
        """The adversarial score alone, for the penalties."""
        return self.discriminator(x, condition)[:, :1]

    def time_up(self) -> bool:
        limit = self.config.max_minutes
        return limit is not None and time.monotonic() - self.started > 60 * limit

    def play_epoch(self, steps_per_epoch: int) -> tuple[Tensor | float, int]:
        """Generator steps, each after its critic steps; the summed (D, G) losses and the steps taken."""
        self.generator.train()
        self.discriminator.train()
        totals: Tensor | float = 0.0
        steps_done = 0
        for _ in range(steps_per_epoch):
            if self.privacy is not None and not self.privacy.can_step():
                self.result.stopped_by = "privacy budget"
                break
            if self.privacy is not None:  # DP: the private step instead of the critic's
                loss_d = _private_critic_step(self.problem, self.generator, self.discriminator, self.loss, self.game,
                                              self.privacy)
            for _ in range(self.config.n_critic if self.privacy is None else 0):
                loss_d = self.critic_step()
            loss_g = self.generator_step()
            totals = totals + torch.stack([loss_d.detach(), loss_g.detach()])
            steps_done += 1
            if self.distributed is None and self.time_up():
                self.result.stopped_by = "time"
                break
        return totals, steps_done

    def critic_step(self) -> Tensor:
        config, game, discriminator = self.config, self.game, self.discriminator
        real, condition = self.problem.real_batch()
        with self.precision:
            with torch.no_grad():
                fake, _ = self.problem.generate(self.generator, condition)
            fake = fake.float()
            scores = discriminator(real, condition).float(), discriminator(fake, condition).float()
        loss_d = self.loss.discriminator(scores[0][:, :1], scores[1][:, :1])
        if scores[0].shape[1] > 1:  # class logits: real samples classified right (and fakes, for AC-GAN)
            loss_d = loss_d + class_loss(scores[0], condition)
            if not self.class_guidance:
                loss_d = loss_d + class_loss(scores[1], condition)
        if self.use_gradient_penalty:
            loss_d = loss_d + config.gradient_penalty * gradient_penalty(self.critic, real, fake, condition,
                                                                         group_size=self.pack)
        if config.r1_penalty > 0:
            loss_d = loss_d + 0.5 * config.r1_penalty * r1_penalty(self.critic, real, condition)
        game.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        game.optimizer_d.step()
        return loss_d

    def generator_step(self) -> Tensor:
        game, discriminator = self.game, self.discriminator
        condition = self.problem.sample_condition()
        discriminator.requires_grad_(False)  # its weight gradients would be thrown away
        with self.precision, (nullcontext() if self.privacy is None else self.privacy.generator_step()):
            fake, auxiliary = self.problem.generate(self.generator, condition)
            scores = discriminator(fake, condition).float()
            loss_g = self.loss.generator(scores[:, :1]) + auxiliary.float()
            if scores.shape[1] > 1:
                loss_g = loss_g + (self.class_guidance or 1.0) * class_loss(scores, condition)
            game.optimizer_g.zero_grad(set_to_none=True)
            loss_g.backward()
        discriminator.requires_grad_(True)
        game.optimizer_g.step()
        game.step += 1
        update_ema(game.average, self.generator, min(self.config.ema, (1 + game.step) / (10 + game.step)))
        return loss_g

    def agree(self, totals: Tensor | float, steps_done: int) -> list[float]:
        """The epoch's mean (D, G) losses; across ranks, one agreement on them and on whether time is up."""
        if self.distributed is not None:
            agreed = self.distributed.sum(torch.cat([totals / steps_done,
                                                     totals.new_tensor([float(self.time_up())])]))
            totals, steps_done = agreed[:2], self.distributed.world_size
            if agreed[2] > 0:
                self.result.stopped_by = "time"
        return (totals / steps_done).tolist()  # one sync per epoch

    def roll_back(self) -> bool:
        """After a non-finite loss or weight: back to the last good epoch with halved learning rates (True),
        or, past MAX_ROLLBACKS, stop there (False)."""
        game = self.game
        if game.rollbacks >= MAX_ROLLBACKS:
            game.restore(self.good)
            game.rollbacks = MAX_ROLLBACKS
            self.result.stopped_by = "divergence"
            log.warning("training diverged again at epoch %d; stopped, keeping the generator of epoch %d",
                        game.epoch + 1, self.good["epoch"])
            return False
        rollbacks = game.rollbacks + 1
        log.warning("loss or weights became non-finite at epoch %d; rolled back to epoch %d with halved "
                    "learning rates (%d of %d)", game.epoch + 1, self.good["epoch"], rollbacks, MAX_ROLLBACKS)
        game.restore(self.good)
        game.rollbacks = rollbacks
        game.scale_learning_rates(0.5 ** rollbacks, self.config)
        return True

    def end_epoch(self, losses: list[float]) -> None:
        """Record the epoch, check diversity now and then, keep it as the good state and checkpoint it."""
        game = self.game
        game.epoch += 1
        game.elapsed = time.monotonic() - self.started
        game.history.append({"epoch": game.epoch, "loss_d": losses[0], "loss_g": losses[1], "seconds": game.elapsed})
        if game.epoch % self.checkpoint_every == 0 or game.epoch == self.config.epochs:
            ratio = diversity_ratio(self.problem, game.average)
            game.history[-1]["diversity"] = ratio
            if ratio < COLLAPSE_RATIO:
                log.warning("epoch %d: generated samples vary %.0fx less than real ones; the generator may "
                            "have collapsed (try another --loss or a lower learning rate; tables: a larger --pack)",
                            game.epoch, 1 / max(ratio, 1e-12))
        self.good = game.snapshot()
        if self.save_checkpoint is not None and game.epoch % self.checkpoint_every == 0:
            self.save_checkpoint(self.good)

    def should_stop(self) -> bool:
        """The caller's callback, a spent privacy budget or time."""
        game, result = self.game, self.result
        if self.progress is not None and self.progress(
                Progress(self.phase, game.epoch, dict(game.history[-1]), game.average)):
            result.stopped_by = "callback"
            return True
        if result.stopped_by == "privacy budget":
            log.info("stopped after %d epochs: the privacy budget is spent", game.epoch)
            return True
        if result.stopped_by == "time":
            log.info("stopped after %d epochs: the %.1f-minute budget is spent", game.epoch, self.config.max_minutes)
            return True
        return False

    def finish(self) -> TrainResult:
        result = self.result
        result.history, result.rollbacks = self.game.history, self.game.rollbacks
        result.seconds = time.monotonic() - self.started
        self.game.average.to(memory_format=torch.contiguous_format).eval()  # safetensors saves contiguous weights
        return result
