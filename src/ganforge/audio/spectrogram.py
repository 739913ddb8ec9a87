"""Clips as log-magnitude spectrograms (what the spectrogram GAN draws) and back (Griffin-Lim phase
recovery), with torch.stft / torch.istft only. Magnitudes are scaled to [-1, 1] between a floor and the
training set's loudest bin, both kept with the model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

Tensor = torch.Tensor
WINDOW_SECONDS = 0.032  # 32 ms windows (256 samples at 8 kHz), half a window apart: on the audio benchmark's
# tuning half, real clips taken through this view and Griffin-Lim keep a Frechet distance of 1.2 to the originals
# (a quarter window apart: 0.2, but twice the frames for the networks to draw; a 128-sample window: 5.5)
DYNAMIC_RANGE = 10.0  # natural-log units below the loudest bin that are kept (about 87 dB)
MAGNITUDE_EPS = 1e-5


@dataclass(frozen=True)
class Spectrogram:
    """The STFT geometry for one sample rate, and the log-magnitude scale learnt from the training clips."""

    n_fft: int
    top: float = 0.0  # the loudest log-magnitude of the training clips

    @classmethod
    def for_rate(cls, sample_rate: int) -> Spectrogram:
        return cls(n_fft=2 ** max(5, round(math.log2(WINDOW_SECONDS * sample_rate))))

    @property
    def hop(self) -> int:
        return self.n_fft // 2

    @property
    def bins(self) -> int:
        return self.n_fft // 2  # the Nyquist bin is dropped (it is zero after inversion)

    def frames(self, samples: int) -> int:
        return samples // self.hop

    def window(self, device: torch.device) -> Tensor:
        return torch.hann_window(self.n_fft, device=device)

    def magnitude(self, waves: Tensor) -> Tensor:
        """(N, samples) -> (N, bins, frames) linear magnitudes."""
        spectrum = torch.stft(waves, self.n_fft, self.hop, window=self.window(waves.device), return_complex=True)
        return spectrum.abs()[:, :self.bins, :self.frames(waves.shape[-1])]

    def fitted(self, waves: Tensor) -> Spectrogram:
        """This geometry with the scale of `waves` (the training clips)."""
        loudest = max(float(torch.log(self.magnitude(part) + MAGNITUDE_EPS).max()) for part in waves.split(256))
        return Spectrogram(self.n_fft, loudest)

    def encode(self, waves: Tensor) -> Tensor:
        """(N, samples) -> (N, 1, bins, frames) in [-1, 1]."""
        log = torch.log(self.magnitude(waves) + MAGNITUDE_EPS).clamp(self.top - DYNAMIC_RANGE, self.top)
        return ((log - self.top) / DYNAMIC_RANGE * 2 + 1).unsqueeze(1)

    def decode_magnitude(self, images: Tensor) -> Tensor:
        """(N, 1, bins, frames) in [-1, 1] -> linear magnitudes with the Nyquist bin and last frame back."""
        log = (images.squeeze(1).clamp(-1, 1) - 1) / 2 * DYNAMIC_RANGE + self.top
        magnitude = (torch.exp(log) - MAGNITUDE_EPS).clamp_min(0)
        magnitude = torch.cat([magnitude, magnitude.new_zeros(magnitude.shape[0], 1, magnitude.shape[2])], dim=1)
        return torch.cat([magnitude, magnitude[:, :, -1:]], dim=2)  # stft's centred frames: one more than hops

    def to_waves(self, images: Tensor, samples: int, iterations: int = 32, seed: int = 0) -> Tensor:
        """Waveforms whose magnitudes match `images` (fast Griffin-Lim, Perraudin et al. 2013)."""
        return griffin_lim(self.decode_magnitude(images), self.n_fft, self.hop, samples, iterations, seed)


def griffin_lim(magnitude: Tensor, n_fft: int, hop: int, samples: int, iterations: int = 32, seed: int = 0,
                momentum: float = 0.99) -> Tensor:
    """A phase for `magnitude` (N, n_fft/2+1, frames) by alternating projections, with momentum; the waves."""
    window = torch.hann_window(n_fft, device=magnitude.device)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    phase = torch.rand(magnitude.shape, generator=generator).to(magnitude.device) * 2 * math.pi
    angles = torch.polar(torch.ones_like(magnitude), phase)
    previous = torch.zeros_like(angles)
    waves = torch.istft(magnitude * angles, n_fft, hop, window=window, length=samples)
    for _ in range(iterations):
        rebuilt = torch.stft(waves, n_fft, hop, window=window, return_complex=True)
        accelerated = rebuilt - momentum / (1 + momentum) * previous
        previous = rebuilt
        angles = accelerated / accelerated.abs().clamp_min(1e-8)
        waves = torch.istft(magnitude * angles, n_fft, hop, window=window, length=samples)
    return waves.clamp(-1, 1)
