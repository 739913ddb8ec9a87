"""Image quality for the same wall time: ganforge's best configuration against a plain DCGAN.

    .venv/bin/python benchmarks/image_quality.py [--data digits] [--minutes 3] [--every 20] [--threads 2]

Each configuration trains on the same images, on the same CPU, one after the other, for `--minutes` of
training time (the evaluations in between are not counted). Every `--every` seconds of training the
EMA/plain generator draws 1,000 images (with the training label frequencies when conditional) and FID, KID,
precision, recall and coverage are computed against the real images with one offline feature network trained
once on them (ganforge-cnn; the InceptionV3 extractor is not used here). Printed: the metric over time for
every configuration, then the final table with images per second of training.

Configurations:
- dcgan: Radford et al. 2016 as published: unconditional DCGAN, batch norm in both networks, non-saturating
  loss, Adam lr 2e-4, betas (0.5, 0.999), batch 128, no weight averaging.
- ganforge: conditional (projection discriminator), hinge loss, spectral norm, EMA of the generator (decay
  0.999), batch 64. DiffAugment is off: on the full digits it costs FID (see the ganforge-diffaugment
  ablation); it is meant for a few hundred images.
Extra ones can be named with --configs (see CONFIGS).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from ganforge import ImageSynthesizer
from ganforge.datasets import load_image_dataset
from ganforge.image.features import extract, probabilities_of, train_feature_net
from ganforge.metrics.image import image_scores

CONFIGS = {
    "dcgan": dict(architecture="dcgan", conditioning="none", loss="nonsaturating", batch_size=128,
                  generator_lr=2e-4, discriminator_lr=2e-4, beta1=0.5, beta2=0.999, ema_decay=0.0),
    "ganforge": dict(architecture="dcgan", conditioning="cgan", loss="hinge", spectral_norm=True, batch_size=64,
                     ema_decay=0.999),
    # ablations and alternatives
    "ganforge-diffaugment": dict(architecture="dcgan", conditioning="cgan", loss="hinge", spectral_norm=True,
                                 diffaugment=True, batch_size=64, ema_decay=0.999),
    "ganforge-noema": dict(architecture="dcgan", conditioning="cgan", loss="hinge", spectral_norm=True,
                           batch_size=64, ema_decay=0.0),
    "ganforge-nonsaturating": dict(architecture="dcgan", conditioning="cgan", loss="nonsaturating",
                                   spectral_norm=True, batch_size=64, ema_decay=0.999),
    "ganforge-acgan": dict(architecture="dcgan", conditioning="acgan", loss="hinge", spectral_norm=True,
                           batch_size=64, ema_decay=0.999),
    "ganforge-resnet": dict(architecture="resnet", conditioning="cgan", loss="hinge", spectral_norm=True,
                            batch_size=64, ema_decay=0.999, width=32),
}
SAMPLES = 1000


def watch(name: str, settings: dict, images, features, real_features, minutes: float, every: float,
          seed: int) -> tuple[list[dict], dict]:
    """Train one configuration for `minutes` of training time, scoring the generator every `every` s."""
    model = ImageSynthesizer(**settings, epochs=1_000_000, seed=seed)
    curve: list[dict] = []
    clock = {"start": time.monotonic(), "paused": 0.0, "next": every, "epochs": 0}

    def score(generator) -> dict:
        drawn = model._draw(generator, SAMPLES, seed, None)
        fake_features = extract(features, drawn.images)
        result = image_scores(real_features, fake_features, features.name, probabilities_of(features, fake_features),
                              seed)
        return {k: result[k] for k in ("fid", "kid", "precision", "recall", "coverage", "inception_score")}

    def on_epoch(epoch: int, generator) -> bool:
        clock["epochs"] = epoch
        trained = time.monotonic() - clock["start"] - clock["paused"]
        done = trained >= 60 * minutes
        if trained >= clock["next"] or done:
            paused = time.monotonic()
            curve.append({"config": name, "train_s": round(trained, 1), "epoch": epoch, **score(generator)})
            print(pd.DataFrame(curve[-1:]).to_string(index=False, header=len(curve) == 1), flush=True)
            clock["next"] += every
            clock["paused"] += time.monotonic() - paused
        return done

    model.fit(images, on_epoch=on_epoch)
    trained = curve[-1]["train_s"]
    final = {**curve[-1], "images_per_s": round(clock["epochs"] * len(images.images) / max(trained, 1e-9))}
    return curve, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits", help="digits or fashion-mnist (Debian's package).")
    parser.add_argument("--configs", nargs="+", default=["dcgan", "ganforge"], choices=sorted(CONFIGS))
    parser.add_argument("--minutes", type=float, default=3.0, help="Training time per configuration.")
    parser.add_argument("--every", type=float, default=20.0, help="Seconds of training between scores.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = load_image_dataset(args.data)
    print(f"{args.data}: {len(images.images):,} images {images.images.shape[1:]}, training the feature network ...",
          flush=True)
    features = train_feature_net(images, seed=args.seed)
    real_features = extract(features, images.images)
    print(f"features: {features.name}, held-out accuracy {features.held_out_accuracy:.3f}", flush=True)
    finals = []
    for name in args.configs:
        _, final = watch(name, CONFIGS[name], images, features, real_features, args.minutes, args.every, args.seed)
        finals.append(final)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {args.threads} thread(s)"
    print(f"\n{args.data}, {args.minutes} min of training each on {device}, seed {args.seed}; FID/KID lower is "
          "better, the rest higher")
    print(pd.DataFrame(finals).to_string(index=False))


if __name__ == "__main__":
    main()
