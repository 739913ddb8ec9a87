"""TabularSynthesizer: fit a conditional tabular GAN on a data frame, sample new rows, save and load it."""

from __future__ import annotations

import logging
import math
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..config import (
    DEFAULT_LEARNING_RATE,
    REFERENCE_BATCH,
    PrivacyConfig,
    TabularConfig,
    TrainConfig,
    from_dict,
    split_settings,
    to_dict,
)
from ..core.device import choose_device, flushing_subnormals, seed_everything
from ..core.distributed import current as distributed_job
from ..core.losses import LOSSES
from ..core.privacy import PrivateDiscriminator
from ..core.progress import ProgressCallback, both
from ..core.trainer import TrainResult, train_gan
from ..errors import GanforgeError
from ..io import ParquetColumns, read_table
from ..persist import Checkpoint, load_weights, require_keys, settings_of
from ..schema import check_table, infer_schema, read_numbers_in_text
from ..synthesizer import Synthesizer
from .calibration import (
    KEPT_MAX_GAP,
    KEPT_MIN_SHARE,
    TILT_ROWS,
    block_shares,
    exact_counts,
    fit_tilt,
    mean_shares,
    refit_on_kept,
    shares_to_counts,
)
from .exclusions import Exclusion, find_exclusions, repair, summary
from .marginals import Cells, cell_names, fit_to, unmeasured, warm_start
from .networks import Blocks, TabularDiscriminator, TabularGenerator, activate, gumbel_noise
from .private import BudgetPlan, fit_private_transform, plan_budget, privacy_coverage, statistics_bought
from .rejection import RejectionSampler, fit_rejection_sampler
from .sampler import ConditionSampler
from .text_columns import PREFIX as TEXT_PREFIX
from .text_columns import fill_text_columns, fit_text_columns, text_columns_from_state, text_columns_state
from .transform import TableTransform
from .validation import BestGenerator, FidelityScore

Tensor = torch.Tensor
log = logging.getLogger(__name__)
MODEL_TYPE = "tabular"
REJECTION_PREFIX = "rejection"
SAMPLE_CHUNK = 8192  # rows per generator call, and per frame handed out
CALIBRATION_UNIT = 65_536  # rows ranked onto the quantiles together: a sample of a 14,000-row table as a whole, so
# each value comes out about as often as in training (in units of 8,192, a value one row holds came out in one
# sample and not in the next, and SDMetrics, which bins each table over its own range, scored a pair 0.83 or 0.74)
KEPT_MAX_DRAWS = 50_000  # generated rows a round of refitting the tilt on the critic's kept rows may draw
MAX_REJECTION_FACTOR = 100
EXACT_MAX_SCORES = 2**25  # a unit's category scores kept for exact counts (128 MB); past it, codes stay as drawn


class _TabularProblem:
    """What the shared trainer needs to play the game on an encoded table."""

    def __init__(self, scalars: Tensor, codes: Tensor, transform: TableTransform, sampler: ConditionSampler,
                 batch_size: int, noise_dim: int, poisson_rate: float | None = None):
        self.scalars, self.codes, self.sampler, self.poisson_rate = scalars, codes, sampler, poisson_rate
        self.layout = transform.layout
        self.blocks = Blocks(self.layout, scalars.device)
        self.block_offsets = torch.as_tensor(self.layout.block_offsets, device=scalars.device)
        self.batch_size, self.noise_dim = batch_size, noise_dim

    def real_batch(self) -> tuple[Tensor, Tensor | None]:
        if self.poisson_rate is None:
            rows, condition = self.sampler.training_batch(self.batch_size)
        else:
            rows, condition = self.sampler.poisson_batch(self.poisson_rate)
        batch = torch.zeros(len(rows), self.layout.width, device=self.scalars.device)
        batch[:, :self.layout.n_scalars] = self.scalars[rows]
        batch.scatter_(1, self.codes[rows].long() + self.block_offsets, 1.0)
        return batch, condition

    def sample_condition(self) -> Tensor | None:
        return self.sampler.training_batch(self.batch_size)[1]

    def generate(self, generator: torch.nn.Module, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        rows = self.batch_size if condition is None else len(condition)
        noise = torch.randn(rows, self.noise_dim, device=self.scalars.device)
        raw = generator(noise, condition)
        fake = activate(raw, self.blocks)
        if condition is None or not torch.is_grad_enabled():  # the critic's step has no use for the extra loss
            return fake, raw.new_zeros(())
        logits = raw[:, self.layout.n_scalars:]
        log_probabilities = self.blocks.log_softmax(logits)[:, self.sampler.data_positions - self.layout.n_scalars]
        return fake, -(log_probabilities * condition).sum(dim=1).mean()


PRIVATE_DEFAULT_LOSS = "nonsaturating"
REFERENCE_EPOCHS = 300  # explicit epochs, and differential privacy, train this long unless told otherwise
AUTO_BATCH = 200  # more, smaller steps learn more per second than batches of REFERENCE_BATCH
AUTO_LEARNING_RATE = 5e-4  # chosen on the benchmark suite's tuning half (2e-4, 3e-4 and 5e-4 tried)
STEPS_PER_ROUND = 100  # generator steps between two fidelity scores
PATIENCE_ROUNDS = 5  # stop after this many scores without a gain
MIN_ROUNDS = 5
MAX_ROUNDS = 30  # 3,000 steps at most
DISCRIMINATOR_DIMS = (256, 256)
PRIVATE_DISCRIMINATOR_DIMS = (128, 128)  # per-row gradients (DP-SGD) cost memory and time per weight
PRIVATE_MAX_STEPS = 2_000  # under DP without --epochs: 300 epochs, or fewer where they would take more steps


@dataclass(frozen=True)
class Schedule:
    """How long a fit trains: `rounds` of `steps_per_round` generator steps (None: whole epochs)."""

    batch_size: int
    rounds: int
    steps_per_round: int | None
    learning_rate: float  # for both networks, unless the settings name one


def training_schedule(train: TrainConfig, auto: bool, steps: int | None = None) -> Schedule:
    """Without --epochs a table trains in steps, not passes: a 150-row table needs as many steps as a
    50,000-row one to learn its correlations, and epochs of 500 rows gave it 300. A fidelity score is taken
    every round (and, with `early_stopping`, decides when to stop). With --epochs (or under differential
    privacy, whose noise is set for a known number of steps) whole epochs run as asked, at the reference
    batch and learning rate."""
    if auto:
        steps = steps or MAX_ROUNDS * STEPS_PER_ROUND
        per_round = min(STEPS_PER_ROUND, steps)
        return Schedule(train.batch_size or AUTO_BATCH, math.ceil(steps / per_round), per_round, AUTO_LEARNING_RATE)
    return Schedule(train.batch_size or REFERENCE_BATCH, train.epochs or REFERENCE_EPOCHS, None, DEFAULT_LEARNING_RATE)


class TabularSynthesizer(Synthesizer):
    """Learns a table's joint distribution with a conditional GAN (CTGAN's design, Xu et al. 2019) and samples
    new rows with the same columns, order and dtypes.

    Settings are the fields of `TrainConfig`, `TabularConfig` and `PrivacyConfig`, passed as configs or as
    keywords: `TabularSynthesizer(epochs=300, loss="wgan-gp", column_kinds={"zip": "categorical"})`. With
    `dp_epsilon` and no loss named, the loss is nonsaturating.
    """

    def __init__(self, train: TrainConfig | None = None, tabular: TabularConfig | None = None,
                 privacy: PrivacyConfig | None = None, **settings: Any):
        train_settings, tabular_settings, privacy_settings = split_settings(settings, TrainConfig, TabularConfig,
                                                                            PrivacyConfig)
        if train is None and "loss" not in train_settings and settings.get("dp_epsilon") is not None:
            train_settings["loss"] = PRIVATE_DEFAULT_LOSS  # the default wgan-gp needs per-row double backward
        self.train_config = TrainConfig(**{**to_dict(train or TrainConfig()), **train_settings})
        self.tabular_config = TabularConfig(**{**to_dict(tabular or TabularConfig()), **tabular_settings})
        self.privacy_config = PrivacyConfig(**{**to_dict(privacy or PrivacyConfig()), **privacy_settings})
        self.category_shares_: np.ndarray | None = None  # the training shares sampled rows get exactly (not under DP)

    # -- fitting -------------------------------------------------------------------------------------------
    @flushing_subnormals
    def fit(self, data: pd.DataFrame | ParquetColumns | str | os.PathLike,
            checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
            checkpoint_every: int = 10, progress: ProgressCallback | None = None) -> TabularSynthesizer:
        """Learn `data`: a data frame or a CSV/Parquet path (Parquet is read one column at a time).
        `progress` hears of every epoch (see `core.progress`); True from it stops training there.

        With `checkpoint_dir`, the training state is saved there every `checkpoint_every` epochs and on
        Ctrl-C/SIGTERM (then `TrainingInterrupted` is raised); `resume=True` continues from it and, on the CPU
        with a seed, ends with the same weights as an uninterrupted fit. Started by torchrun, each process
        trains on its shard of the rows (see `core.distributed`)."""
        if isinstance(data, (str, os.PathLike)):
            data = ParquetColumns(data) if Path(data).suffix.lower() in (".parquet", ".pq") else read_table(data)
        notes: list[str] = []
        if isinstance(data, pd.DataFrame):
            data, notes = read_numbers_in_text(data)
        check_table(data)
        train, tabular = self.train_config, self.tabular_config
        total_rows = len(data)
        if tabular.pack > total_rows:
            raise GanforgeError(f"table has {total_rows} rows, fewer than pack={tabular.pack}")
        distributed = distributed_job()
        rng = seed_everything(train.seed)
        device = choose_device(train.device) if distributed is None else distributed.device(train.device)
        dp = self.privacy_config
        if dp.enabled and resume:
            raise GanforgeError("a differentially private fit cannot resume: its noise is drawn afresh, and a "
                                "second draw over the same rows would spend the budget again; start it anew")
        auto = train.epochs is None and not dp.enabled and distributed is None  # trained in steps, not epochs
        if tabular.steps is not None and not auto:  # refused before any work is done on the rows
            raise GanforgeError("steps sets the length of a fit without epochs, differential privacy or torchrun "
                                "(those train whole epochs); leave one of them out")
        if dp.enabled:  # every draw that touches the real rows comes from fresh entropy, never from the seed:
            rng = np.random.default_rng()  # a seed stored with the model would let anyone replay the noise
            torch.manual_seed(secrets.randbits(63))  # Poisson sampling and the DP-SGD noise
        # the critic's size, resolved once and stored with the model: under DP each row's gradient is held
        # whole, and a smaller critic takes less noise
        tabular = self.tabular_config = replace(tabular, discriminator_dims=tabular.discriminator_dims or (
            PRIVATE_DISCRIMINATOR_DIMS if dp.enabled else DISCRIMINATOR_DIMS))
        if dp.enabled:
            self._check_private(data, distributed)
            tabular = self.tabular_config = replace(tabular, pack=1)  # DP clips row by row
            schema = infer_schema(data, tabular.column_kinds, private=True)
            plan = plan_budget(dp, schema, total_rows, tabular.numeric_encoding == "quantile", rng)
            transform = fit_private_transform(data, schema, tabular, dp, *plan.statistics, rng,
                                              (plan.row_count or {}).get("rows"))
        elif distributed is None or distributed.is_main:
            transform = TableTransform.fit(data, infer_schema(data, tabular.column_kinds), tabular, rng)
        if distributed is not None:  # rank 0's transform for all; each rank keeps and encodes its own rows
            transform = TableTransform.from_state(distributed.broadcast(
                transform.state() if distributed.is_main else None))
            rows = distributed.shard(total_rows)
            data = data.shard(rows) if isinstance(data, ParquetColumns) else data.iloc[rows]
            rng = seed_everything(None if train.seed is None else train.seed + distributed.rank)
        schema = [column.spec for column in transform.columns]
        text_models = fit_text_columns(data, schema, tabular, train.seed, train.device)
        scalars, codes = transform.encode(data, rng)
        # read off the real rows: not under DP, and not from one process's share of them
        self.exclusions_ = (find_exclusions(codes, transform.layout) if tabular.exclude_unseen_pairs
                            and not dp.enabled and distributed is None else [])
        sampler = ConditionSampler(transform.layout, transform.category_counts(), device, codes,
                                   self._focus(transform))
        generator, discriminator = self._networks(transform, sampler.width, device)

        schedule = training_schedule(train, auto=auto, steps=tabular.steps)
        batch_size = max(tabular.pack, min(schedule.batch_size, total_rows) // tabular.pack * tabular.pack)
        processes = 1 if distributed is None else distributed.world_size
        rank_batch = max(tabular.pack, batch_size // processes // tabular.pack * tabular.pack)
        steps_per_epoch = schedule.steps_per_round or max(1, total_rows // batch_size)
        rounds = schedule.rounds
        if dp.enabled and train.epochs is None:  # a large table needs no more private steps than a small one
            rounds = min(rounds, max(1, math.ceil(PRIVATE_MAX_STEPS / steps_per_epoch)))
        train = replace(train, epochs=rounds, generator_lr=train.generator_lr or schedule.learning_rate,
                        discriminator_lr=train.discriminator_lr or schedule.learning_rate)
        privacy, marginals, started = None, None, time.perf_counter()
        if dp.enabled:
            marginals = self._private_start(generator, transform, plan, scalars, codes, sampler, rng, train.seed)
            if "dp_sgd" in plan.parts:
                privacy = PrivateDiscriminator(discriminator, *plan.parts["dp_sgd"], dp.max_grad_norm,
                                               batch_size / total_rows, steps_per_epoch * train.epochs)
        problem = _TabularProblem(torch.as_tensor(scalars, device=device), sampler.codes,
                                  transform, sampler, rank_batch, tabular.embedding_dim,
                                  poisson_rate=None if privacy is None else batch_size / total_rows)
        selection = None
        if schedule.steps_per_round:
            score = FidelityScore(scalars, codes, transform.layout, sampler, tabular.embedding_dim,
                                  own_bins=tabular.numeric_encoding == "quantile" and tabular.calibrate_marginals,
                                  seed=train.seed or 0)
            selection = BestGenerator(score, patience=PATIENCE_ROUNDS if tabular.early_stopping else None,
                                      min_rounds=MIN_ROUNDS)
        checkpoint = None if checkpoint_dir is None else Checkpoint(
            Path(checkpoint_dir), {"train_config": to_dict(train), "tabular_config": to_dict(tabular),
                                   "columns": [s.to_dict() for s in schema], "rows": total_rows})
        state = checkpoint.load() if resume and checkpoint is not None else None
        if resume and checkpoint is None:
            raise GanforgeError("resume needs the checkpoint folder of the interrupted fit")
        extras: dict[str, Callable[[], Any]] = {}
        if selection is not None:
            if state is not None:
                selection.restore(state.pop("selection"))
            extras["selection"] = selection.state
        save_checkpoint = None if checkpoint is None else (
            lambda good: checkpoint.save({**good, **{key: get() for key, get in extras.items()}}))
        if transform.layout.width == 0:  # only constants and identifiers: nothing for a GAN to learn
            result = TrainResult(generator=generator.eval(), stopped_by="nothing to learn")
        elif dp.enabled and privacy is None:  # the whole private budget went to the marginals
            result = TrainResult(generator=generator.eval(), stopped_by="marginals",
                                 seconds=time.perf_counter() - started)
        else:
            # the batch actually used (capped at the table) sets the learning-rate scale, not the one asked for
            result = train_gan(generator, discriminator, problem, replace(train, batch_size=batch_size),
                               steps_per_epoch=steps_per_epoch,
                               pack=tabular.pack, resume=state, save_checkpoint=save_checkpoint,
                               checkpoint_every=checkpoint_every, distributed=distributed, privacy=privacy,
                               progress=both(selection, progress))
        if schedule.steps_per_round and result.stopped_by == "epochs":
            result.stopped_by = "steps"
        if selection is not None and tabular.early_stopping and selection.best_state is not None:
            result.generator.load_state_dict(selection.best_state)
            if result.stopped_by == "callback" and selection.stopped:
                result.stopped_by = "validation"
        self.schema_, self.transform_, self.generator_ = schema, transform, result.generator
        self.text_models_ = text_models
        self.sampler_ = self._generation_sampler(transform, device)
        shares = block_shares(codes, transform.layout.block_sizes)  # what the category calibration aims at
        self.tilt_, calibration = self._fit_tilt(shares, distributed)
        self.category_shares_ = shares if self.tilt_ is not None else (
            self._released_shares(transform) if dp.enabled and tabular.calibrate_marginals else None)
        self.rejection_, rejection = self._fit_rejection(scalars, codes, distributed)
        if self.rejection_ is not None and self.tilt_ is not None:  # the critic drops some categories' rows more
            tilt, kept = self._refit_tilt(shares)
            reason = None
            if kept["kept_gap_after"] > KEPT_MAX_GAP:
                reason = (f"the rows a row critic keeps hold {kept['kept_column_after']!r} off its training shares "
                          f"by up to {kept['kept_gap_after']:.2f} even after the category tilt: every row is kept")
            elif kept["kept_share_after"] < KEPT_MIN_SHARE:
                reason = (f"a row critic would keep {kept['kept_share_after']:.1%} of generated rows once the "
                          "category tilt brings their shares back: every row is kept")
            if reason is not None:
                log.info("rejection sampling dropped: %s", reason)
                self.rejection_, rejection = None, {**rejection, "kept": False, "reason": reason}
            else:
                self.tilt_ = tilt
                calibration.update(kept)
        self.training_ = {"rows": total_rows, "batch_size": batch_size, "processes": processes,
                          "epochs_run": len(result.history), "stopped_by": result.stopped_by,
                          "seconds": round(result.seconds, 3), "rollbacks": result.rollbacks,
                          "resumed_from_epoch": state["epoch"] if state else None, "device": str(device),
                          "history": result.history, "steps": len(result.history) * steps_per_epoch,
                          "learning_rates": list(train.learning_rates)}
        if rejection is not None:
            self.training_["rejection"] = rejection
        if self.exclusions_:
            self.training_["exclusions"] = summary(self.exclusions_, cell_names(transform)[transform.layout.n_scalars:])
        if calibration is not None:
            self.training_["calibration"] = calibration
        self.notes_ = notes
        if selection is not None:
            for round_, value in selection.curve:  # the report draws the score beside the losses
                if 0 < round_ <= len(result.history):
                    result.history[round_ - 1].update(step=round_ * steps_per_epoch, fidelity=value)
            self.training_["validation"] = {
                "early_stopping": tabular.early_stopping, "steps_per_score": steps_per_epoch,
                "best_step": selection.best_round * steps_per_epoch, "best_score": round(selection.best_score, 5),
                "curve": [[round_ * steps_per_epoch, value] for round_, value in selection.curve]}
        self.privacy_ = None
        if dp.enabled:
            coverage = privacy_coverage(*plan.statistics, dp, dp_sgd=privacy is not None)
            coverage["statistics"]["bought"] = statistics_bought(transform)
            spent = plan.before_dp_sgd + (privacy.spent() if privacy else 0.0)
            self.privacy_ = {"epsilon": round(spent, 6),
                             "delta": dp.dp_delta, **coverage, "row_count": plan.row_count, "marginals": marginals,
                             "training": privacy.summary() if privacy else None}
        log.info("fitted %d rows x %d columns: %d epochs in %.1f s", total_rows, len(schema),
                 len(result.history), result.seconds)
        return self

    def _private_start(self, generator: torch.nn.Module, transform: TableTransform, plan: BudgetPlan,
                       scalars: np.ndarray, codes: np.ndarray, sampler: ConditionSampler, rng: np.random.Generator,
                       seed: int | None) -> dict | None:
        """The generator fitted to the noisy pair marginals, or to independent columns where the plan set the
        pairs aside; what it was fitted to (None where neither was planned)."""
        dp, tabular = self.privacy_config, self.tabular_config
        cells = Cells(transform.layout)
        known = cells.known_shares(transform.category_counts(), tabular.numeric_encoding == "quantile",
                                   transform.missing_shares())
        if "marginals" in plan.parts:  # the generator first learns the noisy two-way marginals
            epsilon, delta = plan.parts["marginals"]
            marginals = {"epsilon": epsilon, "delta": delta, "composed": plan.composed} | warm_start(
                generator, cells, scalars, codes, sampler, tabular.embedding_dim, plan.marginals_rho, rng,
                dp.dp_marginal_steps, seed=seed or 0, known_shares=known, rows_hint=(plan.row_count or {}).get("rows"))
            if plan.composed == "together":  # what their share would have bought converted on its own
                marginals["rho_apart"] = plan.rho_apart
            if "chosen" in marginals:  # by the columns' names, for `fit` and `info`
                names = cell_names(transform)
                marginals["chosen"] = [f"{names[a]} & {names[b]}" for a, b in marginals["chosen"]]
            log.info("fitted the generator to %d noisy pair marginals (noise %.3g)", marginals["pairs"],
                     marginals["noise_sigma"])
            return marginals
        if not plan.pairs_set_aside:
            return None
        count = plan.row_count
        measurement = unmeasured(cells, count["rows"], count["noise_sigma"], count["strongest_dependence"], known)
        marginals = {"epsilon": 0.0, "delta": 0.0, "measured": False} | fit_to(
            generator, cells, measurement, sampler, tabular.embedding_dim, dp.dp_marginal_steps, seed or 0)
        log.info("fitted the generator to independent columns: a noisy count of %d rows says the pairs' noise "
                 "would hide any dependence", count["rows"])
        return marginals

    def _fit_tilt(self, target: np.ndarray, distributed) -> tuple[Tensor | None, dict | None]:
        """Offsets on the generator's category logits that bring every one-hot block to its training shares
        `target` (see `calibration`), and how far off the shares were. Not under DP, where the real shares are read
        only with noise, nor under torchrun, where each process holds part of the rows."""
        layout = self.transform_.layout
        if (not self.tabular_config.calibrate_marginals or not layout.block_sizes or self.privacy_config.enabled
                or distributed is not None):
            return None, None
        generator = self.generator_.eval()
        device = next(generator.parameters()).device
        torch_rng = torch.Generator(device=device).manual_seed(self.train_config.seed or 0)
        with torch.no_grad():
            noise = torch.randn(TILT_ROWS, self.tabular_config.embedding_dim, device=device, generator=torch_rng)
            logits = generator(noise, self.sampler_.generation_batch(TILT_ROWS, torch_rng))[:, layout.n_scalars:]
        largest, column = self._largest_gap(mean_shares(logits, layout), target)
        tilt = fit_tilt(logits, target, layout)
        return (torch.as_tensor(tilt, dtype=torch.float32, device=device),
                {"largest_gap": largest, "column": column, "on_kept_rows": False})

    def _largest_gap(self, shares: np.ndarray, target: np.ndarray) -> tuple[float, str]:
        """The largest gap between a category's share and its training share, and its column."""
        gaps = np.abs(shares - target)
        owners = [column.spec.name for column in self.transform_.columns  # one name per one-hot entry
                  for size in column.block_sizes for _ in range(size)]
        return round(float(gaps.max()), 4), owners[int(np.argmax(gaps))]

    def _refit_tilt(self, target: np.ndarray) -> tuple[Tensor, dict]:
        """The tilt refitted on the rows the row critic keeps, all rounds from the same draws, and how far off
        the kept rows' shares were before."""
        layout, critic = self.transform_.layout, self.rejection_
        generator = self.generator_.eval()
        device = next(generator.parameters()).device
        blocks = Blocks(layout, device)

        acceptance = 1.0  # of the last draws

        @torch.no_grad()
        def kept_codes(tilt: np.ndarray) -> np.ndarray:
            nonlocal acceptance
            torch_rng = torch.Generator(device=device).manual_seed((self.train_config.seed or 0) + 1)
            offsets, kept, drawn = torch.as_tensor(tilt, dtype=torch.float32, device=device), [], 0
            while sum(map(len, kept)) < TILT_ROWS and drawn < KEPT_MAX_DRAWS:
                scalars, batch, _ = self._draw(generator, SAMPLE_CHUNK, torch_rng, None, blocks, offsets)
                kept.append(batch[critic.keep(scalars, batch, layout, torch_rng)].cpu().numpy())
                drawn += SAMPLE_CHUNK
            acceptance = sum(map(len, kept)) / drawn
            return np.concatenate(kept)

        tilt, before, after = refit_on_kept(self.tilt_.cpu().numpy().astype(np.float64), target, layout.block_sizes,
                                            kept_codes)
        largest, column = self._largest_gap(before, target)
        left, left_column = self._largest_gap(after, target)
        return (torch.as_tensor(tilt, dtype=torch.float32, device=device),
                {"on_kept_rows": True, "kept_gap": largest, "kept_column": column, "kept_gap_after": left,
                 "kept_column_after": left_column, "kept_share_after": round(acceptance, 4)})

    def _fit_rejection(self, scalars: np.ndarray, codes: np.ndarray,
                       distributed) -> tuple[RejectionSampler | None, dict | None]:
        """The row critic for rejection sampling, when asked for and allowed."""
        if not self.tabular_config.rejection_sampling or self.transform_.layout.width == 0:
            return None, None
        if self.privacy_config.enabled:  # the critic reads the real rows without noise
            return None, {"kept": False, "reason": "not under differential privacy (the critic would read the "
                                                   "real rows outside the guarantee)"}
        if distributed is not None:
            return None, {"kept": False, "reason": "not under torchrun (each process holds part of the rows)"}
        generator = self.generator_.eval()
        device = next(generator.parameters()).device
        blocks = Blocks(self.transform_.layout, device)  # once: the critic draws a batch every step

        def draw(rows: int, torch_rng: torch.Generator) -> tuple[Tensor, Tensor]:
            with torch.no_grad():
                return self._draw(generator, rows, torch_rng, None, blocks, self.tilt_)[:2]

        sampler, summary = fit_rejection_sampler(scalars, codes, self.transform_.layout, draw, device,
                                                 seed=self.train_config.seed or 0)
        log.info("rejection sampling: %s", summary["reason"])
        return sampler, summary

    def _draw(self, generator: torch.nn.Module, rows: int, torch_rng: torch.Generator,
              fixed: tuple[int, int] | None, blocks: Blocks, tilt: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """Generated rows in the encoded form: scalars in (-1, 1) and one code per block, drawn from the
        logits plus `tilt` (see `calibration`) by the Gumbel-max trick, and the noisy logits they were drawn by
        (what `exact_counts` moves codes by)."""
        device = next(generator.parameters()).device
        noise = torch.randn(rows, self.tabular_config.embedding_dim, device=device, generator=torch_rng)
        condition = self.sampler_.generation_batch(rows, torch_rng, fixed)
        raw = generator(noise, condition)
        n_scalars = self.transform_.layout.n_scalars
        logits = raw[:, n_scalars:] if tilt is None else raw[:, n_scalars:] + tilt
        noisy = logits + gumbel_noise(logits, torch_rng)
        codes = repair(blocks.argmax(noisy), logits, self.exclusions_, blocks, torch_rng)
        return torch.tanh(raw[:, :n_scalars]), codes, noisy

    @staticmethod
    def _released_shares(transform: TableTransform) -> np.ndarray:
        """Under DP, the category shares the column statistics released (noisy level counts, a number's noisy
        share of missing values), NaN for a block they say nothing of: sampled rows get these counts, which is
        post-processing."""
        layout = transform.layout
        shares, spans = np.full(sum(layout.block_sizes), np.nan), layout.block_spans
        for block, counts in zip(layout.conditional_blocks, transform.category_counts()):
            counts = np.clip(np.asarray(counts, np.float64), 0, None)
            if counts.sum() > 0 and len(counts) == layout.block_sizes[block]:
                shares[spans[block]] = counts / counts.sum()
        for block, missing in transform.missing_shares().items():
            if layout.block_sizes[block] == 2:
                shares[spans[block]] = [1 - missing, missing]
        return shares

    def _counting_blocks(self) -> list[int]:
        """The blocks whose codes a sample's rows get at their training counts (under DP, their released
        counts): all whose shares are known, but those an excluded pair of levels ties to another block (moving
        a code could make the pair)."""
        if self.category_shares_ is None:
            return []
        tied = {block for exclusion in self.exclusions_ for block in (exclusion.first, exclusion.second)}
        return [block for block, span in enumerate(self.transform_.layout.block_spans) if block not in tied
                and not np.isnan(self.category_shares_[span]).any()]

    def _exact_counts(self, codes: np.ndarray, scores: np.ndarray, counting: list[int]) -> np.ndarray:
        """`codes` of the rows a sample draws together (changed in place), each counting block's codes moved to
        its training counts (`calibration.exact_counts`) where the multinomial noise left them off."""
        spans = self.transform_.layout.block_spans
        for block in counting:
            target = shares_to_counts(self.category_shares_[spans[block]], len(codes))
            codes[:, block] = exact_counts(codes[:, block], scores[:, spans[block]], target)
        return codes

    def _check_private(self, data, distributed) -> None:
        """Settings DP-SGD cannot honour are refused before anything is read."""
        train, dp = self.train_config, self.privacy_config
        if distributed is not None:
            raise GanforgeError("differentially private training runs in one process, not under torchrun")
        if LOSSES[train.loss].needs_gradient_penalty:
            raise GanforgeError(f"differential privacy cannot use loss {train.loss!r} (its gradient penalty "
                                "needs the critic's gradient per row twice): use nonsaturating, hinge or lsgan")
        if train.r1_penalty > 0 or train.spectral_norm:
            raise GanforgeError("differential privacy works without r1_penalty and spectral_norm")
        if dp.dp_delta >= 1 / len(data):
            raise GanforgeError(f"dp_delta={dp.dp_delta:g} must be well below 1/rows = {1 / len(data):.2g}, "
                                "or one row could be released whole")
        unknown = sorted((set(dp.dp_public_bounds) | set(dp.dp_public_categories)) - set(data.columns))
        if unknown:
            raise GanforgeError(f"public bounds or categories given for unknown column(s): {', '.join(unknown)}")

    def _focus(self, transform: TableTransform) -> list[int]:
        """Indices, among the conditional columns, of `focus_columns`; each must be categorical."""
        focus, discrete = [], [c.spec.name for c in transform.columns if c.is_discrete]
        for name in self.tabular_config.focus_columns:
            if name not in discrete:
                raise GanforgeError(f"focus column {name!r} is not a categorical column of the table")
            focus.append(transform.layout.conditional_blocks.index(transform.column_block(name)))
        return focus

    def _generation_sampler(self, transform: TableTransform, device: torch.device) -> ConditionSampler:
        """Conditions for sampling need the category frequencies only: no training rows, no row index."""
        return ConditionSampler(transform.layout, transform.category_counts(), device, focus=self._focus(transform))

    def _networks(self, transform: TableTransform, condition_dim: int,
                  device: torch.device) -> tuple[TabularGenerator, TabularDiscriminator]:
        tabular = self.tabular_config
        generator = TabularGenerator(tabular.embedding_dim, condition_dim, tabular.generator_dims, transform.layout)
        discriminator = TabularDiscriminator(transform.layout.width + condition_dim, tabular.discriminator_dims,
                                             tabular.pack, self.train_config.spectral_norm)
        return generator.to(device), discriminator.to(device)

    # -- sampling ------------------------------------------------------------------------------------------
    def _parse_conditions(self, conditions: Mapping[str, Any]) -> list[tuple[str, Any, int, int, int]]:
        """(column, level, conditional column index, code, level count) for each condition; the last three None
        for a category computed from a number's ranges, whose rows are filtered only."""
        parsed = []
        names = [c.spec.name for c in self.transform_.columns]
        for name, value in conditions.items():
            if name not in names:
                raise GanforgeError(f"condition on unknown column {name!r}; columns are: {', '.join(names)}")
            column = self.transform_.columns[names.index(name)]
            ranges = column.rule is not None and column.rule.rule == "bins"  # computed from a number's range:
            # rows are drawn and filtered, nothing is fixed
            if not column.is_discrete and not ranges:
                raise GanforgeError(f"cannot condition on column {name!r} ({column.spec.kind}): conditions work "
                                    "on categorical, boolean and small integer columns")
            levels = list(dict.fromkeys(column.rule.knots[1])) if ranges else column.encoder.levels
            matches = [i for i, level in enumerate(levels) if level is not None and level == value
                       and isinstance(level, bool) == isinstance(value, (bool, np.bool_))]
            matches = matches or [i for i, level in enumerate(levels) if level is not None and str(level) == str(value)]
            if not matches:
                shown = ", ".join(repr(v) for v in levels[:10]) + (", ..." if len(levels) > 10 else "")
                raise GanforgeError(f"condition {name}={value!r}: value never occurs in column {name!r} "
                                    f"(seen: {shown})")
            index = matches[0]
            if ranges:
                parsed.append((name, levels[index], None, None, None))
                continue
            block = self.transform_.column_block(name)
            conditional_index = self.transform_.layout.conditional_blocks.index(block)
            parsed.append((name, levels[index], conditional_index, min(index, column.encoder.top),
                           column.encoder.counts[index]))
        return parsed

    def sample(self, n: int | None = None, *, seed: int | None = None, conditions: Mapping[str, Any] | None = None,
               rejection: bool = True, num_rows: int | None = None) -> pd.DataFrame:
        """`n` new rows (`num_rows` is the same); every row satisfies `conditions` ({column: value}) when given.
        With a row critic fitted (`rejection_sampling`), rows it finds fake are dropped and replaced, unless
        `rejection=False`."""
        if (n is None) == (num_rows is None):
            raise GanforgeError("give the number of rows once: sample(n) or sample(num_rows=n)")
        frames = list(self.sample_chunks(n if num_rows is None else num_rows, conditions, seed, rejection))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    @torch.no_grad()
    def sample_chunks(self, num_rows: int, conditions: Mapping[str, Any] | None = None,
                      seed: int | None = None, rejection: bool = True) -> Iterator[pd.DataFrame]:
        """The rows of `sample()` as consecutive frames of at most SAMPLE_CHUNK rows, so any number of rows
        can be written out in constant memory. Rows are drawn in units of CALIBRATION_UNIT, and the rows a unit
        gives are ranked onto each column's quantiles together (`calibrate_marginals`): the last rows asked
        for, fewer than a unit, as a unit of their own rather than a random part of a full one, whose marginals
        carry a random sample's noise (65 rows of a car table: column shapes 0.85 and 0.90 in two seeds, 0.97 at
        5,000 rows). A row critic's kept rows are gathered over as many draws as a unit takes. Where conditions
        filter the rows, whole draws are decoded and filtered."""
        self._check_fitted()
        if isinstance(num_rows, bool) or not isinstance(num_rows, (int, np.integer)) or num_rows <= 0:
            raise GanforgeError(f"number of rows must be a positive integer, got {num_rows!r}")
        parsed = self._parse_conditions(conditions or {})
        fixable = [c for c in parsed if c[2] is not None]  # the rarest generated level is fixed
        fixed = min(fixable, key=lambda c: c[4])[2:4] if fixable else None
        generator = self.generator_.eval()
        device = next(generator.parameters()).device
        seed = int(np.random.default_rng().integers(2**63 - 1)) if seed is None else seed
        torch_rng = torch.Generator(device=device).manual_seed(seed)
        numpy_rng = np.random.default_rng(seed)
        layout = self.transform_.layout
        blocks = Blocks(layout, device)
        critic = self.rejection_ if rejection else None
        produced, generated = 0, 0
        kept_scalars, kept_codes = [], []  # rows drawn (and kept by the critic) for the unit being gathered
        counting = self._counting_blocks() if not parsed else []
        kept_scores: list[Tensor] | None = [] if counting and (
            min(CALIBRATION_UNIT, num_rows) * sum(layout.block_sizes) <= EXACT_MAX_SCORES) else None
        while produced < num_rows:
            if generated >= MAX_REJECTION_FACTOR * num_rows + SAMPLE_CHUNK:
                if not parsed and critic is not None:
                    raise GanforgeError(f"could only generate {produced} of {num_rows} rows: the row critic keeps "
                                        "too few generated rows; sample without rejection (--no-rejection)")
                if not parsed:
                    raise GanforgeError(f"could only generate {produced} of {num_rows} rows: the columns computed "
                                        "from others rarely come out inside the range their training values span")
                wanted = ", ".join(f"{c[0]}={c[1]!r}" for c in parsed)
                raise GanforgeError(f"could only generate {produced} of {num_rows} rows with {wanted}: "
                                    "the model rarely produces this combination")
            scalars, codes, scores = self._draw(generator, SAMPLE_CHUNK, torch_rng, fixed, blocks, self.tilt_)
            generated += SAMPLE_CHUNK
            if critic is not None:
                kept = critic.keep(scalars, codes, layout, torch_rng)
                scalars, codes, scores = scalars[kept], codes[kept], scores[kept]
            if kept_scores is not None:
                kept_scores.append(scores)
            if not parsed:  # only the rows still wanted, a unit's worth, so they are calibrated together: ranked
                # in the smaller batches a critic keeps, every batch's top rows landed on the same quantile and
                # the extremes were never drawn (a film table's longest films, 384-566 minutes, never came out)
                kept_scalars.append(scalars)
                kept_codes.append(codes)
                unit = min(CALIBRATION_UNIT, num_rows - produced)
                if sum(len(part) for part in kept_scalars) < unit:
                    continue
                scalars, codes = torch.cat(kept_scalars)[:unit], torch.cat(kept_codes)[:unit]
                kept_scalars, kept_codes = [], []
            codes_np = codes.cpu().numpy()
            if kept_scores:  # a whole unit's rows (under conditions nothing is kept for counting)
                codes_np = self._exact_counts(codes_np, torch.cat(kept_scores)[:len(codes_np)].cpu().numpy(), counting)
                kept_scores = []
            frame = self.transform_.decode(scalars.cpu().numpy(), codes_np, numpy_rng,
                                           calibrate=self.tabular_config.calibrate_marginals)
            for name, level, *_ in parsed:
                frame = frame[(frame[name] == level).to_numpy()]
            frame = frame[~self.transform_.outside_seen_range(frame)]  # drawn again in the next round
            frame = frame.iloc[:num_rows - produced]
            for start in range(0, len(frame), SAMPLE_CHUNK):
                part = fill_text_columns(frame.iloc[start:start + SAMPLE_CHUNK].copy(), self.text_models_,
                                         self.schema_, numpy_rng)
                part.index = pd.RangeIndex(produced, produced + len(part))
                produced += len(part)
                yield part

    # -- persistence ---------------------------------------------------------------------------------------
    model_type = MODEL_TYPE

    def info(self) -> dict[str, Any]:
        self._check_fitted()
        return {"model_type": MODEL_TYPE,
                "columns": [{"name": s.name, "kind": s.kind, "dtype": s.dtype,
                             "null_rate": None if s.null_rate is None else round(s.null_rate, 4)}
                            for s in self.schema_],
                "train_config": to_dict(self.train_config), "tabular_config": to_dict(self.tabular_config),
                "training": {k: v for k, v in self.training_.items() if k != "history"},
                "privacy": self.privacy_}

    def state(self) -> tuple[dict, dict[str, Tensor]]:
        config = {"train_config": to_dict(self.train_config),
                  "tabular_config": to_dict(self.tabular_config), "transform": self.transform_.state(),
                  "training": self.training_, "privacy_config": to_dict(self.privacy_config),
                  "privacy": self.privacy_}
        weights = self.generator_.state_dict()
        if self.tilt_ is not None:
            config["category_tilt"] = [float(value) for value in self.tilt_.cpu()]  # exact: samples repeat
        if self.category_shares_ is not None:
            config["category_shares"] = [None if np.isnan(value) else float(value) for value in self.category_shares_]
        if self.rejection_ is not None:
            config["rejection"] = self.rejection_.state()
            weights = {**weights, **{f"{REJECTION_PREFIX}.{key}": value
                                     for key, value in self.rejection_.critic.state_dict().items()}}
        if self.text_models_:
            config["text_columns"], text_weights = text_columns_state(self.text_models_)
            weights = {**weights, **text_weights}
        if self.exclusions_:
            config["exclusions"] = [exclusion.state() for exclusion in self.exclusions_]
        return config, weights

    @classmethod
    def from_state(cls, config: dict, weights: dict[str, Tensor], source: str | os.PathLike,
                   device: str = "auto") -> TabularSynthesizer:
        path, source = Path(source).parent, str(source)
        require_keys(config, ("train_config", "tabular_config", "transform", "training"), source)
        with settings_of(source):
            model = cls(from_dict(TrainConfig, config["train_config"]),
                        from_dict(TabularConfig, config["tabular_config"]),
                        from_dict(PrivacyConfig, config.get("privacy_config", {})))
            transform = TableTransform.from_state(config["transform"])
        torch_device = choose_device(device)
        sampler = model._generation_sampler(transform, torch_device)
        generator, _ = model._networks(transform, sampler.width, torch_device)
        own = {key: value for key, value in weights.items()
               if not key.startswith((TEXT_PREFIX + ".", REJECTION_PREFIX + "."))}
        load_weights(generator, own, path)
        model.rejection_, tilt = None, config.get("category_tilt")
        if tilt is not None and len(tilt) != sum(transform.layout.block_sizes):
            raise GanforgeError(f"{source}: category_tilt has {len(tilt)} values for "
                                f"{sum(transform.layout.block_sizes)} category entries")
        model.tilt_ = None if tilt is None else torch.as_tensor(tilt, dtype=torch.float32, device=torch_device)
        shares = config.get("category_shares")
        if shares is not None and len(shares) != sum(transform.layout.block_sizes):
            raise GanforgeError(f"{source}: category_shares has {len(shares)} values for "
                                f"{sum(transform.layout.block_sizes)} category entries")
        model.category_shares_ = None if shares is None else np.asarray(
            [np.nan if value is None else value for value in shares], dtype=np.float64)
        if config.get("rejection") is not None:
            critic_weights = {key[len(REJECTION_PREFIX) + 1:]: value for key, value in weights.items()
                              if key.startswith(REJECTION_PREFIX + ".")}
            try:
                model.rejection_ = RejectionSampler.from_state(config["rejection"], transform.layout.width,
                                                               critic_weights, torch_device)
            except (KeyError, TypeError, ValueError, RuntimeError) as error:
                raise GanforgeError(f"{source}: the rejection sampler does not match its weights ({error})") from None
        model.text_models_ = text_columns_from_state(config.get("text_columns", []), weights, source, device)
        try:
            model.exclusions_ = [Exclusion.from_state(state, transform.layout)
                                 for state in config.get("exclusions", [])]
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise GanforgeError(f"{source}: the excluded level pairs do not match the columns ({error!r})") from None
        model.schema_ = [column.spec for column in transform.columns]
        model.transform_, model.sampler_, model.generator_ = transform, sampler, generator.eval()
        model.training_, model.privacy_ = config["training"], config.get("privacy")
        return model
