"""The audio half of the commands: `fit`, `sample`, `evaluate` and `info` on folders of WAV files (or .npz)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..config import saved_audio_config
from ..errors import GanforgeError
from .common import (
    AUDIO,
    check_holdout_share,
    check_outputs,
    checkpoint_folder,
    data_kind,
    fit_with_checkpoint,
    game_line,
    model_line,
    precision_words,
    report_augmentation,
    save_model,
    versions_line,
    write_json,
    written,
)

SHOWN = ("fad", "precision", "recall", "coverage", "label_accuracy", "copies")


def fit_audio(data: Path, out: Path, options: dict[str, Any]) -> None:
    from ..audio.data import read_audio
    from ..audio.synthesizer import AudioSynthesizer
    from ..persist import check_model_destination

    check_model_destination(out, options["force"])
    check_outputs([options["report"]], options["force"])
    settings = {key: options[key] for key in ("epochs", "max_minutes", "seed", "loss", "batch_size", "n_critic",
                                              "generator_lr", "discriminator_lr", "device", "mixed_precision",
                                              "r1_penalty", "width", "spectral_norm", "representation",
                                              "sample_rate")
                if options.get(key) is not None}
    settings["conditioning"] = options["conditional"] or "auto"
    if options["report"] is not None:
        check_holdout_share(options["holdout_share"])
    model = AudioSynthesizer(**settings)
    audio = read_audio(data, options.get("sample_rate"))
    training_clips, holdout = audio, None
    if options["report"] is not None:  # the report compares with clips the model never heard
        import numpy as np

        order = np.random.default_rng(options["seed"]).permutation(len(audio))
        cut = max(2, round(len(audio) * options["holdout_share"]))
        holdout, training_clips = audio.subset(np.sort(order[:cut])), audio.subset(np.sort(order[cut:]))
        click.echo(f"holding out {len(holdout):,} clips for the report", err=True)
    labelled = (f", {len(audio.classes)} classes from {audio.labelled_by}" if audio.classes
                else ", unlabelled (no class sub-folders, no LABEL_ file-name prefix)")
    click.echo(f"fitting {len(training_clips):,} clips at {audio.sample_rate:,} Hz{labelled} from {data} ...", err=True)
    for note in audio.notes:
        click.echo(f"  {note}", err=True)
    checkpoint = checkpoint_folder(out, options["resume"])
    fit_with_checkpoint(lambda: model.fit(training_clips, checkpoint_dir=checkpoint, resume=options["resume"]),
                        checkpoint)
    save_model(model, out, options["force"], checkpoint)
    training, config = model.training_, model.audio_config
    click.echo(f"clip length: {training['clip_reason']}")
    click.echo(f"trained {training['epochs_run']} epochs in {training['seconds']:.1f} s on {training['device']} "
               f"({config.representation} GAN, {config.conditioning}, loss {model.train_config.loss}, "
               f"{precision_words(model.train_config.mixed_precision)}, "
               f"stopped by {training['stopped_by']})")
    if training["diversity"].get("action"):
        click.echo(f"collapse guard: {training['diversity']['action']}")
    click.echo(f"model saved to {out}")
    if holdout is not None:
        synthetic = model.sample(min(len(training_clips), 1000), seed=options["seed"])
        evaluate_and_report(holdout, synthetic, training_clips, None, options["report"], options["force"],
                            options["seed"], history=training["history"], title=f"ganforge report: {data.name}")


def sample_audio(model_dir: Path, num: int, out: Path, seed: int | None, label: str | None,
                 temperature: float | None, device: str, force: bool) -> None:
    from ..audio.data import write_audio
    from ..audio.synthesizer import AudioSynthesizer

    model = AudioSynthesizer.load(model_dir, device=device)
    clips = model.sample(num, seed=seed, label=label, temperature=temperature)
    length = model.audio_config.clip_samples
    write_audio(out, clips.clips(length), clips.sample_rate, clips.labels, clips.classes, force=force)
    where = "one sub-folder per class" if clips.labels is not None and out.suffix.lower() != ".npz" else ""
    click.echo(f"wrote {num:,} clips ({length / clips.sample_rate:.2f} s at {clips.sample_rate:,} Hz) to {out}"
               + (f" ({where})" if where else ""))


def evaluate_and_report(real, synthetic, training, out: Path | None, report: Path | None, force: bool, seed: int,
                        history=None, title: str = "Synthetic audio report") -> None:
    from ..audio.evaluate import evaluate_audio
    from ..io import write_text
    from ..report.audio import render_audio_report

    click.echo(f"training the offline feature network on {len(training or real):,} real clips, then scoring "
               f"{len(synthetic):,} synthetic ones against {len(real):,} ...", err=True)
    results = evaluate_audio(real, synthetic, training=training, seed=seed)
    if out is not None:
        write_json(results, out, force)
    if report is not None:
        write_text(render_audio_report(results, real, synthetic, history, title), report, force=force)
        written("report", report)
    accuracy = results["extractor_accuracy"]
    click.echo(f"features: {results['extractor']}" + (f" (held-out accuracy {accuracy:.3f})" if accuracy else ""))
    for name, scores in (("synthetic", results["scores"]), ("real against real", results["real_reference"]),
                         ("noise", results["noise_reference"])):
        click.echo(f"  {name:<18} " + ", ".join(f"{key} {scores[key]:.4g}" for key in SHOWN if key in scores))
    for name, scores in results.get("per_class", {}).items():
        click.echo(f"  class {name}: " + ", ".join(f"{key} {value:.3f}" for key, value in scores.items()))
    for key, words in results["verdict"].items():
        click.echo(f"{key}: {words}")
    if "collapse" in results:
        click.echo(f"collapse: {results['collapse']}")


def evaluate_audio_command(real_path: Path, synthetic_path: Path, train_path: Path | None, out: Path | None,
                           report: Path | None, seed: int, force: bool) -> None:
    from ..audio.data import read_audio

    check_outputs([out, report], force)
    if data_kind(synthetic_path) != AUDIO:
        raise GanforgeError(f"{synthetic_path}: the real data are sounds; give synthetic sounds too (a folder of "
                            "WAV files or an .npz)")
    real = read_audio(real_path)
    synthetic = read_audio(synthetic_path, real.sample_rate)
    training = read_audio(train_path, real.sample_rate) if train_path is not None else None
    evaluate_and_report(real, synthetic, training, out, report, force, seed)


def info_audio(model_dir: Path, config: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(config, indent=2))
        return
    training, train, audio = config.get("training", {}), config.get("train_config", {}), saved_audio_config(config)
    rate, samples = audio.get("sample_rate") or 1, audio.get("clip_samples") or 0
    click.echo(model_line(model_dir, config))
    click.echo(f"clips:      {training.get('clips', '?'):,} of {samples:,} samples ({samples / rate:.2f} s at "
               f"{rate:,} Hz), classes: {', '.join(config.get('classes', [])) or 'none'} "
               f"(labels from {training.get('labelled_by', '?')})")
    click.echo(f"network:    {audio.get('representation')} GAN, conditioning {audio.get('conditioning')}, width "
               f"{audio.get('width')}, noise {audio.get('noise_dim')}"
               + f", sampling temperature {audio['temperature']}"
               + (f", Griffin-Lim {audio.get('griffin_lim_iterations')} iterations"
                  if audio.get("representation") == "spectrogram" else
                  f", phase shuffle {audio.get('phase_shuffle')}"))
    click.echo(f"trained:    {training.get('epochs_run', '?')} epochs, {training.get('seconds', 0):.1f} s on "
               f"{training.get('device', '?')}, stopped by {training.get('stopped_by', '?')}")
    click.echo(game_line(train))
    click.echo(versions_line(config))


def augment_audio(data: Path, labelled_share: float, epochs: int | None, seed: int, out: Path | None,
                  force: bool) -> None:
    from ..audio.augment import compare_augmentation
    from ..audio.data import read_audio

    check_outputs([out], force)
    results = compare_augmentation(read_audio(data), labelled_share=labelled_share, epochs=epochs, seed=seed,
                                   progress=lambda text: click.echo(text, err=True))
    report_augmentation(results, labelled_share, "clips", out, force)
