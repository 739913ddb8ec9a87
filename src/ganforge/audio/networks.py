"""The two audio GANs. Spectrogram: a DCGAN-shaped pair drawing (bins x frames) log-magnitude pictures, four
doublings from a (bins/16 x frames/16) seed. Waveform: WaveGAN (Donahue et al. 2019), 1-D transposed
convolutions of kernel 25 and stride 4, with phase shuffle in the critic so it cannot judge by the phase of
the generator's upsampling artefacts. Both condition as the image networks do (core.layers)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.layers import ConditionalHead, Conditioned, generator_norm, maybe_spectral_norm, run_layers

Tensor = torch.Tensor
REPRESENTATIONS = ("spectrogram", "waveform")
DOUBLINGS = 4  # the spectrogram networks halve (bins, frames) four times
QUARTERINGS = 4  # the waveform networks divide the length by 4 four times
KERNEL = 25


class SpectrogramGenerator(Conditioned):
    """With `class_norm` (and labels), every batch norm takes its scale and shift from the label."""

    def __init__(self, noise_dim: int, bins: int, frames: int, classes: int = 0, width: int = 32,
                 class_norm: bool = False):
        super().__init__(noise_dim, classes)
        top = width * 2 ** (DOUBLINGS - 1)
        self.seed_shape = (top, bins // 2 ** DOUBLINGS, frames // 2 ** DOUBLINGS)

        self.project = nn.Sequential(
            nn.Linear(noise_dim * (2 if classes else 1), top * self.seed_shape[1] * self.seed_shape[2], bias=False),
            nn.Unflatten(1, self.seed_shape), generator_norm(top, classes, class_norm), nn.ReLU(True))
        layers: list[nn.Module] = []
        for step in range(DOUBLINGS - 1):
            out = top // 2 ** (step + 1)
            layers += [nn.ConvTranspose2d(out * 2, out, 4, 2, 1, bias=False), generator_norm(out, classes, class_norm),
                       nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, noise: Tensor, condition: Tensor | None = None) -> Tensor:
        return run_layers([*self.project, *self.body], self.inputs(noise, condition), condition)


class SpectrogramDiscriminator(nn.Module):
    def __init__(self, bins: int, frames: int, classes: int = 0, conditioning: str = "none", width: int = 32,
                 spectral_norm: bool = True, classify: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        current = 1
        for step in range(DOUBLINGS):
            out = width * 2 ** step
            layers += [maybe_spectral_norm(nn.Conv2d(current, out, 4, 2, 1), spectral_norm), nn.LeakyReLU(0.2, True)]
            current = out
        self.body = nn.Sequential(*layers, nn.Flatten())
        features = current * (bins // 2 ** DOUBLINGS) * (frames // 2 ** DOUBLINGS)
        self.head = ConditionalHead(features, classes, conditioning, spectral_norm, classify)

    def forward(self, images: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.head(self.body(images), condition)


class WaveGenerator(Conditioned):
    def __init__(self, noise_dim: int, samples: int, classes: int = 0, width: int = 16):
        super().__init__(noise_dim, classes)
        top = width * 2 ** QUARTERINGS
        self.seed_shape = (top, samples // 4 ** QUARTERINGS)
        self.project = nn.Sequential(nn.Linear(noise_dim * (2 if classes else 1), top * self.seed_shape[1]),
                                     nn.Unflatten(1, self.seed_shape), nn.ReLU(True))
        layers: list[nn.Module] = []
        for step in range(QUARTERINGS):
            last = step == QUARTERINGS - 1
            out = 1 if last else top // 2 ** (step + 1)
            layers += [nn.ConvTranspose1d(top // 2 ** step, out, KERNEL, 4, KERNEL // 2, output_padding=3),
                       nn.Tanh() if last else nn.ReLU(True)]
        self.body = nn.Sequential(*layers)

    def forward(self, noise: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.body(self.project(self.inputs(noise, condition)))


class PhaseShuffle(nn.Module):
    """Shift each clip's feature map by a random -n..n samples, filling with reflection (WaveGAN, section 3.3)."""

    def __init__(self, shift: int):
        super().__init__()
        self.shift = shift

    def forward(self, x: Tensor) -> Tensor:
        if self.shift == 0 or not self.training:
            return x
        shifts = torch.randint(-self.shift, self.shift + 1, (x.shape[0],), device=x.device)
        padded = F.pad(x, (self.shift, self.shift), mode="reflect")
        index = (torch.arange(x.shape[-1], device=x.device) + self.shift - shifts[:, None])
        return padded.gather(2, index[:, None, :].expand(-1, x.shape[1], -1))


class WaveDiscriminator(nn.Module):
    def __init__(self, samples: int, classes: int = 0, conditioning: str = "none", width: int = 16,
                 spectral_norm: bool = True, phase_shuffle: int = 2, classify: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        current = 1
        for step in range(QUARTERINGS):
            out = width * 2 ** (step + 1)
            layers += [maybe_spectral_norm(nn.Conv1d(current, out, KERNEL, 4, KERNEL // 2), spectral_norm),
                       nn.LeakyReLU(0.2, True)]
            if step < QUARTERINGS - 1:
                layers.append(PhaseShuffle(phase_shuffle))
            current = out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = ConditionalHead(current * (samples // 4 ** QUARTERINGS), classes, conditioning, spectral_norm,
                                    classify)

    def forward(self, waves: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.head(self.body(waves), condition)


def build_networks(representation: str, noise_dim: int, samples: int, bins: int, frames: int, classes: int,
                   conditioning: str, width: int, spectral_norm: bool,
                   phase_shuffle: int, class_norm: bool = False,
                   classify: bool = False) -> tuple[nn.Module, nn.Module]:
    """The (generator, discriminator) pair for an audio model's settings; `classify`: the critic also names
    the real clips' classes (class guidance)."""
    generator_classes = classes if conditioning != "none" else 0
    if representation == "spectrogram":
        return (SpectrogramGenerator(noise_dim, bins, frames, generator_classes, width, class_norm),
                SpectrogramDiscriminator(bins, frames, classes, conditioning, width, spectral_norm, classify))
    return (WaveGenerator(noise_dim, samples, generator_classes, width),
            WaveDiscriminator(samples, classes, conditioning, width, spectral_norm, phase_shuffle, classify))
