"""What every modality's half of the command line shares: the error-handling group, which `fit` option
applies to which data, output checks, the checkpoint/interrupt dance and the lines every command prints."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from ..errors import GanforgeError

TABLES, IMAGES, TEXTS, AUDIO = "tables", "images", "texts", "audio"
ALL = frozenset({TABLES, IMAGES, TEXTS, AUDIO})
UNTIL_TIME_IS_UP = 1_000_000  # epochs when only --max-minutes bounds a fit

# fit's options: parameter -> (flag as typed, the data it applies to). An option given for other data is an
# error naming the flag, never silently ignored.
FIT_OPTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "epochs": ("--epochs", ALL), "max_minutes": ("--max-minutes", ALL), "seed": ("--seed", ALL),
    "loss": ("--loss", ALL), "batch_size": ("--batch-size", ALL), "n_critic": ("--n-critic", ALL),
    "generator_lr": ("--generator-lr", ALL), "discriminator_lr": ("--discriminator-lr", ALL),
    "device": ("--device", ALL), "report": ("--report", ALL), "force": ("--force", ALL),
    "r1_penalty": ("--r1-penalty", frozenset({TABLES, IMAGES, AUDIO})),
    "spectral_norm": ("--spectral-norm", frozenset({TABLES, IMAGES, AUDIO})),
    "mixed_precision": ("--mixed-precision", frozenset({TABLES, IMAGES, AUDIO})),
    "compile_generator": ("--compile", frozenset({TABLES, IMAGES})),
    "resume": ("--resume", frozenset({TABLES, IMAGES, AUDIO})),
    "holdout_share": ("--holdout-share", frozenset({TABLES, TEXTS, AUDIO})),
    "pack": ("--pack", frozenset({TABLES})), "steps": ("--steps", frozenset({TABLES})),
    "metadata": ("--metadata", frozenset({TABLES})),
    "column_kind": ("--column-kind", frozenset({TABLES})), "dp_epsilon": ("--dp-epsilon", frozenset({TABLES})),
    "dp_delta": ("--dp-delta", frozenset({TABLES})), "max_grad_norm": ("--max-grad-norm", frozenset({TABLES})),
    "dp_sgd_share": ("--dp-sgd-share", frozenset({TABLES})),
    "dp_bounds": ("--dp-bounds", frozenset({TABLES})), "dp_categories": ("--dp-categories", frozenset({TABLES})),
    "target": ("--target", frozenset({TABLES})), "checkpoint_every": ("--checkpoint-every", frozenset({TABLES})),
    "architecture": ("--arch", frozenset({IMAGES})), "conditional": ("--conditional", frozenset({IMAGES, AUDIO})),
    "image_size": ("--image-size", frozenset({IMAGES})), "width": ("--width", frozenset({IMAGES, AUDIO})),
    "diffaugment": ("--diffaugment", frozenset({IMAGES})),
    "level": ("--level", frozenset({TEXTS})), "adversarial": ("--adversarial", frozenset({TEXTS})),
    "mle_epochs": ("--mle-epochs", frozenset({TEXTS})),
    "representation": ("--representation", frozenset({AUDIO})), "sample_rate": ("--sample-rate", frozenset({AUDIO})),
}
NAMED = {TABLES: "tables", IMAGES: "images", TEXTS: "texts (.txt files)", AUDIO: "sounds (folders of WAV files)"}


class Group(click.Group):
    """A GanforgeError is one line and exit 2; Ctrl-C is one line and exit 130."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanforgeError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            ctx.exit(130)


def data_kind(path: Path) -> str:
    """Which modality a data path holds: a .txt file is texts; a folder with WAV files (or in its class
    folders), or an .npz with an 'audio' array, sounds; another folder or .npz images; else a table."""
    from ..audio.data import is_audio_folder, is_audio_npz

    if path.suffix.lower() == ".txt":
        return TEXTS
    if path.is_dir():
        return AUDIO if is_audio_folder(path) else IMAGES
    if path.suffix.lower() == ".npz":
        return AUDIO if path.is_file() and is_audio_npz(path) else IMAGES
    return TABLES


def given_options(ctx: click.Context) -> set[str]:
    """The parameters the user typed (not those left at their defaults)."""
    return {name for name in ctx.params
            if ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)}


def refuse_fit_options(given: Iterable[str], kind: str) -> None:
    """fit options typed for data they do not apply to: one line naming each flag and what it is for."""
    wrong = [FIT_OPTIONS[name] for name in given if name in FIT_OPTIONS and kind not in FIT_OPTIONS[name][1]]
    if not wrong:
        return
    places = sorted({place for _, kinds in wrong for place in kinds}, key=[TABLES, IMAGES, TEXTS, AUDIO].index)
    _only_for([flag for flag, _ in wrong], " and ".join(NAMED[place] for place in places))


def refuse(given: dict[str, Any], flags: dict[str, str], what: str) -> None:
    """Options of other commands' modalities (sample, evaluate, augment) given here: one line."""
    wrong = [flag for key, flag in flags.items() if given.get(key) not in (None, False, (), "auto")]
    if wrong:
        _only_for(wrong, what)


def _only_for(flags: list[str], what: str) -> None:
    raise GanforgeError(f"{', '.join(flags)} only appl{'ies' if len(flags) == 1 else 'y'} to {what}")


def pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """'column=value' options into a dict; the column is everything before the first '='."""
    found = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise GanforgeError(f"{option} {item!r}: expected COLUMN=VALUE")
        found[name] = value
    return found


def check_outputs(paths: Iterable[Path | None], force: bool) -> None:
    """Every output is checked before any work starts: nothing the user had is replaced without --force."""
    from ..io import check_writable

    for path in paths:
        if path is not None:
            check_writable(path, force)


def check_holdout_share(share: float) -> None:
    if not 0 < share < 1:
        raise GanforgeError(f"--holdout-share must be between 0 and 1, got {share}")


def written(what: str, path: Path) -> None:
    click.echo(f"{what} written to {path}")


def report_augmentation(results: dict, labelled_share: float, unit: str, out: Path | None, force: bool) -> None:
    """What `augment --labelled-share` measured for images or sounds: accuracy with and without the synthetic
    `unit` (images, clips), in plain words, and the JSON when asked for."""
    epochs = f", {results['epochs']} GAN epochs" if results.get("epochs") else ""
    click.echo(f"{results['labelled']} labelled {unit} ({labelled_share:.0%}), {results['synthetic']} synthetic "
               f"(class-balanced{epochs}), test on {results['test']} real {unit}")
    click.echo(f"test accuracy, real only:              {results['accuracy_real']:.4f}")
    click.echo(f"test accuracy, real + synthetic:       {results['accuracy_augmented']:.4f}")
    gain = results["accuracy_augmented"] - results["accuracy_real"]
    click.echo(f"the synthetic {unit} " + (f"helped (+{gain:.3f})" if gain > 0.005 else
                                          f"hurt ({gain:.3f})" if gain < -0.005 else "made no difference"))
    if out is not None:
        write_json(results, out, force, "results")


def write_json(results: dict, out: Path, force: bool, what: str = "metrics") -> None:
    from ..io import write_text

    write_text(json.dumps(results, indent=2) + "\n", out, force=force)
    written(what, out)


def model_line(model_dir: Path, config: dict) -> str:
    """The first line `info` prints for any model."""
    return (f"model:      {model_dir} ({config['model_type']}, format {config['format_version']}, "
            f"created {config.get('created', '?')})")


def game_line(train: dict) -> str:
    """How the game was played, as `info` prints it for images and sounds."""
    return (f"game:       loss {train.get('loss')}, batch {train.get('batch_size')}, lr G "
            f"{train.get('generator_lr')} / D {train.get('discriminator_lr')}, spectral norm "
            f"{train.get('spectral_norm')}, R1 {train.get('r1_penalty')}, EMA {train.get('ema_decay')}, "
            f"{precision_words(train.get('mixed_precision'))}, seed {train.get('seed')}")


def precision_words(mixed_precision: bool | None) -> str:
    """How the networks ran, for the fit line and `info`; the default is bfloat16 only where the processor
    computes it natively."""
    return "bfloat16 autocast" if mixed_precision else "float32"


def versions_line(config: dict) -> str:
    return "versions:   " + ", ".join(f"{k} {v}" for k, v in config.get("library_versions", {}).items())


def _interrupt(signum, frame) -> None:
    """SIGTERM (a scheduler's stop) is handled like Ctrl-C: checkpoint, then exit."""
    raise KeyboardInterrupt


def checkpoint_folder(out: Path, resume: bool) -> Path:
    """OUT.checkpoint/, which --resume needs; says where a resumed fit picks up."""
    checkpoint = out.with_name(out.name + ".checkpoint")
    if resume:
        if not checkpoint.is_dir():
            raise GanforgeError(f"{checkpoint}: no checkpoint to resume from")
        click.echo(f"resuming {resume_point(checkpoint)} (checkpoint {checkpoint})", err=True)
    return checkpoint


def resume_point(checkpoint: Path) -> str:
    """'from epoch N of M', read from the checkpoint without running any of its code."""
    from ..persist import Checkpoint, read_json

    settings_file = checkpoint / Checkpoint.SETTINGS_FILE
    planned = None
    if settings_file.is_file():
        settings = read_json(settings_file)
        planned = (settings.get("train_config") or {}).get("epochs") if isinstance(settings, dict) else None
    state_file = checkpoint / Checkpoint.STATE_FILE
    epoch = None
    if state_file.is_file():
        import torch

        try:
            epoch = torch.load(state_file, weights_only=True).get("epoch")
        except Exception:  # a damaged file is reported by the fit itself, with its name
            epoch = None
    where = f"from epoch {epoch}" if epoch is not None else "from the checkpoint"
    return where + (f" of {planned:,}" if isinstance(planned, int) and planned < UNTIL_TIME_IS_UP else "")


def save_model(model, out: Path, force: bool, checkpoint: Path) -> None:
    """The model folder, then the end of its checkpoint: the one place a checkpoint is removed, and only once
    what it would resume is safely saved."""
    from ..persist import Checkpoint

    model.save(out, force=force)
    Checkpoint(checkpoint, {}).remove()


def fit_with_checkpoint(fit: Callable[[], Any], checkpoint: Path) -> None:
    """Run a fit that checkpoints on Ctrl-C or SIGTERM; an interrupted one says how to resume, exit 130."""
    from ..core.trainer import TrainingInterrupted

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        fit()
    except TrainingInterrupted as stopped:
        click.echo(f"interrupted after epoch {stopped.state['epoch']}; checkpoint saved in {checkpoint}; "
                   "run the same command with --resume to continue", err=True)
        raise SystemExit(130) from None
