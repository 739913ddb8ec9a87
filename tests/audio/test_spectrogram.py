"""The spectrogram view and its inverse: Griffin-Lim recovers a wave whose magnitudes match a known STFT."""

import math

import torch

from ganforge.audio.spectrogram import Spectrogram, griffin_lim


def chirp(samples: int = 4096, rate: int = 8000) -> torch.Tensor:
    t = torch.arange(samples) / rate
    return 0.5 * torch.sin(2 * math.pi * (300 * t + 1500 * t ** 2)).unsqueeze(0)


def convergence(target: torch.Tensor, wave: torch.Tensor, view: Spectrogram) -> float:
    wanted, got = view.magnitude(target), view.magnitude(wave)
    return float((wanted - got).norm() / wanted.norm())


def test_griffin_lim_inverts_a_known_stft_within_tolerance():
    view = Spectrogram.for_rate(8000)
    wave = chirp()
    magnitude = torch.stft(wave, view.n_fft, view.hop, window=view.window(wave.device), return_complex=True).abs()
    start = griffin_lim(magnitude, view.n_fft, view.hop, wave.shape[1], iterations=0)
    rebuilt = griffin_lim(magnitude, view.n_fft, view.hop, wave.shape[1], iterations=48)
    assert convergence(wave, rebuilt, view) < 0.1 < convergence(wave, start, view)  # random phase: about 0.6


def test_encoding_scales_to_the_unit_range_and_decodes_through_sound():
    view = Spectrogram.for_rate(8000).fitted(chirp())
    assert (view.n_fft, view.hop, view.bins, view.frames(4096)) == (256, 128, 128, 32)
    pictures = view.encode(chirp())
    assert pictures.shape == (1, 1, 128, 32) and pictures.min() >= -1 and pictures.max() == 1
    wave = view.to_waves(pictures, 4096, iterations=48)
    assert wave.shape == (1, 4096) and convergence(chirp(), wave, view) < 0.15
