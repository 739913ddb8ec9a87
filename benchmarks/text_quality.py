"""Does the adversarial phase help? The same GRU generator after maximum likelihood only, and after each
adversarial phase (Gumbel-softmax, policy gradient), scored over a sweep of temperatures on held-out fortunes:
BLEU-4 (quality), self-BLEU-4 (diversity), memorisation of the training texts and the Frechet distance of
sentence embeddings. A GAN is better only if, at the same self-BLEU, its BLEU is higher.

    .venv/bin/python benchmarks/text_quality.py [--level word] [--train 8000] [--mle-epochs 10] [--epochs 3]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import torch

from ganforge.datasets import load_text_dataset
from ganforge.text.evaluate import temperature_curve
from ganforge.text.synthesizer import TextSynthesizer

TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1)


def interpolate_bleu(curve: list[dict], self_bleu: float) -> float | None:
    """BLEU-4 of a curve at a given self-BLEU-4 (linear between its temperatures; None outside them)."""
    points = sorted((row["self_bleu4"], row["bleu4"]) for row in curve)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if not xs[0] <= self_bleu <= xs[-1]:
        return None
    return float(np.interp(self_bleu, xs, ys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", choices=["char", "word"], default="word")
    parser.add_argument("--train", type=int, default=8000, help="training sentences")
    parser.add_argument("--test", type=int, default=2000, help="held-out sentences")
    parser.add_argument("--mle-epochs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3, help="adversarial epochs")
    parser.add_argument("--phases", default="gumbel,policy-gradient")
    parser.add_argument("--mle-weight", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)

    texts = load_text_dataset("fortunes")
    random.Random(args.seed).shuffle(texts)
    train, test = texts[:args.train], texts[args.train:args.train + args.test]
    print(f"fortunes: {len(train):,} training and {len(test):,} held-out sentences; {args.level} level, "
          f"{args.mle_epochs} maximum-likelihood epochs, then {args.epochs} adversarial epochs; "
          f"{args.samples} texts per temperature; torch threads {torch.get_num_threads()}")
    rows, curves = [], {}
    started = time.monotonic()
    baseline = TextSynthesizer(level=args.level, mle_epochs=args.mle_epochs, adversarial="none",
                               seed=args.seed).fit(train)
    print(f"  maximum likelihood: {args.mle_epochs} epochs in {time.monotonic() - started:.0f} s, loss "
          f"{baseline.training_['mle'][-1]:.3f} per token", flush=True)
    for phase in args.phases.split(","):
        started = time.monotonic()
        model = TextSynthesizer(level=args.level, mle_epochs=args.mle_epochs, epochs=args.epochs, adversarial=phase,
                                mle_weight=args.mle_weight, seed=args.seed).fit(train, pretrained=baseline)
        print(f"  {phase}: {args.epochs} adversarial epochs in {time.monotonic() - started:.0f} s", flush=True)
        result = temperature_curve(model, test, train, TEMPERATURES, args.samples, args.seed)
        have_mle = "mle" in curves  # every phase starts from the same maximum-likelihood generator
        for row in result["curve"]:
            name = phase if row["model"] == "gan" else "mle"
            if name == "mle" and have_mle:
                continue
            rows.append(row | {"model": name})
            curves.setdefault(name, []).append(row)
        print(f"  {phase} samples at T=1: " + " | ".join(result["samples"]["gan"][:3]), flush=True)
    reference = result["scores"]["real_reference"]
    print(f"\nreal held-out half against the other half: BLEU-4 {reference['bleu4']:.4f}, self-BLEU-4 "
          f"{reference['self_bleu4']:.4f}, Frechet distance {reference['frechet_distance']:.4f}")
    print(f"{'model':<16}{'T':>5}{'BLEU-4':>9}{'self-BLEU-4':>13}{'distinct-2':>12}{'memorised':>11}{'FD':>9}")
    for row in rows:
        print(f"{row['model']:<16}{row['temperature']:>5}{row['bleu4']:>9.4f}{row['self_bleu4']:>13.4f}"
              f"{row['distinct2']:>12.4f}{row['memorisation']:>11.3f}{row['frechet_distance']:>9.4f}")
    print("\nBLEU-4 at the same self-BLEU-4 (interpolated along each curve), adversarial minus maximum likelihood:")
    for phase, curve in curves.items():
        if phase == "mle":
            continue
        gaps = [(row["self_bleu4"], row["bleu4"] - baseline) for row in curve
                if (baseline := interpolate_bleu(curves["mle"], row["self_bleu4"])) is not None]
        text = ", ".join(f"{gap:+.4f} at {x:.3f}" for x, gap in gaps) or "no overlap in self-BLEU"
        print(f"  {phase}: {text}")


if __name__ == "__main__":
    main()
