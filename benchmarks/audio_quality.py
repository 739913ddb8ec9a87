"""Spoken digits split up front by speaker into a tuning half and a held-out half; on each, ganforge's default
audio model and its waveform alternative beside a plain WaveGAN, at the same CPU minutes.

    .venv/bin/python benchmarks/audio_quality.py [--half tuning|held-out|both] [--minutes 3]
                                                  [--methods ganforge waveform wavegan] [--seed 0]
    .venv/bin/python benchmarks/audio_quality.py --print-only
    .venv/bin/python benchmarks/audio_quality.py --variant bs32='{"batch_size": 32}'   # a candidate, tuning half
    .venv/bin/python benchmarks/audio_quality.py --speakers george   # one speaker's clips: a small set, as the demo's

Data: the Free Spoken Digit Dataset in ../shared/data/fsdd (CC BY-SA 4.0). Halves fixed before any tuning:
tuning = speakers george, jackson, lucas; held-out = nicolas, theo, yweweler. In each half the models train
on recordings 5-49 of every speaker and digit (1,350 clips) and are scored against recordings 0-4 (150 clips
never trained on), the split the literature uses; copies are looked for among the training clips.

Methods, each on one thread for `--minutes` of training, through the Python API:
- ganforge: `AudioSynthesizer(max_minutes=MIN)`, what `ganforge fit FOLDER --max-minutes MIN` runs (the
  default representation, conditioning from the labels).
- waveform: the same with `representation="waveform"`.
- wavegan: WaveGAN as published (Donahue et al. 2019): unconditional waveform networks with phase shuffle,
  WGAN-GP with 5 critic steps, Adam 1e-4 (0.5, 0.9), batch 64, no spectral norm, no weight averaging,
  sampled with its training noise (temperature 1).

Scores: `ganforge evaluate`'s (audio/evaluate.py): Frechet audio distance on the offline classifier's
features (trained on the scoring clips' half's training recordings), precision, recall, coverage, label
accuracy of conditional samples, copies; the real-against-real and noise references beside them. Results
are appended to benchmarks/results/audio.jsonl.

The issue's bars: FAD <= 1/2 of the WaveGAN's, label accuracy >= 0.8, recall >= 0.5, no copied clip.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ganforge.audio.data import AudioSet, read_audio  # noqa: E402
from ganforge.audio.evaluate import evaluate_audio  # noqa: E402
from ganforge.audio.features import train_extractor  # noqa: E402
from ganforge.audio.synthesizer import AudioSynthesizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
RESULTS = ROOT / "benchmarks" / "results" / "audio.jsonl"
HALVES = {"tuning": ("george", "jackson", "lucas"), "held-out": ("nicolas", "theo", "yweweler")}
TEST_INDICES = range(5)
UNTIL_TIME_IS_UP = 1_000_000
METHODS = {
    "ganforge": {},
    "waveform": {"representation": "waveform"},
    "wavegan": {"representation": "waveform", "conditioning": "none", "loss": "wgan-gp", "n_critic": 5,
                "generator_lr": 1e-4, "discriminator_lr": 1e-4, "beta1": 0.5, "beta2": 0.9, "batch_size": 64,
                "spectral_norm": False, "ema_decay": 0.0, "temperature": 1.0},  # sampled with its training noise
}


def split(audio: AudioSet, files: list[Path], speakers: tuple[str, ...]) -> tuple[AudioSet, AudioSet]:
    """(training, test) clips of `speakers`: recordings 5-49 and 0-4."""
    parts = [f.stem.split("_") for f in files]
    mine = np.array([speaker in speakers for _, speaker, _ in parts])
    test = np.array([int(index) in TEST_INDICES for _, _, index in parts])
    return audio.subset(mine & ~test), audio.subset(mine & test)


def run(half: str, method: str, minutes: float, seed: int, settings: dict | None = None,
        speakers: list[str] | None = None) -> dict:
    files = sorted(DATA.glob("*.wav"))  # the order read_audio reads them in
    audio = read_audio(DATA)
    training, test = split(audio, files, tuple(speakers or HALVES[half]))
    torch.manual_seed(seed)
    started = time.monotonic()
    model = AudioSynthesizer(**(METHODS[method] if settings is None else settings), epochs=UNTIL_TIME_IS_UP,
                             max_minutes=minutes, seed=seed)
    model.fit(training)
    fit_seconds = time.monotonic() - started
    synthetic = model.sample(len(test) * 4, seed=seed)
    extractor = train_extractor(training, model.audio_config.clip_samples, seed)
    results = evaluate_audio(test, synthetic, training=training, seed=seed, extractor=extractor)
    label = half if not speakers else f"{half}: {', '.join(speakers)}"
    row = {"half": label, "method": method, "minutes": minutes, "seed": seed, "fit_seconds": round(fit_seconds, 1),
           "epochs": model.training_["epochs_run"], "representation": model.audio_config.representation,
           "temperature": model.audio_config.temperature, "extractor_accuracy": results["extractor_accuracy"],
           **results["scores"], "real_fad": results["real_reference"]["fad"],
           "noise_fad": results["noise_reference"]["fad"], "collapse": results.get("collapse")}
    if model.audio_config.temperature != 1.0:  # the same generator with the training noise, for the trade-off
        plain = model.sample(len(test) * 4, seed=seed, temperature=1.0)
        row["at_temperature_1"] = evaluate_audio(test, plain, training=training, seed=seed,
                                                 extractor=extractor)["scores"]
    return row


def show(rows: list[dict]) -> None:
    for half in dict.fromkeys(row["half"] for row in rows):
        mine = [row for row in rows if row["half"] == half]
        print(f"\n{half} half ({', '.join(HALVES[half])})\n" if half in HALVES else f"\n{half} alone\n")
        print("| method | minutes | epochs | FAD | FAD / WaveGAN | precision | recall | coverage | label acc "
              "| copies |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        baseline = {row["minutes"]: row["fad"] for row in mine if row["method"] == "wavegan"}
        for row in mine:
            shown = [(row["method"], row)]
            if "at_temperature_1" in row:  # the sampling temperature's trade-off, on the same generator
                shown = [(f"{row['method']} (temperature {row['temperature']:g})", row),
                         (f"{row['method']} (temperature 1)", row["at_temperature_1"])]
            for name, scores in shown:
                ratio = (f"{scores['fad'] / baseline[row['minutes']]:.2f}" if row["minutes"] in baseline else "")
                accuracy = f"{scores['label_accuracy']:.3f}" if scores.get("label_accuracy") is not None else ""
                print(f"| {name} | {row['minutes']:g} | {row['epochs']} | {scores['fad']:.2f} | {ratio} | "
                      f"{scores['precision']:.2f} | {scores['recall']:.2f} | {scores['coverage']:.2f} | {accuracy} | "
                      f"{scores['copies']:.3f} |")
        references = mine[-1]
        print(f"\nreferences: real against real FAD {references['real_fad']:.2f}, noise {references['noise_fad']:.2f};"
              f" extractor held-out accuracy {references['extractor_accuracy']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=["tuning", "held-out", "both"], default="tuning")
    parser.add_argument("--methods", nargs="*", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speakers", nargs="*", metavar="NAME",
                        help="only these speakers of the half (one speaker's 450 clips: a small set, as the demo's)")
    parser.add_argument("--print-only", action="store_true")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=JSON",
                        help="also run ganforge with these settings, as ganforge:LABEL (tuning only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.print_only:
        if not DATA.is_dir():
            raise SystemExit(f"{DATA}: the spoken-digit recordings are not there")
        halves = list(HALVES) if args.half == "both" else [args.half]
        if args.speakers and args.half == "both":
            raise SystemExit("--speakers goes with --half tuning or --half held-out")
        strangers = set(args.speakers or ()) - {name for half in halves for name in HALVES[half]}
        if strangers:
            raise SystemExit(f"--speakers: {', '.join(sorted(strangers))} not in the {args.half} half")
        variants = {f"ganforge:{label}": json.loads(settings) for label, _, settings in
                    (variant.partition("=") for variant in args.variant)}
        runs = [(method, None) for method in args.methods] + list(variants.items())
        for half in halves:
            for method, settings in runs:
                row = run(half, method, args.minutes, args.seed, settings, args.speakers)
                print(json.dumps(row), flush=True)
                RESULTS.parent.mkdir(parents=True, exist_ok=True)
                with RESULTS.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines()] if RESULTS.exists() else []
    latest = {(r["half"], r["method"], r["minutes"]): r for r in rows}
    show(list(latest.values()))


if __name__ == "__main__":
    main()
