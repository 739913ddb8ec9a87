"""AudioSynthesizer: a conditional GAN for short sounds (spoken words, effects), drawing log-magnitude
spectrograms (turned into sound by Griffin-Lim) or waveforms (WaveGAN), on the shared game (core.trainer)."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import AUDIO_TRAIN_DEFAULTS, AudioConfig, TrainConfig, from_dict, saved_audio_config, to_dict
from ..core.batches import ConditionalBatches
from ..core.device import choose_device, flushing_subnormals, resolve_precision, seed_everything
from ..core.diversity import CollapseGuard
from ..core.progress import ProgressCallback, both
from ..core.trainer import train_gan
from ..errors import GanforgeError
from ..persist import Checkpoint, load_weights, require_keys, settings_of
from ..synthesizer import LabelledSynthesizer
from .data import LENGTH_STEP, AudioSet, clip_length, read_audio
from .networks import DOUBLINGS, build_networks
from .spectrogram import Spectrogram

Tensor = torch.Tensor
log = logging.getLogger(__name__)
MODEL_TYPE = "audio"
SAMPLE_CHUNK = 256
# a CPU step of batch 64 on one thread: about 0.25 s each; widths 32 / 16 took 1.4 / 1.2 s, too slow for minutes
WIDTHS = {"spectrogram": 16, "waveform": 8}


class AudioSynthesizer(LabelledSynthesizer):
    """Learns a set of clips (labelled or not) and samples new ones at the same rate and length.

    Settings are the fields of `TrainConfig` (starting from AUDIO_TRAIN_DEFAULTS: hinge loss, spectral norm,
    batch 32, EMA, bfloat16 where the processor computes it natively) and `AudioConfig`:
    `AudioSynthesizer(representation="waveform", max_minutes=5)`.
    """

    model_type = MODEL_TYPE

    def __init__(self, train: TrainConfig | None = None, audio: AudioConfig | None = None, **settings: Any):
        self.train_config, self.audio_config = self.merge_settings(train, audio, AudioConfig, AUDIO_TRAIN_DEFAULTS,
                                                                   settings)

    # -- fitting -------------------------------------------------------------------------------------------
    @flushing_subnormals
    def fit(self, data: AudioSet | str | os.PathLike, checkpoint_dir: str | os.PathLike | None = None,
            resume: bool = False, progress: ProgressCallback | None = None) -> AudioSynthesizer:
        """Train on clips (an AudioSet, a folder of WAV files or an .npz). `progress` hears of every epoch
        (see `core.progress`); True from it stops training there."""
        config, train = self.audio_config, self.train_config
        audio = data if isinstance(data, AudioSet) else read_audio(data, config.sample_rate)
        if len(audio) < 2:
            raise GanforgeError(f"need at least 2 clips to learn from, got {len(audio)}")
        if config.sample_rate is not None and audio.sample_rate != config.sample_rate:
            raise GanforgeError(f"the clips are at {audio.sample_rate:,} Hz, the settings ask for "
                                f"{config.sample_rate:,} Hz: read them with read_audio(path, sample_rate)")
        conditioning = config.conditioning
        if conditioning == "auto":
            conditioning = "cgan" if audio.labels is not None and len(audio.classes) > 1 else "none"
        if conditioning != "none" and (audio.labels is None or len(audio.classes) < 2):
            raise GanforgeError(f"--conditional {conditioning} needs labelled clips of at least two classes (one "
                                "sub-folder per class, or LABEL_name.wav file names)")
        spectrogram = Spectrogram.for_rate(audio.sample_rate)
        step = max(LENGTH_STEP, spectrogram.hop * 2 ** DOUBLINGS)
        length, reason = ((config.clip_samples, "asked for") if config.clip_samples else clip_length(audio, step))
        if length % step:
            raise GanforgeError(f"clip_samples must be a multiple of {step} at {audio.sample_rate:,} Hz, got {length}")
        self.audio_config = config = replace(config, conditioning=conditioning, sample_rate=audio.sample_rate,
                                             clip_samples=length, width=config.width or WIDTHS[config.representation],
                                             class_guidance=config.class_guidance if conditioning == "cgan" else 0.0)
        seed_everything(train.seed)
        device = choose_device(train.device)
        self.train_config = train = replace(train, mixed_precision=resolve_precision(train.mixed_precision, device))
        waves = torch.as_tensor(audio.clips(length))
        self.spectrogram_ = spectrogram.fitted(waves) if config.representation == "spectrogram" else None
        samples = self._encode(waves).to(device)
        labels = None if conditioning == "none" else torch.as_tensor(audio.labels, device=device)
        self.classes_ = list(audio.classes) if conditioning != "none" else []
        self.class_counts_ = (np.bincount(audio.labels, minlength=len(audio.classes)).tolist()
                              if conditioning != "none" else [])
        batch = min(train.batch_size, len(samples))
        generator, discriminator = self._networks(device)
        problem = ConditionalBatches(samples, labels, len(self.classes_), batch, config.noise_dim,
                                     config.mode_seeking, config.class_guidance)
        checkpoint = None if checkpoint_dir is None else Checkpoint(Path(checkpoint_dir), self._settings())
        state = checkpoint.load() if checkpoint is not None and resume else None
        guard = CollapseGuard(samples, labels, self.classes_, config.noise_dim)
        result = train_gan(generator, discriminator, problem, replace(train, batch_size=batch),
                           steps_per_epoch=max(1, len(samples) // batch), description="fit audio", resume=state,
                           save_checkpoint=None if checkpoint is None else checkpoint.save,
                           progress=both(guard, progress))
        diversity = guard.finish(result.generator)
        self.generator_ = result.generator.eval()
        self.training_ = {"clips": len(samples), "epochs_run": len(result.history), "stopped_by": result.stopped_by,
                          "seconds": round(result.seconds, 2), "device": str(device), "clip_reason": reason,
                          "labelled_by": audio.labelled_by, "notes": list(audio.notes),
                          "rollbacks": result.rollbacks, "diversity": diversity, "history": result.history}
        return self

    def _encode(self, waves: Tensor) -> Tensor:
        """Clips as the networks see them: (N, 1, bins, frames) spectrograms or (N, 1, samples) waves."""
        if self.spectrogram_ is None:
            return waves.unsqueeze(1)
        return torch.cat([self.spectrogram_.encode(part) for part in waves.split(256)])

    def _settings(self) -> dict[str, Any]:
        return {"train_config": to_dict(self.train_config), "audio_config": to_dict(self.audio_config)}

    def _networks(self, device: torch.device) -> tuple[nn.Module, nn.Module]:
        config, spectrogram = self.audio_config, Spectrogram.for_rate(self.audio_config.sample_rate)
        generator, discriminator = build_networks(
            config.representation, config.noise_dim, config.clip_samples, spectrogram.bins,
            spectrogram.frames(config.clip_samples), len(self.classes_), config.conditioning, config.width,
            self.train_config.spectral_norm, config.phase_shuffle, config.class_norm,
            classify=bool(config.class_guidance))
        return generator.to(device), discriminator.to(device)

    # -- sampling ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, label: str | int | None = None,
               temperature: float | None = None) -> AudioSet:
        """`n` clips of `clip_samples` at the model's sample rate. A conditional model draws labels with the
        training frequencies unless `label` fixes one. `temperature`: the noise's standard deviation (None: the
        model's `audio_config.temperature`; 1 is the training noise, lower gives clips nearer each class's
        middle, more often heard as their label and less varied)."""
        self._check_fitted()
        if n < 1:
            raise GanforgeError(f"number of clips must be at least 1, got {n}")
        config = self.audio_config
        temperature = self.temperature(temperature, config.temperature)
        device = next(self.generator_.parameters()).device
        seed = seed if seed is not None else int(torch.randint(2**31, ()).item())
        generator = torch.Generator(device="cpu").manual_seed(seed)
        classes = len(self.classes_)
        labels = self.draw_labels(n, label, generator)
        waves = []
        for start in range(0, n, SAMPLE_CHUNK):
            rows = min(SAMPLE_CHUNK, n - start)
            noise = (temperature * torch.randn(rows, config.noise_dim, generator=generator)).to(device)
            condition = None
            if classes:
                condition = nn.functional.one_hot(labels[start:start + rows], classes).float().to(device)
            drawn = self.generator_(noise, condition).float().cpu()
            if self.spectrogram_ is not None:
                drawn = self.spectrogram_.to_waves(drawn, config.clip_samples, config.griffin_lim_iterations,
                                                   seed + start)
            waves.append(drawn.reshape(rows, -1).clamp(-1, 1).numpy())
        clips = np.concatenate(waves)
        return AudioSet(list(clips), config.sample_rate, None if labels is None else labels.numpy(),
                        list(self.classes_), "npz" if classes else "none")

    # -- persistence ---------------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        self._check_fitted()
        return {"model_type": MODEL_TYPE, "classes": self.classes_, "class_counts": self.class_counts_,
                "train_config": to_dict(self.train_config), "audio_config": to_dict(self.audio_config),
                "training": {k: v for k, v in self.training_.items() if k != "history"}}

    def state(self) -> tuple[dict, dict[str, Tensor]]:
        config = {**self._settings(), "classes": self.classes_, "class_counts": self.class_counts_,
                  "spectrogram": None if self.spectrogram_ is None else to_dict(self.spectrogram_),
                  "training": self.training_}
        return config, self.generator_.state_dict()

    @classmethod
    def from_state(cls, config: dict, weights: dict[str, Tensor], source: str | os.PathLike,
                   device: str = "auto") -> AudioSynthesizer:
        path, source = Path(source).parent, str(source)
        require_keys(config, ("train_config", "audio_config", "classes", "class_counts", "spectrogram", "training"),
                     source)
        with settings_of(source):
            model = cls(from_dict(TrainConfig, config["train_config"]),
                        from_dict(AudioConfig, saved_audio_config(config)))
            model.classes_, model.class_counts_ = list(config["classes"]), list(config["class_counts"])
            model.spectrogram_ = None if config["spectrogram"] is None else from_dict(Spectrogram,
                                                                                         config["spectrogram"])
        generator, _ = model._networks(choose_device(device))
        load_weights(generator, weights, path)
        model.generator_, model.training_ = generator.eval(), config["training"]
        return model
