"""TextSynthesizer: a GRU language model fitted by maximum likelihood, then (optionally) adversarially with
Gumbel-softmax; samples one text per call at a chosen temperature."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TEXT_TRAIN_DEFAULTS, TextConfig, TrainConfig, from_dict, split_settings, to_dict
from ..core.device import choose_device, seed_everything
from ..core.trainer import train_gan
from ..errors import GanforgeError
from ..persist import load_model_folder, load_weights, require_keys, save_model_folder, settings_of
from .networks import TextDiscriminator, TextGenerator, mask_after_end
from .tokenize import BOS, EOS, PAD, Vocabulary, read_lines

Tensor = torch.Tensor
MODEL_TYPE = "text"
LONGEST = 128


class _TextProblem:
    """Real texts as one-hot sequences; the generator's as masked Gumbel-softmax sequences."""

    def __init__(self, ids: Tensor, vocabulary: int, batch_size: int, tau: float):
        self.ids, self.vocabulary, self.batch_size, self.tau = ids, vocabulary, batch_size, tau

    def real_batch(self) -> tuple[Tensor, None]:
        rows = torch.randint(len(self.ids), (self.batch_size,), device=self.ids.device)
        one_hot = F.one_hot(self.ids[rows], self.vocabulary).float()
        return one_hot * (self.ids[rows] != PAD)[..., None], None

    def sample_condition(self) -> None:
        return None

    def generate(self, generator: nn.Module, condition: None) -> tuple[Tensor, Tensor]:
        soft = mask_after_end(generator.relaxed(self.batch_size, self.ids.shape[1], self.tau))
        return soft, soft.new_zeros(())


class TextSynthesizer:
    """Short texts (one per line) in, new ones out. Settings: fields of `TrainConfig` (the adversarial phase)
    and `TextConfig`: `TextSynthesizer(level="word", mle_epochs=30, adversarial="none")`."""

    def __init__(self, train: TrainConfig | None = None, text: TextConfig | None = None, **settings: Any):
        train_settings, text_settings = split_settings(settings, TrainConfig, TextConfig)
        base = to_dict(train) if train is not None else {**to_dict(TrainConfig()), **TEXT_TRAIN_DEFAULTS}
        self.train_config = TrainConfig(**{**base, **train_settings})
        self.text_config = TextConfig(**{**to_dict(text or TextConfig()), **text_settings})

    def fit(self, texts: list[str] | str | os.PathLike) -> "TextSynthesizer":
        lines = read_lines(texts) if not isinstance(texts, list) else [t.strip() for t in texts if t.strip()]
        if len(lines) < 2:
            raise GanforgeError("need at least two texts to learn from")
        config, train = self.text_config, self.train_config
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
        generator = TextGenerator(len(self.vocabulary_), config.embedding_dim, config.hidden_dim).to(device)
        history = self._maximum_likelihood(generator, ids, config.mle_epochs, min(train.batch_size, len(ids)))
        self.training_ = {"texts": len(lines), "mle": history, "adversarial": []}
        if config.adversarial == "gumbel" and train.epochs > 0:
            batch = min(train.batch_size, len(ids))
            problem = _TextProblem(ids, len(self.vocabulary_), batch, config.gumbel_tau)
            discriminator = TextDiscriminator(len(self.vocabulary_), config.embedding_dim).to(device)
            result = train_gan(generator, discriminator, problem, replace(train, batch_size=batch),
                               steps_per_epoch=max(1, len(ids) // batch), description="fit text (adversarial)")
            generator = result.generator
            self.training_["adversarial"] = result.history
        self.generator_ = generator.eval()
        return self

    @staticmethod
    def _maximum_likelihood(generator: TextGenerator, ids: Tensor, epochs: int, batch: int) -> list[float]:
        optimiser = torch.optim.Adam(generator.parameters(), lr=1e-3)
        inputs = torch.cat([torch.full_like(ids[:, :1], BOS), ids[:, :-1]], dim=1)
        losses = []
        for _ in range(epochs):
            total = 0.0
            order = torch.randperm(len(ids), device=ids.device)
            for rows in order.split(batch):
                logits = generator(inputs[rows])
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[rows].reshape(-1), ignore_index=PAD)
                optimiser.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(generator.parameters(), 5.0)
                optimiser.step()
                total += loss.item() * len(rows)
            losses.append(total / len(ids))
        return losses

    def sample(self, num: int, seed: int | None = None, temperature: float = 1.0) -> list[str]:
        if not hasattr(self, "generator_"):
            raise GanforgeError("this synthesizer is not fitted yet: call fit() or load() first")
        if num < 1:
            raise GanforgeError(f"number of texts must be at least 1, got {num}")
        if temperature <= 0:
            raise GanforgeError(f"--temperature must be positive, got {temperature}")
        rng = torch.Generator().manual_seed(seed if seed is not None else int(torch.randint(2**31, ()).item()))
        ids = self.generator_.sample(num, self.text_config.max_length, temperature, rng).cpu().tolist()
        texts = []
        for row in ids:
            end = row.index(EOS) if EOS in row else len(row)
            texts.append(self.vocabulary_.decode(row[:end]))
        return texts

    def save(self, path: str | os.PathLike, force: bool = False) -> Path:
        config = {"model_type": MODEL_TYPE, "train_config": to_dict(self.train_config),
                  "text_config": to_dict(self.text_config), "tokens": self.vocabulary_.tokens,
                  "training": self.training_}
        return save_model_folder(path, config, self.generator_.state_dict(), force=force)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> "TextSynthesizer":
        config, weights = load_model_folder(path, MODEL_TYPE)
        source = str(Path(path) / "config.json")
        require_keys(config, ("train_config", "text_config", "tokens", "training"), source)
        with settings_of(source):
            model = cls(from_dict(TrainConfig, config["train_config"]), from_dict(TextConfig, config["text_config"]))
            model.vocabulary_ = Vocabulary(model.text_config.level, list(config["tokens"]))
        text = model.text_config
        generator = TextGenerator(len(model.vocabulary_), text.embedding_dim, text.hidden_dim)
        load_weights(generator, weights, path)
        model.generator_, model.training_ = generator.to(choose_device(device)).eval(), config["training"]
        return model
