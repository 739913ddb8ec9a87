"""TextSynthesizer: a GRU language model fitted by maximum likelihood, then (optionally) adversarially with
Gumbel-softmax; samples one text per call at a chosen temperature."""

from __future__ import annotations

import copy
import functools
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import TEXT_TRAIN_DEFAULTS, TextConfig, TrainConfig, from_dict, saved_text_config, to_dict
from ..core.device import choose_device, flushing_subnormals, seed_everything
from ..core.progress import Progress, ProgressCallback
from ..core.trainer import train_gan
from ..errors import GanforgeError
from ..persist import load_weights, require_keys, settings_of
from ..synthesizer import Synthesizer
from .networks import TextDiscriminator, TextGenerator, mask_after_end
from .policy_gradient import mle_loss, one_hot, train_policy_gradient
from .tokenize import EOS, PAD, Vocabulary, choose_level, read_lines

Tensor = torch.Tensor
MODEL_TYPE = "text"
LONGEST = 128
HELD_OUT_SHARE = 0.1  # of the texts, held out to stop maximum likelihood and to choose the shipped generator
MIN_HELD_OUT, MAX_HELD_OUT = 50, 1000
MLE_PATIENCE = 2  # epochs without a lower held-out loss
MLE_DECAYS, MLE_DECAY = 2, 0.25  # a stalled held-out loss first sends the weights back to their best epoch with a
# quarter of the learning rate, twice, before it ends the phase: on the tuning corpora of benchmarks/text_quality.py
# (split 0, two minutes) the best held-out loss fell 4.125 -> 4.115 nats per word (fortunes) and 1.966 -> 1.958 per
# letter (first names); decaying at the first stalled epoch instead cost the names 0.014
MLE_EPOCHS = 20  # without a time budget and a held-out slice to stop it (TextConfig.mle_epochs None)
MLE_SHARE = 0.8  # of a time budget, at most, for maximum likelihood when an adversarial phase follows (0.6
# and 0.8 tried on the tuning corpora of benchmarks/text_quality.py: 0.8 nearer the real texts on both)
MLE_LEARNING_RATE = 1e-3
ADAPTIVE_CLUSTERS = (250, 1000)  # adaptive-softmax cut-offs for word level, used where the vocabulary is larger
ADAPTIVE_FROM = 1000  # words: below it the one output layer costs little (cut-offs chosen on the tuning corpus of
# benchmarks/text_quality.py by held-out loss after 85 s: fortunes 4.228 nats per word with one layer, 4.151 with
# (250, 1000), 4.165 with (500, 2000), 4.181 with (1000,))
COPY_LIMIT = 0.01  # the most a generator's texts may repeat the input's texts verbatim, beyond the lowest loss
BEYOND_PATIENCE = 3  # checks in a row without texts nearer the slice end the training beyond the lowest loss
BEYOND_CHECK_SHARE = 0.25  # of that training's time, about, spent checking it
CHECK_SHARE = 0.1  # of a time budget kept for scoring both generators
MIN_PHASE_SECONDS = 2.0
SHIP_SAMPLES = 500
TEMPERATURES = (0.9, 1.0, 1.1, 1.2)  # the sampling temperatures `fit` chooses among on the held-out slice
TEMPERATURE_MARGIN = 0.02  # another temperature replaces 1 only where its texts are this much nearer the slice
# (relative Frechet distance): on the tuning corpora of benchmarks/text_quality.py (fortunes cut to 4,000, 2,000 and
# 400 texts, first names) the slice picked 1.1 in three of eight fits, each then 4-7% nearer the test texts than at
# 1, and the margin kept 1 in a first-names fit where 1.1 was 0.3% nearer the slice and 4% farther from the test


def _hold_out(lines: list[str], seed: int | None) -> tuple[list[str], list[str]]:
    """(training, held-out) texts: a random tenth held out, between MIN_HELD_OUT and MAX_HELD_OUT, and none
    when that would leave fewer than three times as many to train on."""
    size = min(MAX_HELD_OUT, max(MIN_HELD_OUT, round(HELD_OUT_SHARE * len(lines))))
    if len(lines) < 4 * size:
        return lines, []
    order = torch.randperm(len(lines), generator=torch.Generator().manual_seed(seed or 0)).tolist()
    return [lines[i] for i in sorted(order[size:])], [lines[i] for i in sorted(order[:size])]


def _clusters(level: str, vocabulary: int) -> tuple[int, ...]:
    """Adaptive-softmax cut-offs for a vocabulary: ADAPTIVE_CLUSTERS at word level over more than ADAPTIVE_FROM
    words, else none (characters: a few dozen)."""
    if level != "word" or vocabulary <= ADAPTIVE_FROM:
        return ()
    return tuple(c for c in ADAPTIVE_CLUSTERS if c < vocabulary - 1)


def _output_reason(clusters: tuple[int, ...], vocabulary: int, level: str, chosen: bool, tied: bool = False) -> str:
    """What `fit` prints about the output layer, and why."""
    if not clusters:
        why = "asked for" if not chosen else "tied to the input embedding" if tied else (
            "characters" if level == "char" else f"at most {ADAPTIVE_FROM:,} words: a small layer")
        return f"one softmax over all {vocabulary:,} tokens ({why})"
    cuts = ", ".join(f"{c:,}" for c in clusters)
    why = "asked for" if not chosen else f"words, more than {ADAPTIVE_FROM:,}: about half the cost of a step"
    return f"adaptive softmax over {vocabulary:,} tokens, cut at the {cuts} most frequent ({why})"


def _generator(vocabulary: int, config: TextConfig) -> TextGenerator:
    return TextGenerator(vocabulary, config.embedding_dim, config.hidden_dim, config.tied_output,
                         tuple(config.softmax_clusters or ()))


def _mle_epoch(generator: TextGenerator, optimiser: torch.optim.Optimizer, ids: Tensor, batch: int) -> float:
    """One maximum-likelihood pass over `ids`; its mean loss."""
    total = 0.0
    for rows in _length_batches(ids, batch):
        loss = mle_loss(generator, ids[rows])
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(generator.parameters(), 5.0)
        optimiser.step()
        total += loss.item() * len(rows)
    return total / len(ids)


def _length_batches(ids: Tensor, batch: int, shuffle: bool = True) -> list[Tensor]:
    """Row indices in batches of texts of about one length, in random order: a batch costs as much as its
    longest text, and with random batches most of that is padding (fortunes: 14.5 tokens on average, 27.6 the
    longest of a random 64)."""
    lengths = (ids != PAD).sum(dim=1)
    order = torch.randperm(len(ids), device=ids.device) if shuffle else torch.arange(len(ids), device=ids.device)
    batches = list(order[lengths[order].argsort(stable=True)].split(batch))
    return [batches[i] for i in torch.randperm(len(batches))] if shuffle else batches


class _TextProblem:
    """Real texts as one-hot sequences; the generator's as masked Gumbel-softmax sequences, with
    `mle_weight` x the maximum-likelihood loss of a real batch as the generator's extra loss."""

    def __init__(self, ids: Tensor, vocabulary: int, batch_size: int, config: TextConfig):
        self.ids, self.vocabulary, self.batch_size, self.config = ids, vocabulary, batch_size, config

    def _rows(self) -> Tensor:
        return self.ids[torch.randint(len(self.ids), (self.batch_size,), device=self.ids.device)]

    def real_batch(self) -> tuple[Tensor, None]:
        return one_hot(self._rows(), self.vocabulary), None

    def sample_condition(self) -> None:
        return None

    def generate(self, generator: nn.Module, condition: None) -> tuple[Tensor, Tensor]:
        soft = mask_after_end(generator.relaxed(self.batch_size, self.ids.shape[1], self.config.gumbel_tau,
                                                self.config.gumbel_hard))
        if not (self.config.mle_weight and torch.is_grad_enabled()):
            return soft, soft.new_zeros(())
        return soft, self.config.mle_weight * mle_loss(generator, self._rows())


class TextSynthesizer(Synthesizer):
    """Short texts (one per line) in, new ones out. Settings: fields of `TrainConfig` (the adversarial phase)
    and `TextConfig`: `TextSynthesizer(level="word", mle_epochs=30, adversarial="none")`.

    After an adversarial fit that is shipped, the maximum-likelihood generator it started from is kept as
    `baseline_`, so the GAN can always be compared with the plain language model it came from
    (`sample(..., baseline=True)`). Where maximum likelihood is shipped instead, the adversarial generator is
    `rejected_` until the model is saved (for the fit's report)."""

    model_type = MODEL_TYPE

    def __init__(self, train: TrainConfig | None = None, text: TextConfig | None = None, **settings: Any):
        self.train_config, self.text_config = self.merge_settings(train, text, TextConfig, TEXT_TRAIN_DEFAULTS,
                                                                   settings)

    @flushing_subnormals
    def fit(self, texts: list[str] | str | os.PathLike, progress: ProgressCallback | None = None,
            pretrained: TextSynthesizer | None = None) -> TextSynthesizer:
        """`progress` hears of every epoch of every phase (see `core.progress`); True from it ends that phase.
        `pretrained`: a model fitted on the same
        texts whose maximum-likelihood generator is reused (its phase is skipped), to compare adversarial
        phases from one starting point.

        A slice of the texts is held out (when there are enough): maximum likelihood stops when its loss on
        the slice stops falling, and after an adversarial phase both generators write as many texts as the
        slice holds; the one whose texts are nearer the slice (Frechet distance of sentence embeddings) is
        shipped, so the adversarial phase is kept only where it pays; then the same slice picks the sampling
        temperature (`TextConfig.temperature` None). `max_minutes` bounds the whole fit:
        maximum likelihood takes at most MLE_SHARE of it, the check CHECK_SHARE, the adversarial phase the
        rest; a phase the budget cannot reach is skipped, and the fit still ends with a model."""
        lines = read_lines(texts) if not isinstance(texts, list) else [t.strip() for t in texts if t.strip()]
        if len(lines) < 2:
            raise GanforgeError("need at least two texts to learn from")
        config, train = self.text_config, self.train_config
        started = time.monotonic()
        seed_everything(train.seed)
        device = choose_device(train.device)
        level, reason = (config.level, "asked for") if config.level != "auto" else choose_level(lines)
        lines, held_out = _hold_out(lines, train.seed)
        self.vocabulary_ = Vocabulary.fit(lines, level, config.max_words)
        encoded = [self.vocabulary_.encode(line) for line in lines]
        length = config.max_length or min(LONGEST, max(map(len, encoded)) + 1)
        clusters, chosen = config.softmax_clusters, config.softmax_clusters is None
        if clusters is None:
            clusters = () if config.tied_output else _clusters(level, len(self.vocabulary_))
        elif clusters and clusters[-1] >= len(self.vocabulary_) - 1:
            raise GanforgeError(f"softmax_clusters: cut-off {clusters[-1]} leaves its last cluster empty in a "
                                f"vocabulary of {len(self.vocabulary_)} tokens (at most {len(self.vocabulary_) - 2})")
        self.text_config = config = replace(config, level=level, max_length=length, softmax_clusters=clusters)
        ids = self._ids(encoded, device)
        held_ids = self._ids([self.vocabulary_.encode(line) for line in held_out], device) if held_out else None
        adversarial = config.adversarial != "none" and train.epochs > 0
        budget = None if train.max_minutes is None else 60 * train.max_minutes
        checked = bool(held_out) and (adversarial or config.temperature is None)  # the slice scores generators
        spendable = None if budget is None else budget * (1 - (CHECK_SHARE if checked else 0))
        beyond = None

        @functools.cache
        def slice_encoder():  # fitted once, for the check beyond the lowest loss and for the shipping verdict
            from .evaluate import make_encoder
            return make_encoder("auto", held_out + lines[:MAX_HELD_OUT], seed=train.seed or 0)

        if pretrained is not None:
            generator, history = self._reuse(pretrained, device)
        else:
            generator = _generator(len(self.vocabulary_), config).to(device)
            mle_deadline = None if budget is None else started + spendable * (MLE_SHARE if adversarial else 1)
            epochs = config.mle_epochs
            if epochs is None:  # a deadline and the held-out loss stop it where both exist
                epochs = sys.maxsize if budget is not None and held_ids is not None else MLE_EPOCHS
            batch = min(train.batch_size, len(ids))
            history = self._maximum_likelihood(generator, ids, held_ids, epochs, batch, mle_deadline, progress)
            if held_out and config.mle_epochs is None and (mle_deadline is None or time.monotonic() < mle_deadline):
                beyond = self._beyond_lowest_loss(generator, ids, held_out, lines, slice_encoder(), batch,
                                                  len(history), mle_deadline, progress)
        output = _output_reason(clusters, len(self.vocabulary_), level, chosen, config.tied_output)
        self.training_ = {"texts": len(lines), "held_out": len(held_out), "device": str(device),
                          "level_reason": reason, "output": output, "mle": history, "adversarial": [],
                          "phase_seconds": {"maximum likelihood": round(time.monotonic() - started, 2)}}
        if beyond is not None:
            self.training_["beyond_lowest_loss"] = beyond
        phases = self.training_["phase_seconds"]
        self.baseline_ = copy.deepcopy(generator).eval() if adversarial else None
        self.rejected_ = None
        remaining = None if budget is None else spendable - (time.monotonic() - started)
        if adversarial and remaining is not None and remaining < MIN_PHASE_SECONDS:
            adversarial, self.baseline_ = False, None
            self.training_["shipped"] = {"model": "maximum likelihood",
                                         "reason": "the time budget was spent before the adversarial phase"}
        if adversarial:
            phase_start = time.monotonic()
            generator, self.training_["adversarial"] = self._adversarial(generator, ids, remaining, progress)
            phases["adversarial"] = round(time.monotonic() - phase_start, 2)
        self.generator_ = generator.eval()
        phase_start = time.monotonic()
        if adversarial:
            self.training_["shipped"] = self._ship(held_out, lines, slice_encoder)
        if config.temperature is None:
            self.training_["temperature"] = self._choose_temperature(held_out, slice_encoder)
            self.text_config = replace(self.text_config, temperature=self.training_["temperature"]["chosen"])
        if adversarial or checked:
            phases["check"] = round(time.monotonic() - phase_start, 2)
        self.training_["seconds"] = time.monotonic() - started
        return self

    def _ids(self, encoded: list[list[int]], device) -> Tensor:
        """Token lists as one padded tensor, each ended (or cut) at `max_length`."""
        ids = torch.full((len(encoded), self.text_config.max_length), PAD, dtype=torch.long)
        for row, tokens in enumerate(encoded):
            tokens = (tokens + [EOS])[:self.text_config.max_length]
            ids[row, :len(tokens)] = torch.tensor(tokens)
        return ids.to(device)

    def _adversarial(self, generator: TextGenerator, ids: Tensor, remaining: float | None,
                     progress: ProgressCallback | None) -> tuple[TextGenerator, list]:
        config, train = self.text_config, self.train_config
        batch = min(train.batch_size, len(ids))
        discriminator = TextDiscriminator(len(self.vocabulary_), config.embedding_dim).to(ids.device)
        if config.adversarial == "gumbel":
            problem = _TextProblem(ids, len(self.vocabulary_), batch, config)
            result = train_gan(generator, discriminator, problem,
                               replace(train, batch_size=batch,
                                       max_minutes=None if remaining is None else remaining / 60),
                               steps_per_epoch=max(1, len(ids) // batch), description="fit text (adversarial)",
                               progress=progress, phase="gumbel")
            return result.generator, result.history
        deadline = None if remaining is None else time.monotonic() + remaining
        history = train_policy_gradient(generator, discriminator, ids, config, train, deadline, progress)
        return generator, history

    def _ship(self, held_out: list[str], lines: list[str], slice_encoder: Callable[[], Any]) -> dict:
        """The adversarial generator stays only if its texts are nearer the held-out slice than those of the
        maximum-likelihood generator it started from (and with no slice, it does not stay), unless the
        settings say `keep="adversarial"`, as benchmarks of adversarial phases do."""
        if self.text_config.keep == "adversarial":
            return {"model": "adversarial", "reason": "asked for (keep=adversarial)"}
        if not held_out:
            self.rejected_, self.generator_, self.baseline_ = self.generator_, self.baseline_, None
            return {"model": "maximum likelihood", "reason": f"{len(lines)} texts are too few to hold out "
                    f"{MIN_HELD_OUT} for checking the adversarial phase, so it was not kept"}
        from .evaluate import NEARER_RESAMPLES, nearer_share, score_against

        seed = self.train_config.seed or 0
        encoder = slice_encoder()
        count = max(len(held_out), SHIP_SAMPLES)  # many generated texts: the verdict should not be luck
        texts = {name: self.sample(count, seed=seed, baseline=baseline)
                 for name, baseline in (("adversarial", False), ("maximum likelihood", True))}
        scores = {name: score_against(held_out, generated, encoder, seed) for name, generated in texts.items()}
        gan, mle = scores["adversarial"]["frechet_distance"], scores["maximum likelihood"]["frechet_distance"]
        # how often the verdict holds when the slice and both samples are redrawn: reported, not a gate (shipping
        # the adversarial generator only at 90% or more sent maximum likelihood out on two held-out corpora of
        # benchmarks/text_quality.py where the adversarial one had been nearer the test texts)
        share = nearer_share(held_out, texts["adversarial"], texts["maximum likelihood"], encoder, seed)
        kept = "adversarial" if gan < mle else "maximum likelihood"
        if kept == "maximum likelihood":  # the loser stays in memory for this fit's report, not in the model
            self.rejected_, self.generator_, self.baseline_ = self.generator_, self.baseline_, None
        return {"model": kept, "reason": f"Frechet distance to {len(held_out)} held-out texts: adversarial "
                f"{gan:.4f}, maximum likelihood {mle:.4f} ({encoder.name}); the adversarial one nearer in "
                f"{share:.0%} of {NEARER_RESAMPLES} resamples", "scores": scores,
                "adversarial_nearer_share": share}

    def _choose_temperature(self, held_out: list[str], slice_encoder: Callable[[], Any]) -> dict:
        """The temperature among TEMPERATURES whose texts come nearest the held-out slice (Frechet distance),
        if it beats temperature 1 by TEMPERATURE_MARGIN; 1 where there is no slice. An early-stopped language
        model can be sharper or flatter than the texts it learned from, and this sets it right by measurement,
        with the slice that chose nothing else about the generator's weights (only when to stop)."""
        if not held_out:
            return {"chosen": 1.0, "reason": "no texts held out to choose by"}
        from ..metrics.features import frechet_distance

        seed, encoder = self.train_config.seed or 0, slice_encoder()
        real, count = encoder(held_out), max(len(held_out), SHIP_SAMPLES)
        distances = {t: round(float(frechet_distance(real, encoder(self.sample(count, seed=seed, temperature=t)))), 4)
                     for t in TEMPERATURES}
        best = min(distances, key=distances.get)
        chosen = best if distances[best] <= (1 - TEMPERATURE_MARGIN) * distances[1.0] else 1.0
        figures = ", ".join(f"{d:.4f} at {t:g}" for t, d in distances.items())
        why = "the nearest" if chosen == best else f"none nearer by {TEMPERATURE_MARGIN:.0%}"
        return {"chosen": chosen, "distances": {str(t): d for t, d in distances.items()},
                "reason": f"{why}: Frechet distance to {len(held_out)} held-out texts {figures} ({encoder.name})"}

    def _reuse(self, pretrained: TextSynthesizer, device) -> tuple[TextGenerator, list[float]]:
        source = pretrained.baseline_ if pretrained.baseline_ is not None else pretrained.generator_
        sizes = [(c.max_length, c.embedding_dim, c.hidden_dim, c.tied_output, c.softmax_clusters)
                 for c in (pretrained.text_config, self.text_config)]
        same = pretrained.vocabulary_.tokens == self.vocabulary_.tokens and sizes[0] == sizes[1]
        if not same:
            raise GanforgeError("the pretrained model was fitted on other texts or settings (vocabulary, length "
                                "or network sizes differ)")
        return copy.deepcopy(source).to(device).train(), list(pretrained.training_["mle"])

    @staticmethod
    def _maximum_likelihood(generator: TextGenerator, ids: Tensor, held_ids: Tensor | None, epochs: int,
                            batch: int, deadline: float | None, progress: ProgressCallback | None) -> list[float]:
        """Up to `epochs` passes; with held-out texts, each time their loss has not fallen for MLE_PATIENCE epochs
        it goes back to the weights of its lowest point with a smaller learning rate (MLE_DECAYS times), then
        stops there."""
        optimiser = torch.optim.Adam(generator.parameters(), lr=MLE_LEARNING_RATE)
        losses, best, best_state, stale, decays = [], math.inf, None, 0, 0
        for epoch in range(epochs):
            losses.append(_mle_epoch(generator, optimiser, ids, batch))
            record = {"epoch": epoch + 1, "loss": losses[-1]}
            if held_ids is not None:
                with torch.no_grad():
                    record["held_out_loss"] = held = float(sum(
                        mle_loss(generator, held_ids[rows]).item() * len(rows)
                        for rows in _length_batches(held_ids, batch, shuffle=False)) / len(held_ids))
                if held < best:
                    best, best_state, stale = held, copy.deepcopy(generator.state_dict()), 0
                else:
                    stale += 1
                    if stale >= MLE_PATIENCE and decays < MLE_DECAYS:  # back to the best weights, smaller steps
                        decays, stale = decays + 1, 0
                        generator.load_state_dict(best_state)
                        for group in optimiser.param_groups:
                            group["lr"] *= MLE_DECAY
                        record["learning_rate"] = optimiser.param_groups[0]["lr"]
            told_to_stop = progress is not None and progress(
                Progress("maximum likelihood", epoch + 1, record, generator))
            if told_to_stop or stale >= MLE_PATIENCE or (deadline is not None and time.monotonic() > deadline):
                break
        if best_state is not None:
            generator.load_state_dict(best_state)
        return losses

    def _beyond_lowest_loss(self, generator: TextGenerator, ids: Tensor, held_out: list[str], lines: list[str],
                            encoder: Callable[[list[str]], Any], batch: int, epochs: int, deadline: float | None,
                            progress: ProgressCallback | None) -> dict:
        """Maximum likelihood on past the held-out loss's lowest point, kept while the generator's texts come
        nearer the held-out slice (Frechet distance) and at most COPY_LIMIT of them are the user's texts verbatim;
        without a deadline, for at most `epochs` more.

        The lowest loss predicts the next token best, which is not the same as writing texts like the real
        ones: on a few hundred texts at character level it still misspells most words. On the tuning corpus of
        benchmarks/text_quality.py cut to 400 fortunes, the distance to the test texts fell 0.224 -> 0.171 in the
        40 epochs after the lowest loss while copies stayed at 0.2%, then copies climbed (2% 20 epochs later,
        39% after 180); on 2,000 fortunes (word level) it fell 0.160 -> 0.150 before copies passed 1%."""
        from ..metrics.features import frechet_distance
        from ..metrics.text import memorisation

        seed = self.train_config.seed or 0
        real, count = encoder(held_out), max(len(held_out), SHIP_SAMPLES)
        known = lines + held_out  # a copy of a held-out text is a copy of the user's data all the same

        def check() -> tuple[float, float, float]:
            started = time.monotonic()
            texts = self.texts_from(generator.eval(), count, seed)
            generator.train()
            copies = memorisation(texts, known)
            return frechet_distance(real, encoder(texts)), copies, time.monotonic() - started

        distance, copies, cost = check()
        report = {"frechet_at_lowest_loss": round(distance, 4), "copies_at_lowest_loss": round(copies, 4),
                  "epochs": 0, "kept_epoch": 0, "frechet": round(distance, 4), "losses": []}
        if copies > COPY_LIMIT:
            return report | {"stopped_by": "copies"}
        best, best_state, stale, every, stopped_by = distance, copy.deepcopy(generator.state_dict()), 0, None, "epochs"
        optimiser = torch.optim.Adam(generator.parameters(), lr=MLE_LEARNING_RATE)
        for epoch in range(1, epochs + 1):
            epoch_start = time.monotonic()
            report["losses"].append(_mle_epoch(generator, optimiser, ids, batch))
            if every is None:  # checks every few epochs, so that they cost about BEYOND_CHECK_SHARE of the time
                every = max(1, math.ceil(cost / (BEYOND_CHECK_SHARE * max(time.monotonic() - epoch_start, 1e-6))))
            out_of_time = deadline is not None and time.monotonic() > deadline
            record = {"epoch": epoch, "loss": report["losses"][-1]}
            if epoch % every == 0 or out_of_time or epoch == epochs:
                distance, copies, _ = check()
                record |= {"frechet_distance": distance, "copies": copies}
                if copies > COPY_LIMIT:
                    stopped_by = "copies"
                elif distance < best:
                    best, stale, report["kept_epoch"] = distance, 0, epoch
                    best_state = copy.deepcopy(generator.state_dict())
                else:
                    stale += 1
                    stopped_by = "patience" if stale >= BEYOND_PATIENCE else stopped_by
            told_to_stop = progress is not None and progress(
                Progress("beyond the lowest loss", epoch, record, generator))
            report["epochs"] = epoch
            if told_to_stop or out_of_time or stopped_by in ("copies", "patience"):
                stopped_by = "time" if out_of_time and stopped_by == "epochs" else stopped_by
                break
        generator.load_state_dict(best_state)
        return report | {"frechet": round(best, 4), "stopped_by": stopped_by}

    def sample(self, n: int, *, seed: int | None = None, temperature: float | None = None,
               baseline: bool = False) -> list[str]:
        """`n` texts from the shipped generator; `baseline`: from the maximum-likelihood one (the same when
        maximum likelihood was shipped). `temperature` None: the model's own (chosen by `fit`)."""
        self._check_fitted()
        if n < 1:
            raise GanforgeError(f"number of texts must be at least 1, got {n}")
        if temperature is None:
            temperature = self.text_config.temperature or 1.0
        if temperature <= 0:
            raise GanforgeError(f"--temperature must be positive, got {temperature}")
        # the maximum-likelihood generator: the baseline beside a shipped adversarial one, else the shipped one
        network = self.baseline_ if baseline and self.baseline_ is not None else self.generator_
        return self.texts_from(network, n, seed, temperature)

    def texts_from(self, network: TextGenerator, num: int, seed: int | None, temperature: float = 1.0) -> list[str]:
        """`num` texts from one of this model's generators (the shipped one, the baseline, or `rejected_`)."""
        rng = torch.Generator().manual_seed(seed if seed is not None else int(torch.randint(2**31, ()).item()))
        ids = network.sample(num, self.text_config.max_length, temperature, rng).cpu().tolist()
        texts = []
        for row in ids:
            end = row.index(EOS) if EOS in row else len(row) - 1  # unfinished: as long as the longest real text
            texts.append(self.vocabulary_.decode(row[:end]))
        return texts

    def state(self) -> tuple[dict, dict[str, Tensor]]:
        """Settings, vocabulary and training record (JSON), and the weights by name: what a model folder
        holds, also embedded in a table model for its text columns."""
        self._check_fitted()
        config = {"train_config": to_dict(self.train_config), "text_config": to_dict(self.text_config),
                  "tokens": self.vocabulary_.tokens, "training": self.training_}
        weights = {f"generator.{k}": v for k, v in self.generator_.state_dict().items()}
        if self.baseline_ is not None:
            weights |= {f"baseline.{k}": v for k, v in self.baseline_.state_dict().items()}
        return config, weights

    @classmethod
    def from_state(cls, config: dict, weights: dict[str, Tensor], source: str | os.PathLike,
                   device: str = "auto") -> TextSynthesizer:
        """The inverse of `state`; `source` names the file in error messages."""
        require_keys(config, ("train_config", "text_config", "tokens", "training"), str(source))
        with settings_of(str(source)):
            model = cls(from_dict(TrainConfig, config["train_config"]),
                        from_dict(TextConfig, saved_text_config(config)))
            model.vocabulary_ = Vocabulary(model.text_config.level, list(config["tokens"]))
        text = model.text_config
        networks = {}
        for part in ("generator", "baseline"):
            own = {k.split(".", 1)[1]: v for k, v in weights.items() if k.startswith(part + ".")}
            if part == "generator" or own:
                networks[part] = _generator(len(model.vocabulary_), text)
                load_weights(networks[part], own, Path(source).parent)
                networks[part] = networks[part].to(choose_device(device)).eval()
        model.generator_, model.baseline_ = networks["generator"], networks.get("baseline")
        model.rejected_ = None  # a rejected generator is never saved
        model.training_ = config["training"]
        return model

