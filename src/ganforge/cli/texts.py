"""The text half of the commands: `fit`, `sample`, `evaluate` and `info` on .txt files (one text per line)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import click

from ..config import saved_text_config
from ..errors import GanforgeError
from .common import TEXTS, check_holdout_share, check_outputs, data_kind, model_line, versions_line, write_json, written

SHOWN = ["bleu4", "self_bleu4", "distinct2", "memorisation", "frechet_distance"]


def fit_text(data: Path, out: Path, options: dict[str, Any]) -> None:
    from ..persist import check_model_destination
    from ..text.synthesizer import COPY_LIMIT, TextSynthesizer
    from ..text.tokenize import read_lines

    check_model_destination(out, options["force"])
    report = options["report"]
    check_outputs([report], options["force"])
    if report is not None:
        check_holdout_share(options["holdout_share"])
    settings = {key: options[key] for key in ("epochs", "max_minutes", "seed", "loss", "batch_size", "n_critic",
                                              "generator_lr", "discriminator_lr", "device", "level", "adversarial",
                                              "mle_epochs")
                if options.get(key) is not None}
    model = TextSynthesizer(**settings)
    lines = read_lines(data)
    training, holdout = lines, None
    if report is not None:
        shuffled = random.Random(options["seed"]).sample(lines, len(lines))
        cut = max(1, round(len(lines) * options["holdout_share"]))
        holdout, training = shuffled[:cut], shuffled[cut:]
        click.echo(f"holding out {len(holdout):,} texts for the report", err=True)
    click.echo(f"fitting {len(training):,} texts from {data} (adversarial phase: {model.text_config.adversarial})"
               " ...", err=True)
    model.fit(training, progress=lambda epoch: click.echo(epoch.line(), err=True))
    model.save(out, force=options["force"])
    trained, config = model.training_, model.text_config
    click.echo(f"level: {config.level} ({trained['level_reason']})")
    click.echo(f"output: {trained['output']}")
    adversarial = (f", {len(trained['adversarial'])} adversarial ({config.adversarial})"
                   if trained["adversarial"] else "")
    held = f", {trained['held_out']:,} texts held out to check them" if trained.get("held_out") else ""
    beyond = trained.get("beyond_lowest_loss")
    more = f" (+{beyond['epochs']} beyond its lowest held-out loss)" if beyond else ""
    click.echo(f"trained {len(trained['mle'])} maximum-likelihood epochs{more}{adversarial} in "
               f"{trained['seconds']:.1f} s on {trained['device']}{held}; vocabulary {len(model.vocabulary_):,} "
               f"{config.level} tokens, "
               f"at most {config.max_length} per text")
    if beyond is not None:
        click.echo(f"beyond the lowest held-out loss: {beyond['epochs']} more epochs, kept epoch {beyond['kept_epoch']}"
                   f" (Frechet distance to the held-out texts {beyond['frechet_at_lowest_loss']:.4f} -> "
                   f"{beyond['frechet']:.4f}; stopped by {beyond['stopped_by']}; at most {COPY_LIMIT:.0%} of its "
                   "texts may be copies of the input's)")
    click.echo("time: " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in trained["phase_seconds"].items()))
    if "shipped" in trained:
        click.echo(f"shipped: the {trained['shipped']['model']} generator ({trained['shipped']['reason']})")
    if "temperature" in trained:
        click.echo(f"sampling: temperature {config.temperature:g} ({trained['temperature']['reason']})")
    click.echo(f"model saved to {out}")
    if report is not None:
        from ..io import write_text
        from ..report.texts import render_text_report
        from ..text.evaluate import temperature_curve

        click.echo("scoring the GAN and its maximum-likelihood baseline over temperatures ...", err=True)
        results = temperature_curve(model, holdout, training, seed=options["seed"])
        write_text(render_text_report(results, holdout, trained, title=f"ganforge report: {data.name}"), report,
                   force=options["force"])
        written("report", report)
        for row in results["curve"]:
            click.echo(f"  {row['model']:<8} T={row['temperature']:<4} " +
                       ", ".join(f"{key} {row[key]:.4g}" for key in SHOWN if row.get(key) is not None))


def sample_text(model_dir: Path, num: int, out: Path, seed: int | None, temperature: float | None, baseline: bool,
                device: str, force: bool) -> None:
    from ..io import write_text
    from ..text.synthesizer import TextSynthesizer

    check_outputs([out], force)
    model = TextSynthesizer.load(model_dir, device=device)
    texts = model.sample(num, seed=seed, temperature=temperature, baseline=baseline)
    write_text("".join(text + "\n" for text in texts), out, force=force)
    empty = sum(not text for text in texts)
    note = f" ({empty} empty: the model ended them at once)" if empty else ""
    click.echo(f"wrote {num:,} texts to {out}{note}")


def evaluate_text_command(real_path: Path, synthetic_path: Path, train_path: Path | None, out: Path | None,
                          report: Path | None, seed: int, encoder: str, force: bool) -> None:
    from ..io import write_text
    from ..text.evaluate import evaluate_texts
    from ..text.tokenize import read_lines

    check_outputs([out, report], force)
    if data_kind(synthetic_path) != TEXTS:
        raise GanforgeError(f"{synthetic_path}: the real data are texts; give synthetic texts too (a .txt file)")
    real, synthetic = read_lines(real_path), read_lines(synthetic_path)
    training = read_lines(train_path) if train_path is not None else None
    click.echo(f"scoring {len(synthetic):,} texts against {len(real):,} real ones (n-grams, memorised lines, "
               "sentence embeddings) ...", err=True)
    results = evaluate_texts(real, synthetic, training, seed=seed, encoder=encoder)
    if out is not None:
        write_json(results, out, force)
    if report is not None:
        from ..report.texts import render_text_report

        write_text(render_text_report({"scores": results, "curve": [], "samples": {"given": synthetic[:30]}}, real,
                                      None, title="Synthetic texts report"), report, force=force)
        written("report", report)
    click.echo(", ".join(f"{key} {results[key]:.4g}" for key in SHOWN if results.get(key) is not None)
               + f" (encoder {results['encoder']})")
    reference = results["real_reference"]
    click.echo("real against real: " + ", ".join(f"{key} {reference[key]:.4g}" for key in SHOWN
                                                 if reference.get(key) is not None))


def info_text(model_dir: Path, config: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({k: v for k, v in config.items() if k != "tokens"}, indent=2))
        return
    training, train, text = config.get("training", {}), config.get("train_config", {}), saved_text_config(config)
    click.echo(model_line(model_dir, config))
    click.echo(f"texts:      {training.get('texts', '?'):,}, {text.get('level')} level, vocabulary "
               f"{len(config.get('tokens', [])):,}, at most {text.get('max_length')} tokens")
    clusters = ", ".join(f"{c:,}" for c in text["softmax_clusters"] or ())
    output = ("tied to the embedding" if text["tied_output"] else
              f"an adaptive softmax cut at the {clusters} most frequent tokens" if clusters else "its own")
    click.echo(f"network:    GRU, embedding {text.get('embedding_dim')}, hidden {text.get('hidden_dim')}, "
               f"output layer {output}")
    click.echo(f"trained:    {len(training.get('mle', []))} maximum-likelihood epochs, "
               f"{len(training.get('adversarial', []))} adversarial ({text.get('adversarial')}), "
               f"{training.get('seconds', 0):.1f} s on {training.get('device', '?')}")
    if training.get("level_reason"):
        click.echo(f"level:      {text.get('level')} ({training['level_reason']})")
    if training.get("shipped"):
        click.echo(f"shipped:    the {training['shipped']['model']} generator ({training['shipped']['reason']})")
    chosen = training.get("temperature", {}).get("reason")
    click.echo(f"sampling:   temperature {text.get('temperature') or 1:g}" + (f" ({chosen})" if chosen else ""))
    click.echo(f"game:       loss {train.get('loss')}, batch {train.get('batch_size')}, lr G "
               f"{train.get('generator_lr')} / D {train.get('discriminator_lr')}, MLE weight "
               f"{text.get('mle_weight')}, seed {train.get('seed')}")
    click.echo(versions_line(config))
