"""TextSynthesizer: a GRU language model fitted by maximum likelihood, then (optionally) adversarially with
Gumbel-softmax; samples one text per call at a chosen temperature."""

from __future__ import annotations

import copy
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import TEXT_TRAIN_DEFAULTS, TextConfig, TrainConfig, from_dict, split_settings, to_dict
from ..core.device import choose_device, seed_everything
from ..core.trainer import train_gan
from ..errors import GanforgeError
from ..persist import load_model_folder, load_weights, require_keys, save_model_folder, settings_of
from .networks import TextDiscriminator, TextGenerator, mask_after_end
from .policy_gradient import mle_loss, one_hot, train_policy_gradient
from .tokenize import EOS, PAD, Vocabulary, read_lines

Tensor = torch.Tensor
MODEL_TYPE = "text"
LONGEST = 128


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


class TextSynthesizer:
    """Short texts (one per line) in, new ones out. Settings: fields of `TrainConfig` (the adversarial phase)
    and `TextConfig`: `TextSynthesizer(level="word", mle_epochs=30, adversarial="none")`.

    After an adversarial fit the maximum-likelihood generator it started from is kept as `baseline_`, so the
    GAN can always be compared with the plain language model it came from (`sample(..., baseline=True)`)."""

    def __init__(self, train: TrainConfig | None = None, text: TextConfig | None = None, **settings: Any):
        train_settings, text_settings = split_settings(settings, TrainConfig, TextConfig)
        base = to_dict(train) if train is not None else {**to_dict(TrainConfig()), **TEXT_TRAIN_DEFAULTS}
        self.train_config = TrainConfig(**{**base, **train_settings})
        self.text_config = TextConfig(**{**to_dict(text or TextConfig()), **text_settings})

    def fit(self, texts: list[str] | str | os.PathLike, progress=None,
            pretrained: "TextSynthesizer | None" = None) -> "TextSynthesizer":
        """`progress(phase, record)` hears about each finished epoch. `max_minutes` bounds the whole fit; with
        an adversarial phase, maximum likelihood may take at most half of it. `pretrained`: a model fitted on
        the same texts whose maximum-likelihood generator is reused (its phase is skipped), to compare
        adversarial phases from one starting point."""
        lines = read_lines(texts) if not isinstance(texts, list) else [t.strip() for t in texts if t.strip()]
        if len(lines) < 2:
            raise GanforgeError("need at least two texts to learn from")
        config, train = self.text_config, self.train_config
        started = time.monotonic()
        seed_everything(train.seed)
        device = choose_device(train.device)
        self.vocabulary_ = Vocabulary.fit(lines, config.level, config.max_words)
        encoded = [self.vocabulary_.encode(line) for line in lines]
        length = config.max_length or min(LONGEST, max(map(len, encoded)) + 1)
        self.text_config = config = replace(config, max_length=length)
        ids = torch.full((len(encoded), length), PAD, dtype=torch.long)
        for row, tokens in enumerate(encoded):
            tokens = (tokens + [EOS])[:length]
            ids[row, :len(tokens)] = torch.tensor(tokens)
        ids = ids.to(device)
        adversarial = config.adversarial != "none" and train.epochs > 0
        budget = None if train.max_minutes is None else 60 * train.max_minutes
        if pretrained is not None:
            generator, history = self._reuse(pretrained, device)
        else:
            generator = TextGenerator(len(self.vocabulary_), config.embedding_dim, config.hidden_dim).to(device)
            mle_deadline = None if budget is None else started + (budget / 2 if adversarial else budget)
            history = self._maximum_likelihood(generator, ids, config.mle_epochs, min(train.batch_size, len(ids)),
                                               mle_deadline, progress)
        self.training_ = {"texts": len(lines), "device": str(device), "mle": history, "adversarial": []}
        self.baseline_ = copy.deepcopy(generator).eval() if adversarial else None
        if adversarial:
            remaining = None if budget is None else max(0.0, budget - (time.monotonic() - started)) / 60
            batch = min(train.batch_size, len(ids))
            discriminator = TextDiscriminator(len(self.vocabulary_), config.embedding_dim).to(device)
            if config.adversarial == "gumbel":
                problem = _TextProblem(ids, len(self.vocabulary_), batch, config)
                result = train_gan(generator, discriminator, problem,
                                   replace(train, batch_size=batch, max_minutes=remaining),
                                   steps_per_epoch=max(1, len(ids) // batch), description="fit text (adversarial)")
                generator, self.training_["adversarial"] = result.generator, result.history
            else:
                deadline = None if remaining is None else time.monotonic() + 60 * remaining
                self.training_["adversarial"] = train_policy_gradient(
                    generator, discriminator, ids, config, train, deadline,
                    None if progress is None else lambda record: progress("policy gradient", record))
        self.training_["seconds"] = time.monotonic() - started
        self.generator_ = generator.eval()
        return self

    def _reuse(self, pretrained: "TextSynthesizer", device) -> tuple[TextGenerator, list[float]]:
        source = pretrained.baseline_ if pretrained.baseline_ is not None else pretrained.generator_
        same = (pretrained.vocabulary_.tokens == self.vocabulary_.tokens
                and pretrained.text_config.max_length == self.text_config.max_length
                and (pretrained.text_config.embedding_dim, pretrained.text_config.hidden_dim)
                == (self.text_config.embedding_dim, self.text_config.hidden_dim))
        if not same:
            raise GanforgeError("the pretrained model was fitted on other texts or settings (vocabulary, length "
                                "or network sizes differ)")
        return copy.deepcopy(source).to(device).train(), list(pretrained.training_["mle"])

    @staticmethod
    def _maximum_likelihood(generator: TextGenerator, ids: Tensor, epochs: int, batch: int,
                            deadline: float | None, progress) -> list[float]:
        optimiser = torch.optim.Adam(generator.parameters(), lr=1e-3)
        losses = []
        for epoch in range(epochs):
            total = 0.0
            order = torch.randperm(len(ids), device=ids.device)
            for rows in order.split(batch):
                loss = mle_loss(generator, ids[rows])
                optimiser.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(generator.parameters(), 5.0)
                optimiser.step()
                total += loss.item() * len(rows)
            losses.append(total / len(ids))
            if progress is not None:
                progress("maximum likelihood", {"epoch": epoch + 1, "loss": losses[-1]})
            if deadline is not None and time.monotonic() > deadline:
                break
        return losses

    def sample(self, num: int, seed: int | None = None, temperature: float = 1.0,
               baseline: bool = False) -> list[str]:
        """`num` texts; `baseline`: from the maximum-likelihood generator the adversarial phase started from."""
        if not hasattr(self, "generator_"):
            raise GanforgeError("this synthesizer is not fitted yet: call fit() or load() first")
        if num < 1:
            raise GanforgeError(f"number of texts must be at least 1, got {num}")
        if temperature <= 0:
            raise GanforgeError(f"--temperature must be positive, got {temperature}")
        network = self.generator_
        if baseline:
            if self.baseline_ is None:
                raise GanforgeError("this model had no adversarial phase: its generator is the maximum-likelihood "
                                    "baseline already")
            network = self.baseline_
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
        if not hasattr(self, "generator_"):
            raise GanforgeError("this synthesizer is not fitted yet: call fit() or load() first")
        config = {"train_config": to_dict(self.train_config), "text_config": to_dict(self.text_config),
                  "tokens": self.vocabulary_.tokens, "training": self.training_}
        weights = {f"generator.{k}": v for k, v in self.generator_.state_dict().items()}
        if self.baseline_ is not None:
            weights |= {f"baseline.{k}": v for k, v in self.baseline_.state_dict().items()}
        return config, weights

    @classmethod
    def from_state(cls, config: dict, weights: dict[str, Tensor], source: str | os.PathLike,
                   device: str = "auto") -> "TextSynthesizer":
        """The inverse of `state`; `source` names the file in error messages."""
        require_keys(config, ("train_config", "text_config", "tokens", "training"), str(source))
        with settings_of(str(source)):
            model = cls(from_dict(TrainConfig, config["train_config"]), from_dict(TextConfig, config["text_config"]))
            model.vocabulary_ = Vocabulary(model.text_config.level, list(config["tokens"]))
        text = model.text_config
        networks = {}
        for part in ("generator", "baseline"):
            own = {k.split(".", 1)[1]: v for k, v in weights.items() if k.startswith(part + ".")}
            if part == "generator" or own:
                networks[part] = TextGenerator(len(model.vocabulary_), text.embedding_dim, text.hidden_dim)
                load_weights(networks[part], own, Path(source).parent)
                networks[part] = networks[part].to(choose_device(device)).eval()
        model.generator_, model.baseline_ = networks["generator"], networks.get("baseline")
        model.training_ = config["training"]
        return model

    def save(self, path: str | os.PathLike, force: bool = False) -> Path:
        config, weights = self.state()
        return save_model_folder(path, {"model_type": MODEL_TYPE, **config}, weights, force=force)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> "TextSynthesizer":
        config, weights = load_model_folder(path, MODEL_TYPE)
        return cls.from_state(config, weights, Path(path) / "config.json", device)
