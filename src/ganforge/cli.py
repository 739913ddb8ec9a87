"""The `ganforge` command: parse options, call the public API, print. A GanforgeError is one line, exit 2."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import click

from .config import COLUMN_KINDS, LOSS_NAMES
from .errors import GanforgeError

SMALL_TABLE_ROWS = 20_000  # below this a fit runs on one thread unless OMP_NUM_THREADS says otherwise
UNTIL_TIME_IS_UP = 1_000_000  # epochs when only --max-minutes bounds a fit
MANY_LEVELS = 500  # a categorical column with this many levels gets a hint about text columns


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanforgeError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            ctx.exit(130)


def _interrupt(signum, frame) -> None:
    """SIGTERM (a scheduler's stop) is handled like Ctrl-C: checkpoint, then exit."""
    raise KeyboardInterrupt


def _bounds(values: tuple[str, ...]) -> dict[str, list[float]]:
    bounds = {}
    for name, text in _pairs(values, "--dp-bounds").items():
        low, sep, high = text.partition(":")
        try:
            bounds[name] = [float(low), float(high)]
        except ValueError:
            raise GanforgeError(f"--dp-bounds {name}={text!r}: expected LOW:HIGH numbers") from None
    return bounds


def _budget_lines(privacy: dict) -> list[str]:
    """How the budget was split and what each part bought."""
    statistics, training = privacy["statistics"], privacy["training"]
    bought = statistics.get("bought", {})
    lines = [f"budget split: statistics epsilon {statistics['epsilon']:.3g} "
             f"({statistics['epsilon'] / max(1, len(bought)):.3g} for each of {len(bought)} columns), "
             f"DP-SGD epsilon {training['epsilon_target']:.3g}"]
    lines += [f"statistics bought for {name}: {what}" for name, what in bought.items()]
    lines.append(f"DP-SGD bought {training['steps']:,} discriminator steps on Poisson samples of "
                 f"{training['sample_rate']:.1%} of the rows, noise {training['noise_multiplier']:.3g} x clip "
                 f"{training['max_grad_norm']:g}; the accountant (RDP) says epsilon {training['epsilon_spent']:.3g}")
    return lines


def _privacy_line(privacy: dict | None) -> str:
    if not privacy:
        return "none (no differential privacy; see the evaluation's privacy section for empirical risk)"
    training = privacy["training"]
    return (f"differentially private, epsilon {privacy['epsilon']:.3f} spent of {privacy['epsilon_budget']:g}, "
            f"delta {privacy['delta']:g} (statistics epsilon {privacy['statistics']['epsilon']:.3g}; DP-SGD "
            f"noise {training['noise_multiplier']:.3g}, clip {training['max_grad_norm']:g}, "
            f"{training['steps']} steps at rate {training['sample_rate']:.3g}); covers {privacy['covers']}; "
            f"not covered: {privacy['not_covered']}")


def _rate(training: dict, train: dict, which: int):
    """The learning rate a fit used: the schedule's choice when the settings named none."""
    rates = training.get("learning_rates")
    return rates[which] if rates else train.get(("generator_lr", "discriminator_lr")[which])


def _length(training: dict) -> str:
    """How long a table model trained, in the unit its schedule used."""
    if "validation" in training:
        return f"{training.get('steps', 0):,} steps"
    return f"{training.get('epochs_run', '?')} epochs"


def _declared_kinds(metadata: Path | None, column_kind: tuple[str, ...], table) -> dict[str, str]:
    """Kinds from --metadata, then --column-kind over them."""
    from .tabular.schema import read_metadata

    declared = {} if metadata is None else read_metadata(metadata, table)
    return {**declared, **_pairs(column_kind, "--column-kind")}


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """'column=value' options into a dict; the column is everything before the first '='."""
    pairs = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise GanforgeError(f"{option} {item!r}: expected COLUMN=VALUE")
        pairs[name] = value
    return pairs


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganforge")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail.")
def cli(verbose: bool) -> None:
    """Learn the distribution of real data with GANs and sample synthetic data that keeps its statistics."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Model folder to write.")
@click.option("--epochs", type=int, help="Passes over the data [default: tables train 3,000 steps of 200 rows "
              "instead; images 30; texts: adversarial epochs, 10].")
@click.option("--max-minutes", type=float, help="Stop after this many minutes of training.")
@click.option("--seed", type=int, default=0, show_default=True, help="Makes a CPU run repeatable.")
@click.option("--loss", type=click.Choice(LOSS_NAMES), help="[default: wgan-gp; nonsaturating with --dp-epsilon]")
@click.option("--batch-size", type=int, help="[default: 200 for tables (500 with --epochs), 64 for images]")
@click.option("--n-critic", type=int, default=1, show_default=True, help="Discriminator steps per generator step.")
@click.option("--generator-lr", type=float, help="[default: 2e-4]")
@click.option("--discriminator-lr", type=float, help="[default: 2e-4]")
@click.option("--r1-penalty", type=float, help="R1 gradient penalty weight gamma on real data [default: 0].")
@click.option("--spectral-norm", is_flag=True, help="Spectral normalisation in the discriminator.")
@click.option("--pack", type=int, help="Tables: rows the discriminator judges together [default: 10].")
@click.option("--metadata", type=click.Path(path_type=Path),
              help="Tables: a JSON file of column types, SDV's single-table metadata (sdtypes) or "
                   '{"column_kinds": {COLUMN: KIND}}; --column-kind wins over it.')
@click.option("--column-kind", multiple=True, metavar="COLUMN=KIND",
              help=f"Override an inferred column kind ({', '.join(COLUMN_KINDS)}); repeatable.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--mixed-precision", is_flag=True, help="bfloat16 autocast for the networks (GPUs); penalties stay float32.")
@click.option("--compile", "compile_generator", is_flag=True, help="torch.compile the generator (costs a minute first).")
@click.option("--dp-epsilon", type=float, help="Train with differential privacy at this epsilon (the whole budget).")
@click.option("--dp-delta", type=float, default=1e-5, show_default=True, help="With --dp-epsilon: delta.")
@click.option("--max-grad-norm", type=float, default=1.0, show_default=True, help="With --dp-epsilon: per-row clip.")
@click.option("--dp-bounds", multiple=True, metavar="COLUMN=LOW:HIGH",
              help="With --dp-epsilon: a public range for a number/date column (saves budget); repeatable.")
@click.option("--dp-categories", multiple=True, metavar="COLUMN=A,B,C",
              help="With --dp-epsilon: the public levels of a category column (none is hidden); repeatable.")
@click.option("--arch", "architecture", type=click.Choice(["dcgan", "resnet"]), help="Images: network [default: dcgan].")
@click.option("--conditional", type=click.Choice(["auto", "none", "cgan", "acgan"]),
              help="Images: label conditioning [default: auto, cgan when the images are labelled].")
@click.option("--image-size", type=click.Choice(["8", "16", "32", "64"]),
              help="Images: side in pixels [default: the images' own, rounded up to a power of two].")
@click.option("--width", type=int, help="Images: channels of the first discriminator layer [default: 64].")
@click.option("--diffaugment", is_flag=True, help="Images: differentiable augmentation, for small data sets.")
@click.option("--level", type=click.Choice(["auto", "char", "word"]),
              help="Texts: tokens [default: auto, word for sentences and char for names or codes].")
@click.option("--adversarial", type=click.Choice(["gumbel", "policy-gradient", "none"]),
              help="Texts: the adversarial phase after maximum likelihood [default: gumbel].")
@click.option("--mle-epochs", type=int, help="Texts: maximum-likelihood epochs before it [default: 20].")
@click.option("--report", type=click.Path(path_type=Path),
              help="Tables and texts: hold out a share of the rows (texts), fit on the rest, and write an "
                   "evaluation report here. Images: a report of samples against the training images.")
@click.option("--holdout-share", type=float, default=0.2, show_default=True, help="Share held out for --report.")
@click.option("--target", help="With --report: the column to predict for the utility test.")
@click.option("--resume", is_flag=True, help="Continue an interrupted fit from its checkpoint (OUT.checkpoint/).")
@click.option("--checkpoint-every", type=int, default=10, show_default=True, help="Epochs between checkpoints.")
@click.option("--force", is_flag=True, help="Replace an existing model folder (and report).")
def fit(data: Path, out: Path, epochs: int | None, max_minutes: float | None, seed: int, loss: str | None,
        batch_size: int | None, n_critic: int, generator_lr: float | None, discriminator_lr: float | None,
        r1_penalty: float | None, spectral_norm: bool, pack: int | None, metadata: Path | None,
        column_kind: tuple[str, ...], device: str,
        mixed_precision: bool, compile_generator: bool, dp_epsilon: float | None, dp_delta: float,
        max_grad_norm: float, dp_bounds: tuple[str, ...], dp_categories: tuple[str, ...],
        architecture: str | None, conditional: str | None, image_size: str | None, width: int | None,
        diffaugment: bool, level: str | None, adversarial: str | None, mle_epochs: int | None, report: Path | None, holdout_share: float, target: str | None, resume: bool,
        checkpoint_every: int, force: bool) -> None:
    """Fit a synthesizer on a CSV/Parquet table, on images (a folder with a sub-folder per class, or an
    .npz), or on texts (a .txt file, one text per line), and save it as a model folder."""
    from .cli_image import IMAGE_ONLY, fit_images, is_image_data, refuse_options
    from .cli_text import TEXT_ONLY, fit_text, is_text_data

    options = dict(locals())
    if is_text_data(data):
        if max_minutes is not None and epochs is None:
            options["epochs"] = UNTIL_TIME_IS_UP
        return fit_text(data, out, options)
    refuse_options(options, TEXT_ONLY, "texts (.txt files)")
    if is_image_data(data):
        options["image_size"] = None if image_size is None else int(image_size)
        if max_minutes is not None and epochs is None:
            options["epochs"] = UNTIL_TIME_IS_UP
        return fit_images(data, out, options)
    refuse_options(options, IMAGE_ONLY, "images")
    from .core.trainer import TrainingInterrupted
    from .io import ParquetColumns, check_writable, read_table
    from .persist import Checkpoint, check_model_destination
    from .tabular.synthesizer import TabularSynthesizer

    check_model_destination(out, force)
    if report is not None:
        check_writable(report, force)
        if not 0 < holdout_share < 1:
            raise GanforgeError(f"--holdout-share must be between 0 and 1, got {holdout_share}")
    if dp_epsilon is not None and max_minutes is not None and epochs is None:
        raise GanforgeError("--dp-epsilon needs --epochs: the noise is set for a known number of steps")
    if dp_epsilon is None and (dp_bounds or dp_categories):
        raise GanforgeError("--dp-bounds and --dp-categories only apply with --dp-epsilon")
    model = TabularSynthesizer(
        **({} if loss is None else {"loss": loss}),  # unnamed: the API picks (wgan-gp, or nonsaturating under DP)
        **{key: value for key, value in (("batch_size", batch_size), ("generator_lr", generator_lr),
                                         ("discriminator_lr", discriminator_lr), ("pack", pack),
                                         ("r1_penalty", r1_penalty)) if value is not None},
        epochs=epochs, max_minutes=max_minutes, seed=seed, n_critic=n_critic, spectral_norm=spectral_norm,
        column_kinds=_pairs(column_kind, "--column-kind"), device=device, mixed_precision=mixed_precision,
        compile=compile_generator, dp_epsilon=dp_epsilon, dp_delta=dp_delta, max_grad_norm=max_grad_norm,
        dp_public_bounds=_bounds(dp_bounds), dp_public_categories={
            name: value.split(",") for name, value in _pairs(dp_categories, "--dp-categories").items()})
    # without a report nothing needs the whole table at once: a Parquet file is then read a column at a time
    is_parquet = data.suffix.lower() in (".parquet", ".pq")
    table = ParquetColumns(data) if is_parquet and report is None else read_table(data)
    if target is not None and target not in table.columns:
        raise GanforgeError(f"--target {target!r} is not a column of {data}")
    if metadata is not None:
        model.tabular_config = replace(model.tabular_config,
                                       column_kinds=_declared_kinds(metadata, column_kind, table))
    if "OMP_NUM_THREADS" not in os.environ and len(table) < SMALL_TABLE_ROWS:
        import torch

        torch.set_num_threads(1)  # a small table's steps are too short to share between cores
    holdout = None
    if report is not None:
        holdout = table.sample(frac=holdout_share, random_state=seed)
        table = table.drop(index=holdout.index)
        click.echo(f"holding out {len(holdout):,} rows for the report", err=True)
    checkpoint = out.with_name(out.name + ".checkpoint")
    if resume and not checkpoint.is_dir():
        raise GanforgeError(f"{checkpoint}: no checkpoint to resume from")
    if checkpoint_every < 1:
        raise GanforgeError(f"--checkpoint-every must be at least 1, got {checkpoint_every}")
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one process speaks for all
        click.echo(f"fitting {len(table):,} rows x {table.shape[1]} columns from {data} ...", err=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        model.fit(table, checkpoint_dir=checkpoint, resume=resume, checkpoint_every=checkpoint_every)
    except TrainingInterrupted as stopped:
        click.echo(f"interrupted after epoch {stopped.state['epoch']}; checkpoint saved in {checkpoint}; "
                   "run the same command with --resume to continue", err=True)
        raise SystemExit(130) from None
    if model.training_["processes"] > 1:
        from .core.distributed import current, finish

        main = current().is_main
        finish()
        if not main:  # rank 0 writes the model (and any report)
            return
    model.save(out, force=force)
    Checkpoint(checkpoint, {}).remove()
    training = model.training_
    if training["stopped_by"] == "divergence":
        click.echo("warning: training diverged and could not recover; saved the last good generator", err=True)
    history = training["history"]
    last = f"; last losses D={history[-1]['loss_d']:.3f} G={history[-1]['loss_g']:.3f}" if history else ""
    for note in getattr(model, "notes_", []):
        click.echo(f"note: {note}", err=True)
    click.echo(f"trained {_length(training)} in {training['seconds']:.1f} s on {training['device']} "
               f"(loss {model.train_config.loss}, stopped by {training['stopped_by']}){last}")
    if "validation" in training:
        scores = training["validation"]
        kept = (f"kept the best, step {scores['best_step']:,}" if scores["early_stopping"] else
                f"best {scores['best_score']:.3f} at step {scores['best_step']:,}; kept the last")
        click.echo(f"pairwise fidelity every {scores['steps_per_score']} steps: {scores['curve'][0][1]:.3f} "
                   f"at first, {scores['curve'][-1][1]:.3f} at the end ({kept})")
    if "rejection" in training:
        click.echo(f"rejection sampling: {training['rejection']['reason']}")
    click.echo("columns:")
    for spec in model.schema_:
        click.echo(f"  {spec.name}: {spec.kind} ({spec.reason})")
    many = [(column.spec.name, len(column.encoder.levels)) for column in model.transform_.columns
            if column.spec.kind == "categorical" and column.encoder is not None
            and len(getattr(column.encoder, "levels", ())) >= MANY_LEVELS]
    for name, levels in many:
        click.echo(f"note: column {name!r} has {levels:,} levels, which synthetic rows copy; if it holds names or "
                   f"codes, --column-kind {name}=text generates new values instead", err=True)
    if model.privacy_:
        click.echo(f"privacy: {_privacy_line(model.privacy_)}")
        for line in _budget_lines(model.privacy_):
            click.echo(f"  {line}")
    click.echo(f"model saved to {out}")
    if report is not None:
        synthetic = model.sample(len(table), seed=seed)
        _evaluate_and_report(table, synthetic, holdout, target, None, report, force, seed, history,
                             title=f"ganforge report: {data.name}", guarantee=model.privacy_,
                             kinds={spec.name: spec.kind for spec in model.schema_})


def _evaluate_and_report(real, synthetic, holdout, target, out: Path | None, report: Path | None, force: bool,
                         seed: int, history=None, title: str = "Synthetic data report",
                         guarantee: dict | None = None, kinds: dict[str, str] | None = None) -> None:
    from .io import write_text
    from .metrics import evaluate
    from .report.html import render_report
    from .tabular.schema import check_table, infer_schema

    click.echo("evaluating ...", err=True)
    check_table(real, "real")
    schema = infer_schema(real, kinds or {})  # once, for the metrics and the report
    results = evaluate(real, synthetic, holdout=holdout, target=target, seed=seed, schema=schema)
    if guarantee:
        results["verdict"]["differential privacy"] = _privacy_line(guarantee)
        results["differential_privacy"] = guarantee
    if out is not None:
        public = {k: v for k, v in results.items() if not k.startswith("_")}
        write_text(json.dumps(public, indent=2) + "\n", out, force=force)
        click.echo(f"metrics written to {out}")
    if report is not None:
        write_text(render_report(results, real, synthetic, history=history, title=title, schema=schema), report,
                   force=force)
        click.echo(f"report written to {report}")
    fidelity = results["fidelity"]
    click.echo(f"quality {fidelity['overall']:.3f} (shapes {fidelity['column_shapes']:.3f}, pairs "
               f"{fidelity['column_pair_trends'] if fidelity['column_pair_trends'] is None else round(fidelity['column_pair_trends'], 3)}); "
               f"detection AUC {results['detection'].get('auc')}")
    for key, text in results["verdict"].items():
        click.echo(f"  {key}: {text}")


@cli.command()
@click.option("--real", "real_path", required=True, type=click.Path(path_type=Path), help="The training table.")
@click.option("--synthetic", "synthetic_path", required=True, type=click.Path(path_type=Path))
@click.option("--holdout", "holdout_path", type=click.Path(path_type=Path),
              help="Real rows the generator never saw: enables the privacy tests.")
@click.option("--train", "train_path", type=click.Path(path_type=Path),
              help="Texts: the training texts, for the memorisation rate (--real should then be held-out texts).")
@click.option("--target", help="Column to predict for the utility test (train on synthetic, test on real).")
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Write the metrics here as JSON.")
@click.option("--report", type=click.Path(path_type=Path), help="Write a self-contained HTML report here.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--metadata", type=click.Path(path_type=Path),
              help="Tables: a JSON file of column types, SDV's single-table metadata (sdtypes) or "
                   '{"column_kinds": {COLUMN: KIND}}; --column-kind wins over it.')
@click.option("--column-kind", multiple=True, metavar="COLUMN=KIND",
              help="Tables: override an inferred column kind (as at fit; text columns are checked for copies).")
@click.option("--features", type=click.Choice(["auto", "ganforge-cnn", "inception"]), default="auto",
              show_default=True, help="Images: feature extractor (auto: InceptionV3 when installed, else offline).")
@click.option("--feature-net", type=click.Path(path_type=Path),
              help="Images: reuse an offline feature network saved by --save-feature-net.")
@click.option("--encoder", default="auto", show_default=True, metavar="auto|ganforge-lsa|MODEL",
              help="Texts: sentence encoder for the Frechet distance (auto: sentence-transformers' all-MiniLM-L6-v2 "
                   "when installed and cached, else ganforge-lsa, fitted offline; MODEL: a sentence-transformers "
                   "model name or folder).")
@click.option("--force", is_flag=True, help="Replace existing output files.")
def evaluate(real_path: Path, synthetic_path: Path, holdout_path: Path | None, train_path: Path | None,
             target: str | None,
             out: Path | None, report: Path | None, seed: int, metadata: Path | None, column_kind: tuple[str, ...],
             features: str,
             feature_net: Path | None, encoder: str, force: bool) -> None:
    """Is the synthetic data good, useful, and safe? Tables: fidelity, detection, utility, privacy, validity.
    Images: FID, KID, Inception Score, precision/recall, density/coverage. Texts: BLEU, self-BLEU, distinct-n,
    memorisation, Frechet distance of sentence embeddings."""
    from .cli_image import evaluate_images_command, is_image_data
    from .cli_text import evaluate_text_command, is_text_data
    from .io import check_writable, read_table

    if is_text_data(real_path):
        if holdout_path is not None or target is not None or column_kind or metadata:
            raise GanforgeError("--holdout, --target, --metadata and --column-kind apply to tables only")
        return evaluate_text_command(real_path, synthetic_path, train_path, out, report, seed, encoder, force)
    if train_path is not None or encoder != "auto":
        raise GanforgeError("--train and --encoder apply to texts (.txt files) only")
    if is_image_data(real_path):
        if holdout_path is not None or target is not None or column_kind or metadata:
            raise GanforgeError("--holdout, --target, --metadata and --column-kind apply to tables only")
        return evaluate_images_command(real_path, synthetic_path, out, report, seed, features, feature_net, force)

    for path in (out, report):
        if path is not None:
            check_writable(path, force)
    real, synthetic = read_table(real_path), read_table(synthetic_path)
    holdout = read_table(holdout_path) if holdout_path is not None else None
    _evaluate_and_report(real, synthetic, holdout, target, out, report, force, seed,
                         kinds=_declared_kinds(metadata, column_kind, real))


@cli.command()
@click.argument("model_dir", metavar="MODEL", type=click.Path(path_type=Path))
@click.option("--num-rows", "-n", "--num", "num_rows", required=True, type=int,
              help="How many rows (images, texts) to generate.")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Tables: a CSV or Parquet file. Images: a folder of PNGs (a sub-folder per class) or an .npz. "
                   "Texts: a .txt file.")
@click.option("--seed", type=int, help="Same seed, same output.")
@click.option("--condition", multiple=True, metavar="COLUMN=VALUE", help="Tables: only rows with this value; repeatable.")
@click.option("--label", help="Images: only this class (its folder name).")
@click.option("--grid", type=click.Path(path_type=Path), help="Images: also write a PNG grid (a row per class).")
@click.option("--temperature", type=float, help="Texts: below 1 safer and less varied, above 1 the opposite [default: 1].")
@click.option("--baseline", is_flag=True, help="Texts: sample the maximum-likelihood generator the GAN started from.")
@click.option("--no-rejection", is_flag=True,
              help="Tables: keep every generated row, even those the model's row critic finds fake.")
@click.option("--device", default="auto", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def sample(model_dir: Path, num_rows: int, out: Path, seed: int | None, condition: tuple[str, ...],
           label: str | None, grid: Path | None, temperature: float | None, baseline: bool, no_rejection: bool,
           device: str, force: bool) -> None:
    """Generate synthetic rows, images or texts (one per line) from a model folder."""
    from .cli_image import sample_images
    from .cli_text import sample_text
    from .io import check_writable, write_table_chunks
    from .persist import model_type
    from .tabular.synthesizer import TabularSynthesizer

    if num_rows <= 0:
        raise GanforgeError(f"--num must be positive, got {num_rows}")
    kind = model_type(model_dir)
    if no_rejection and kind != "tabular":
        raise GanforgeError("--no-rejection applies to table models only")
    if kind == "text":
        if condition or label is not None or grid is not None:
            raise GanforgeError("--condition, --label and --grid do not apply to text models")
        return sample_text(model_dir, num_rows, out, seed, 1.0 if temperature is None else temperature, baseline,
                           device, force)
    if temperature is not None or baseline:
        raise GanforgeError("--temperature and --baseline apply to text models only")
    if kind == "image":
        if condition:
            raise GanforgeError("--condition applies to tables; use --label for images")
        return sample_images(model_dir, num_rows, out, seed, label, grid, device, force)
    if label is not None or grid is not None:
        raise GanforgeError("--label and --grid apply to image models; use --condition for tables")
    check_writable(out, force)
    model = TabularSynthesizer.load(model_dir, device=device)
    start = time.monotonic()
    chunks = model.sample_chunks(num_rows, conditions=_pairs(condition, "--condition"), seed=seed,
                                 rejection=not no_rejection)
    written = write_table_chunks(chunks, out, force=force)  # constant memory, whatever --num-rows is
    click.echo(f"wrote {written:,} rows x {len(model.schema_)} columns to {out} in {time.monotonic() - start:.1f} s")


@cli.command()
@click.argument("model_dir", metavar="MODEL", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON.")
def info(model_dir: Path, as_json: bool) -> None:
    """What a model was trained on and how: columns (or images), epochs, loss, versions."""
    from .cli_image import info_images
    from .cli_text import info_text
    from .persist import load_model_folder, model_type

    kind = model_type(model_dir)
    config, _ = load_model_folder(model_dir, kind)
    if kind == "image":
        return info_images(model_dir, config, as_json)
    if kind == "text":
        return info_text(model_dir, config, as_json)
    if as_json:
        click.echo(json.dumps({k: v for k, v in config.items() if k != "transform"} |
                              {"columns": [c["spec"] for c in config.get("transform", [])]}, indent=2))
        return
    training, train = config.get("training", {}), config.get("train_config", {})
    click.echo(f"model:      {model_dir} ({config['model_type']}, format {config['format_version']}, "
               f"created {config.get('created', '?')})")
    click.echo(f"trained on: {training.get('rows', '?'):,} rows, {_length(training)}, "
               f"{training.get('seconds', 0):.1f} s on {training.get('device', '?')}, "
               f"stopped by {training.get('stopped_by', '?')}")
    click.echo(f"game:       loss {train.get('loss')}, n_critic {train.get('n_critic')}, batch {training.get('batch_size')}, "
               f"lr G {_rate(training, train, 0)} / D {_rate(training, train, 1)}, "
               f"spectral norm {train.get('spectral_norm')}, EMA {train.get('ema_decay')}, seed {train.get('seed')}")
    click.echo(f"privacy:    {_privacy_line(config.get('privacy'))}")
    if config.get("privacy"):
        for line in _budget_lines(config["privacy"]):
            click.echo(f"            {line}")
    if "rejection" in training:
        click.echo(f"rejection:  {training['rejection']['reason']}")
    history = training.get("history") or []
    if history:
        click.echo(f"last loss:  D {history[-1]['loss_d']:.4f}, G {history[-1]['loss_g']:.4f}")
    click.echo("versions:   " + ", ".join(f"{k} {v}" for k, v in config.get("library_versions", {}).items()))
    click.echo("columns:")
    for column in config.get("transform", []):
        spec = column["spec"]
        missing = "missing (private)" if spec["null_rate"] is None else f"missing {spec['null_rate']:.1%}"
        reason = f"  ({spec['reason']})" if spec.get("reason") else ""
        click.echo(f"  {spec['name']:<24} {spec['kind']:<12} {spec['dtype']:<16} {missing}{reason}")


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--target", help="Tables: the class column to rebalance (required for tables).")
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Real rows plus synthetic ones (CSV/Parquet).")
@click.option("--ratio", type=float, help="Top every minority class up to RATIO x the majority's count.")
@click.option("--add", type=int, help="Add this many rows, shared among the minority classes.")
@click.option("--model", "model_dir", type=click.Path(path_type=Path), help="Reuse a fitted model folder.")
@click.option("--mark-synthetic", is_flag=True, help="Add a boolean column 'is_synthetic'.")
@click.option("--compare", "compare_methods", is_flag=True,
              help="Print minority recall, F1, PR-AUC and balanced accuracy: none vs SMOTE vs ganforge.")
@click.option("--seeds", default="0,1,2", show_default=True, help="With --compare: comma-separated seeds.")
@click.option("--epochs", type=int, help="When a model is fitted here [default: 300 for tables; images: "
              "enough for 3,000 steps].")
@click.option("--labelled-share", type=float, default=0.1, show_default=True,
              help="Images: share of the training images whose labels the classifier may use.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def augment(data: Path, target: str | None, out: Path | None, ratio: float | None, add: int | None,
            model_dir: Path | None, mark_synthetic: bool, compare_methods: bool, seeds: str, epochs: int | None,
            labelled_share: float, seed: int, force: bool) -> None:
    """Tables: rebalance rare classes with conditional synthetic rows, or --compare that against SMOTE and
    nothing. Images: train a classifier on a few labelled images with and without class-balanced synthetic
    ones and print both test accuracies (--out: the figures as JSON)."""
    from .cli_image import augment_images, is_image_data
    from .io import check_writable, read_table, write_table
    from .tabular import augment as augmentation
    from .tabular.synthesizer import TabularSynthesizer

    if is_image_data(data):
        if target or ratio or add or model_dir or mark_synthetic:
            raise GanforgeError("--target, --ratio, --add, --model and --mark-synthetic apply to tables only")
        return augment_images(data, labelled_share, epochs, seed, out, force)
    if target is None:
        raise GanforgeError("--target is required for a table: the class column to rebalance")
    epochs = epochs or 300
    table = read_table(data)
    if compare_methods:
        try:
            seed_list = tuple(int(s) for s in seeds.split(","))
        except ValueError:
            raise GanforgeError(f"--seeds {seeds!r}: expected comma-separated integers") from None
        results = augmentation.compare(table, target, seeds=seed_list, ratio=ratio or 1.0, epochs=epochs)
        metrics = ["minority_recall", "minority_f1", "minority_pr_auc", "balanced_accuracy"]
        summary = results.groupby("method", sort=False)[metrics].agg(["mean", "std"])
        click.echo(f"{target}: {len(seed_list)} seeds, 30% stratified test split; mean ± std")
        click.echo(f"{'method':<10}" + "".join(f"{m:>22}" for m in metrics))
        for method, values in summary.iterrows():
            cells = "".join(f"{values[(m, 'mean')]:>14.3f} ± {values[(m, 'std')]:.3f}" for m in metrics)
            click.echo(f"{method:<10}{cells}")
        return
    if out is None:
        raise GanforgeError("--out is required (or use --compare)")
    check_writable(out, force)
    model = TabularSynthesizer.load(model_dir) if model_dir is not None else None
    augmented = augmentation.augment(table, target, model=model, ratio=ratio, add=add, seed=seed,
                                     mark=mark_synthetic, epochs=epochs)
    write_table(augmented, out, force=force)
    counts = augmented[target].value_counts().to_dict()
    click.echo(f"wrote {len(table):,} real + {len(augmented) - len(table):,} synthetic rows to {out}; "
               f"classes now {counts}")


@cli.command("demo-data")
@click.argument("name", required=False)
@click.option("--out", "-o", type=click.Path(path_type=Path), help="CSV or Parquet file to write.")
@click.option("--split", type=click.Choice(["train", "test"]), default="train", show_default=True,
              help="fashion-mnist: which part.")
@click.option("--force", is_flag=True)
def demo_data(name: str | None, out: Path | None, split: str, force: bool) -> None:
    """Write one of the real tables (image sets, texts) that install offline; without NAME, list them."""
    from .datasets import DATASETS, IMAGE_DATASETS, TEXT_DATASETS, load_dataset, load_image_dataset, load_text_dataset
    from .io import write_table, write_text

    if name is None:
        for key, dataset in DATASETS.items():
            click.echo(f"{key:<16} {dataset.description}")
        for key, description in IMAGE_DATASETS.items():
            click.echo(f"{key:<16} {description}; images: --out FOLDER or FILE.npz")
        for key, description in TEXT_DATASETS.items():
            click.echo(f"{key:<16} {description}; texts: --out FILE.txt")
        return
    if out is None:
        raise GanforgeError("--out is required to write a data set")
    if name in IMAGE_DATASETS:
        from .image.data import write_images

        images = load_image_dataset(name, split)
        write_images(out, images.images, images.labels, images.classes, force=force)
        click.echo(f"wrote {name} ({len(images.images):,} images, {len(images.classes)} classes) to {out}")
        return
    if name in TEXT_DATASETS:
        texts = load_text_dataset(name)
        write_text("".join(text + "\n" for text in texts), out, force=force)
        click.echo(f"wrote {name} ({len(texts):,} texts, one per line) to {out}")
        return
    table = load_dataset(name)
    write_table(table, out, force=force)
    click.echo(f"wrote {name} ({len(table):,} rows x {table.shape[1]} columns) to {out}")


def main() -> None:
    cli(prog_name="ganforge")
