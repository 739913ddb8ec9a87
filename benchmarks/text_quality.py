"""Texts at equal CPU minutes: `ganforge fit TEXTS --max-minutes M` (no other flag) beside a plain maximum-
likelihood LSTM language model trained for the same minutes, on corpora split up front into a tuning half and a
held-out half.

    .venv/bin/python benchmarks/text_quality.py [--half tuning|held-out|both] [--minutes 2] [--corpora NAME ...]
                                                [--seed 0]
    .venv/bin/python benchmarks/text_quality.py --runs 0 1   # the kept runs of two splits side by side

Corpora (Debian's fortune packages and the `names` package's 1990 US census lists; `make bench-env` installs
them): tuning = fortunes (English sentences), first-names; held-out = bofh-excuses (short technical phrases),
mario (Portuguese sayings from fortunes-mario), surnames, german (fortunes-de) and spanish (fortunes-es); the last
two joined the held-out half later, and no setting was tuned on them. Each corpus is shuffled once (by the split
seed) into at most 4,000 training and 1,000 test lines. Both models write as many texts as the test holds, at
temperatures 0.8-1.2; the scores are the Frechet distance of sentence embeddings (the best encoder available
offline, named), BLEU-4 against the test lines and self-BLEU-4 (ganforge at the sampling temperature its fit
chose, as `ganforge sample` gives its texts; the LSTM at 1), BLEU-4 of ganforge at the
baseline's self-BLEU-4 (interpolated along ganforge's temperature curve), and the share of generated lines
copied from the training lines. The baseline uses the token level ganforge chose, batches texts of about one
length (each cut to its longest), as ganforge does, and, like ganforge, never
writes the unknown-word token (at word level, words seen once in training are "<unk>"). Results are kept in
benchmarks/results/text.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from ganforge.datasets import FORTUNES_FOLDER, fortune_sentences  # noqa: E402
from ganforge.metrics.text import memorisation  # noqa: E402
from ganforge.text.evaluate import _scores, make_encoder, nearer_share  # noqa: E402
from ganforge.text.synthesizer import TextSynthesizer  # noqa: E402
from ganforge.text.tokenize import EOS, PAD, UNK, Vocabulary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "text.jsonl"
TEMPERATURES = (0.8, 0.9, 1.0, 1.1, 1.2)
MAX_TRAIN, MAX_TEST = 4000, 1000
CORPORA = {"fortunes": "tuning", "first-names": "tuning", "bofh-excuses": "held-out", "mario": "held-out",
           "surnames": "held-out", "german": "held-out", "spanish": "held-out"}
FOREIGN = {"german": "de", "spanish": "es"}  # fortunes-de and fortunes-es: a folder of fortune files each


def load_corpus(name: str) -> list[str]:
    if name == "fortunes":
        files = [p for p in sorted(FORTUNES_FOLDER.glob("*")) if p.is_file() and not p.suffix
                 and p.name != "bofh-excuses"]
        return fortune_sentences(files)
    if name == "bofh-excuses":
        fortunes = (FORTUNES_FOLDER / "bofh-excuses").read_text(errors="replace").split("\n%\n")
        return list(dict.fromkeys(" ".join(f.split("\n", 1)[-1].split()) for f in fortunes if f.strip()))
    if name == "mario":
        files = sorted(FORTUNES_FOLDER.glob("mario.geral")) + sorted(FORTUNES_FOLDER.glob("mario.piadas"))
        return fortune_sentences(files, ascii_only=False)
    if name in FOREIGN:
        folder = FORTUNES_FOLDER / FOREIGN[name]
        if not folder.is_dir():
            raise SystemExit(f"{folder} missing: make bench-env (it installs fortunes-{FOREIGN[name]})")
        return fortune_sentences([p for p in sorted(folder.glob("*")) if p.is_file() and p.suffix not in
                                  (".dat", ".u8")], ascii_only=False)
    import names

    folder = Path(names.__file__).parent
    files = ["dist.female.first", "dist.male.first"] if name == "first-names" else ["dist.all.last"]
    return list(dict.fromkeys(line.split()[0].title() for file in files
                              for line in (folder / file).read_text().splitlines() if line.strip()))


class LanguageModel(nn.Module):
    """The baseline: a one-layer LSTM language model, as wide as ganforge's generator."""

    def __init__(self, vocabulary: int, embedding: int = 64, hidden: int = 256):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embedding, padding_idx=PAD)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocabulary)

    def forward(self, ids, state=None):
        output, state = self.lstm(self.embed(ids), state)
        return self.out(output), state


def length_batches(lengths: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Rows in batches of texts of about one length, the batches in random order: the usual bucketing of a
    language model's batches. Padded to the corpus's longest text instead (128 tokens where fortunes average 15),
    the baseline spent most of its minutes on padding and, in one run, reached a Frechet distance of 0.19 where it
    otherwise reaches 0.13."""
    order = torch.randperm(len(lengths))
    batches = order[lengths[order].argsort(stable=True)].split(size)
    return [batches[i] for i in torch.randperm(len(batches))]


def mle_baseline(train: list[str], level: str, minutes: float, count: int, seed: int) -> dict[float, list[str]]:
    torch.manual_seed(seed)
    vocabulary = Vocabulary.fit(train, level)
    encoded = [vocabulary.encode(t)[:127] + [EOS] for t in train]
    length = max(map(len, encoded))
    ids = torch.full((len(encoded), length + 1), PAD, dtype=torch.long)
    for row, tokens in enumerate(encoded):
        ids[row, 1:len(tokens) + 1] = torch.tensor(tokens)
    ids[:, 0] = 1  # start
    model = LanguageModel(len(vocabulary))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    deadline = time.monotonic() + 60 * minutes
    lengths = (ids != PAD).sum(dim=1)
    while time.monotonic() < deadline:
        for rows in length_batches(lengths, 64):
            batch = ids[rows, :int(lengths[rows].max())]  # cut to the batch's longest text, its end included
            logits, _ = model(batch[:, :-1])
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1),
                                               ignore_index=PAD)
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            if time.monotonic() > deadline:
                break
    texts = {}
    with torch.no_grad():
        for temperature in TEMPERATURES:
            generator = torch.Generator().manual_seed(seed)
            token, state, rows = torch.ones(count, 1, dtype=torch.long), None, []
            done = torch.zeros(count, dtype=torch.bool)
            for _ in range(length):
                logits, state = model(token, state)
                probabilities = torch.softmax(logits[:, -1] / temperature, dim=-1)
                probabilities[:, :EOS] = 0
                probabilities[:, UNK] = 0  # as ganforge: a word seen once is never written as "<unk>"
                token = torch.multinomial(probabilities, 1, generator=generator)
                rows.append(token)
                done |= token[:, 0] == EOS
                if done.all():
                    break
            drawn = torch.cat(rows, 1).tolist()
            texts[temperature] = [vocabulary.decode(r[:r.index(EOS)] if EOS in r else r) for r in drawn]
    return texts


def fit_ganforge(train: list[str], minutes: float, count: int, seed: int) -> tuple[dict[float, list[str]], dict]:
    with tempfile.TemporaryDirectory() as workdir:
        data, model_dir = Path(workdir) / "train.txt", Path(workdir) / "model"
        data.write_text("".join(t + "\n" for t in train))
        subprocess.run([sys.executable, "-m", "ganforge", "fit", str(data), "--out", str(model_dir), "--max-minutes",
                        f"{minutes:g}"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        model = TextSynthesizer.load(model_dir)
    # the curve's temperatures and the model's own, at which `ganforge sample` gives its texts
    own = model.text_config.temperature
    texts = {t: model.sample(count, seed=seed, temperature=t) for t in sorted({*TEMPERATURES, own})}
    if model.baseline_ is not None:  # the adversarial generator shipped: its starting point, to tell the phases apart
        texts["baseline"] = model.sample(count, seed=seed, baseline=True)
    training = model.training_
    return texts, {"level": model.text_config.level, "level_reason": training["level_reason"],
                   "shipped": training.get("shipped", {}).get("model", "maximum likelihood"),
                   "shipped_reason": training.get("shipped", {}).get("reason", ""),
                   "temperature": model.text_config.temperature, "mle_epochs": len(training["mle"]),
                   "adversarial_epochs": len(training["adversarial"]),
                   "beyond_lowest_loss": {key: value for key, value in training.get("beyond_lowest_loss", {}).items()
                                          if key != "losses"}}


def bleu_at(curve: list[tuple[float, float]], self_bleu: float) -> float | None:
    points = sorted(curve)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return float(np.interp(self_bleu, xs, ys)) if xs[0] <= self_bleu <= xs[-1] else None


def run(name: str, minutes: float, seed: int) -> dict:
    lines = load_corpus(name)
    random.Random(seed).shuffle(lines)
    test = lines[:min(MAX_TEST, len(lines) // 4)]
    train = lines[len(test):len(test) + MAX_TRAIN]
    ours, details = fit_ganforge(train, minutes, len(test), seed)
    baseline = mle_baseline(train, details["level"], minutes, len(test), seed)
    encoder = make_encoder("auto", test + train, seed=seed)
    row = {"corpus": name, "half": CORPORA[name], "train": len(train), "test": len(test), "minutes": minutes,
           "seed": seed, "encoder": encoder.name, **details}
    curves = {}
    if "baseline" in ours:  # ganforge's own maximum-likelihood generator, beside the shipped adversarial one
        row["ganforge_mle_frechet"] = round(_scores(test, ours.pop("baseline"), None, encoder,
                                                    random.Random(seed))["frechet_distance"], 4)
    headline = {"ganforge": details["temperature"], "mle-lstm": 1.0}  # ganforge at its own temperature, the LSTM at 1
    for method, texts in (("ganforge", ours), ("mle-lstm", baseline)):
        curves[method] = []
        row[f"{method}_frechet_by_temperature"] = {}
        for temperature, generated in texts.items():
            scores = _scores(test, generated, None, encoder, random.Random(seed))
            curves[method].append((scores["self_bleu4"], scores["bleu4"]))
            row[f"{method}_frechet_by_temperature"][str(temperature)] = round(scores["frechet_distance"], 4)
            if temperature == headline[method]:
                row[method] = {"frechet": round(scores["frechet_distance"], 4), "bleu4": round(scores["bleu4"], 4),
                               "self_bleu4": round(scores["self_bleu4"], 4),
                               "memorised": round(memorisation(generated, train), 4)}
    row["ganforge"]["bleu4_at_baseline_self_bleu"] = bleu_at(curves["ganforge"], row["mle-lstm"]["self_bleu4"])
    row["real_frechet"] = round(_scores(test[: len(test) // 2], test[len(test) // 2:], None, encoder,
                                        random.Random(seed))["frechet_distance"], 4)
    # how often ganforge stays nearer than the LSTM when the test texts and both samples are redrawn: a gap
    # inside the noise of the test set reads as about 0.5
    row["ganforge_nearer_share"] = nearer_share(test, ours[details["temperature"]], baseline[1.0], encoder, seed)
    return row


def print_half(half: str, rows: list[dict]) -> None:
    rows = [r for r in rows if r["half"] == half]
    if not rows:
        return
    print(f"\n## {half} corpora\n")
    print("| corpus (train) | level | shipped | method | Frechet | BLEU-4 | self-BLEU-4 | BLEU-4 at baseline's "
          "self-BLEU | memorised |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for method in ("ganforge", "mle-lstm"):
            s = r[method]
            at = s.get("bleu4_at_baseline_self_bleu")
            print(f"| {r['corpus']} ({r['train']:,}) | {r['level']} | {r['shipped'] if method == 'ganforge' else '-'} "
                  f"| {method} | {s['frechet']:.4f} | {s['bleu4']:.4f} | {s['self_bleu4']:.4f} | "
                  f"{'-' if at is None else f'{at:.4f}'} | {s['memorised']:.3f} |")
        print(f"| {r['corpus']} | | | real vs real | {r['real_frechet']:.4f} | | | | |")
        if r.get("ganforge_nearer_share") is not None:
            print(f"| {r['corpus']} | | | ganforge nearer than the LSTM in | {r['ganforge_nearer_share']:.0%} of "
                  f"resamples | | | | |")


def bars_met(frechet: float, lstm_frechet: float, bleu_at_lstm_self_bleu: float | None, lstm_bleu: float,
             copied: float) -> dict[str, bool]:
    """The issue's three bars: a Frechet distance at most the LSTM's, BLEU-4 at the LSTM's self-BLEU-4 at least
    the LSTM's BLEU-4, and at most 1% of lines copied from training."""
    return {"Frechet": frechet <= lstm_frechet,
            "BLEU-4": bleu_at_lstm_self_bleu is not None and bleu_at_lstm_self_bleu >= lstm_bleu,
            "memorised": copied <= 0.01}


def print_runs(rows: list[dict]) -> None:
    """One line per corpus and split seed, both models side by side, then against the issue's bars: the share
    of runs where ganforge's Frechet distance is at most the LSTM's, its BLEU-4 at the LSTM's self-BLEU-4 at
    least the LSTM's BLEU-4, and at most 1% of its lines copied."""
    print("| half | corpus (train lines) | split seed | level | shipped | Frechet: ganforge / LSTM | ganforge "
          "nearer in | BLEU-4 at the LSTM's self-BLEU: ganforge / LSTM | memorised: ganforge / LSTM | bars missed |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["half"] != "tuning", list(CORPORA).index(r["corpus"]), r["seed"])):
        ours, lstm = r["ganforge"], r["mle-lstm"]
        at = ours.get("bleu4_at_baseline_self_bleu")
        met = bars_met(ours["frechet"], lstm["frechet"], at, lstm["bleu4"], ours["memorised"])
        missed = ", ".join(name for name, ok in met.items() if not ok) or "none"
        own = f" (its MLE {r['ganforge_mle_frechet']:.4f})" if "ganforge_mle_frechet" in r else ""
        print(f"| {r['half']} | {r['corpus']} ({r['train']:,}) | {r['seed']} | {r['level']} | {r['shipped']}, "
              f"T {r.get('temperature') or 1:g} | "
              f"{ours['frechet']:.4f}{own} / {lstm['frechet']:.4f} | {r['ganforge_nearer_share']:.0%} | "
              f"{'-' if at is None else f'{at:.4f}'} / {lstm['bleu4']:.4f} | {ours['memorised']:.3f} / "
              f"{lstm['memorised']:.3f} | {missed} |")
    print_means(rows)


def print_means(rows: list[dict]) -> None:
    """Per corpus, the bars on the means over its splits: one split's verdict moves with the draw of the test
    texts and with the machine's load on a time-bound fit (a "nearer in" share of 40-70% is a tie), so a corpus is
    judged by its mean, beside the count of splits that meet each bar on their own."""
    print("\n| half | corpus | splits | Frechet: ganforge / LSTM (mean) | BLEU-4 at the LSTM's self-BLEU: ganforge / "
          "LSTM (mean) | memorised: ganforge (most) | splits meeting Frechet / BLEU-4 / memorised | bars missed "
          "on the means |")
    print("|---|---|---|---|---|---|---|---|")
    for corpus in [c for c in CORPORA if any(r["corpus"] == c for r in rows)]:
        runs = [r for r in rows if r["corpus"] == corpus]
        frechet = [np.mean([r[m]["frechet"] for r in runs]) for m in ("ganforge", "mle-lstm")]
        at = [r["ganforge"].get("bleu4_at_baseline_self_bleu") for r in runs]
        bleu = [None if None in at else np.mean(at), np.mean([r["mle-lstm"]["bleu4"] for r in runs])]
        copied = max(r["ganforge"]["memorised"] for r in runs)
        met = bars_met(*frechet, *bleu, copied)
        alone = [bars_met(r["ganforge"]["frechet"], r["mle-lstm"]["frechet"], a, r["mle-lstm"]["bleu4"],
                          r["ganforge"]["memorised"]) for a, r in zip(at, runs)]
        splits = [sum(bars[name] for bars in alone) for name in met]
        missed = ", ".join(name for name, ok in met.items() if not ok) or "none"
        print(f"| {CORPORA[corpus]} | {corpus} | {len(runs)} | {frechet[0]:.4f} / {frechet[1]:.4f} | "
              f"{'-' if bleu[0] is None else f'{bleu[0]:.4f}'} / {bleu[1]:.4f} | {copied:.3f} | "
              f"{' / '.join(map(str, splits))} | {missed} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "held-out", "both"), default="both")
    parser.add_argument("--corpora", nargs="+", choices=list(CORPORA))
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--print-only", action="store_true")
    parser.add_argument("--runs", type=int, nargs="+", metavar="SEED",
                        help="print the kept runs of these split seeds side by side (the README table)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = args.corpora or [n for n, h in CORPORA.items() if args.half in ("both", h)]
    if args.runs:
        kept = {}
        for line in RESULTS.read_text().splitlines() if RESULTS.exists() else []:
            r = json.loads(line)
            if r["seed"] in args.runs and r["minutes"] == args.minutes and r["corpus"] in names:
                kept[r["corpus"], r["seed"]] = r
        print_runs(list(kept.values()))
        return
    if not args.print_only:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        for name in names:
            row = run(name, args.minutes, args.seed)
            with RESULTS.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), file=sys.stderr, flush=True)
    kept = {}
    if RESULTS.exists():
        for line in RESULTS.read_text().splitlines():
            r = json.loads(line)
            if r["seed"] == args.seed and r["minutes"] == args.minutes and r["corpus"] in names:
                kept[r["corpus"]] = r
    for half in ("tuning", "held-out"):
        print_half(half, list(kept.values()))


if __name__ == "__main__":
    main()
