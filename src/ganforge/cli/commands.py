"""The `ganforge` command: options, and a hand-over to the half for the data at hand (tables.py, images.py,
texts.py, audio.py). A GanforgeError is one line and exit 2. The library is imported inside the commands, so `--help`
starts at once."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..config import COLUMN_KINDS, LOSS_NAMES
from ..errors import GanforgeError
from .common import (
    AUDIO,
    IMAGES,
    TABLES,
    TEXTS,
    UNTIL_TIME_IS_UP,
    Group,
    data_kind,
    given_options,
    refuse,
    refuse_fit_options,
)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--steps", type=int, help="Tables: generator steps, rounded up to hundreds [default: 3,000].")
@click.option("--max-minutes", type=float, help="Stop after this many minutes of training.")
@click.option("--seed", type=int, default=0, show_default=True, help="Makes a CPU run repeatable.")
@click.option("--loss", type=click.Choice(LOSS_NAMES), help="[default: wgan-gp; nonsaturating with --dp-epsilon]")
@click.option("--batch-size", type=int, help="[default: 200 for tables (500 with --epochs), 64 for images]")
@click.option("--n-critic", type=int, default=1, show_default=True, help="Discriminator steps per generator step.")
@click.option("--generator-lr", type=float, help="[default: tables 5e-4 (2e-4 with --epochs); images 2e-4 up to "
              "16 px, 1e-3 from 32 px; texts 1e-4; sounds 2e-4]")
@click.option("--discriminator-lr", type=float, help="[default: as --generator-lr]")
@click.option("--r1-penalty", type=float, help="R1 gradient penalty weight gamma on real data [default: 0].")
@click.option("--spectral-norm/--no-spectral-norm", default=None,
              help="Spectral normalisation in the discriminator [default: on for images, off for tables].")
@click.option("--pack", type=int, help="Tables: rows the discriminator judges together [default: 10].")
@click.option("--metadata", type=click.Path(path_type=Path),
              help="Tables: a JSON file of column types, SDV's single-table metadata (sdtypes) or "
                   '{"column_kinds": {COLUMN: KIND}}; --column-kind wins over it.')
@click.option("--column-kind", multiple=True, metavar="COLUMN=KIND",
              help=f"Override an inferred column kind ({', '.join(COLUMN_KINDS)}); repeatable.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--mixed-precision/--no-mixed-precision", default=None,
              help="bfloat16 autocast for the networks; penalties stay float32 [default: sounds and images from 16 "
                   "px where the processor computes bfloat16 natively; tables never].")
@click.option("--compile", "compile_generator", is_flag=True,
              help="torch.compile the generator (costs a minute first).")
@click.option("--dp-epsilon", type=float, help="Train with differential privacy at this epsilon (the whole budget).")
@click.option("--dp-delta", type=float, default=1e-5, show_default=True, help="With --dp-epsilon: delta.")
@click.option("--max-grad-norm", type=float, default=1.0, show_default=True, help="With --dp-epsilon: per-row clip.")
@click.option("--dp-sgd-share", type=float, default=0.0, show_default=True,
              help="With --dp-epsilon: share of epsilon for DP-SGD after the generator is fitted to noisy marginals.")
@click.option("--dp-bounds", multiple=True, metavar="COLUMN=LOW:HIGH",
              help="With --dp-epsilon: a public range for a number/date column (saves budget); repeatable.")
@click.option("--dp-categories", multiple=True, metavar="COLUMN=A,B,C",
              help="With --dp-epsilon: the public levels of a category column (none is hidden); repeatable.")
@click.option("--arch", "architecture", type=click.Choice(["dcgan", "resnet"]),
              help="Images: network [default: dcgan].")
@click.option("--conditional", type=click.Choice(["auto", "none", "cgan", "acgan"]),
              help="Images and sounds: label conditioning [default: auto, cgan when the data are labelled].")
@click.option("--image-size", type=click.Choice(["8", "16", "32", "64"]),
              help="Images: side in pixels [default: the images' own, rounded up to a power of two].")
@click.option("--width", type=int, help="Images and sounds: channels of the first discriminator layer "
              "[default: images 64 up to 16 px, 16 from 32 px; 16 for spectrograms, 8 for waveforms].")
@click.option("--diffaugment", is_flag=True, help="Images: differentiable augmentation, for small data sets.")
@click.option("--level", type=click.Choice(["auto", "char", "word"]),
              help="Texts: tokens [default: auto, word for sentences and char for names or codes].")
@click.option("--adversarial", type=click.Choice(["gumbel", "policy-gradient", "none"]),
              help="Texts: the adversarial phase after maximum likelihood [default: gumbel].")
@click.option("--mle-epochs", type=int, help="Texts: maximum-likelihood epochs before it [default: 20; with "
              "--max-minutes, as long as the held-out loss falls].")
@click.option("--representation", type=click.Choice(["spectrogram", "waveform"]),
              help="Sounds: the GAN draws log spectrograms (made audible by Griffin-Lim) or waveforms (WaveGAN) "
                   "[default: spectrogram].")
@click.option("--sample-rate", type=int, help="Sounds: resample every clip to this rate [default: the most common].")
@click.option("--report", type=click.Path(path_type=Path),
              help="Tables, texts and sounds: hold out a share of the rows (texts, clips), fit on the rest, and "
                   "write an evaluation report here. Images: a report of samples against the training images.")
@click.option("--holdout-share", type=float, default=0.2, show_default=True, help="Share held out for --report.")
@click.option("--target", help="With --report: the column to predict for the utility test.")
@click.option("--resume", is_flag=True, help="Continue an interrupted fit from its checkpoint (OUT.checkpoint/).")
@click.option("--checkpoint-every", type=int, default=10, show_default=True, help="Epochs between checkpoints.")
@click.option("--force", is_flag=True, help="Replace an existing model folder (and report).")
@click.pass_context
def fit(ctx: click.Context, data: Path, out: Path, **options) -> None:
    """Fit a synthesizer on a CSV/Parquet table, on images (a folder with a sub-folder per class, or an
    .npz), on texts (a .txt file, one text per line), or on sounds (a folder of WAV files, labelled by
    sub-folder or by a LABEL_ file-name prefix), and save it as a model folder."""
    kind = data_kind(data)
    refuse_fit_options(given_options(ctx), kind)
    if kind in (IMAGES, TEXTS, AUDIO) and options["max_minutes"] is not None and options["epochs"] is None:
        options["epochs"] = UNTIL_TIME_IS_UP
    if kind == AUDIO:
        from .audio import fit_audio

        return fit_audio(data, out, options)
    if kind == TEXTS:
        from .texts import fit_text

        return fit_text(data, out, options)
    if kind == IMAGES:
        from .images import fit_images

        options["image_size"] = None if options["image_size"] is None else int(options["image_size"])
        return fit_images(data, out, options)
    from .tables import fit_table

    fit_table(data, out, options)


@cli.command()
@click.option("--real", "real_path", required=True, type=click.Path(path_type=Path), help="The training table.")
@click.option("--synthetic", "synthetic_path", required=True, type=click.Path(path_type=Path))
@click.option("--holdout", "holdout_path", type=click.Path(path_type=Path),
              help="Real rows the generator never saw: enables the privacy tests.")
@click.option("--train", "train_path", type=click.Path(path_type=Path),
              help="Texts and sounds: the training texts (clips), for memorised lines (copied clips); --real should "
                   "then be held-out ones.")
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
@click.option("--save-feature-net", type=click.Path(path_type=Path),
              help="Images: save the offline feature network trained on the real images to this folder, for "
                   "--feature-net next time (the same real images score on the same scale without retraining).")
@click.option("--encoder", default="auto", show_default=True, metavar="auto|ganforge-lsa|MODEL",
              help="Texts: sentence encoder for the Frechet distance (auto: sentence-transformers' all-MiniLM-L6-v2 "
                   "when installed and cached, else ganforge-lsa, fitted offline; MODEL: a sentence-transformers "
                   "model name or folder).")
@click.option("--force", is_flag=True, help="Replace existing output files.")
def evaluate(real_path: Path, synthetic_path: Path, holdout_path: Path | None, train_path: Path | None,
             target: str | None, out: Path | None, report: Path | None, seed: int, metadata: Path | None,
             column_kind: tuple[str, ...], features: str, feature_net: Path | None, save_feature_net: Path | None,
             encoder: str, force: bool) -> None:
    """Is the synthetic data good, useful, and safe? Tables: fidelity, detection, utility, privacy, validity.
    Images: FID, KID, Inception Score, precision/recall, density/coverage. Texts: BLEU, self-BLEU, distinct-n,
    memorisation, Frechet distance of sentence embeddings. Sounds: Frechet audio distance, precision/recall/
    coverage, label accuracy, copies, each beside real-against-real and noise references."""
    kind = data_kind(real_path)
    table_only = {"holdout_path": "--holdout", "target": "--target", "metadata": "--metadata",
                  "column_kind": "--column-kind"}
    given = dict(holdout_path=holdout_path, target=target, metadata=metadata, column_kind=column_kind,
                 train_path=train_path, encoder=encoder, features=features, feature_net=feature_net,
                 save_feature_net=save_feature_net)
    if kind != TABLES:
        refuse(given, table_only, "tables")
    if kind not in (TEXTS, AUDIO):
        refuse(given, {"train_path": "--train"}, "texts (.txt files) and sounds")
    if kind != TEXTS:
        refuse(given, {"encoder": "--encoder"}, "texts (.txt files)")
    if kind != IMAGES:
        refuse(given, {"features": "--features", "feature_net": "--feature-net",
                        "save_feature_net": "--save-feature-net"}, "images")
    if kind == AUDIO:
        from .audio import evaluate_audio_command

        return evaluate_audio_command(real_path, synthetic_path, train_path, out, report, seed, force)
    if kind == TEXTS:
        from .texts import evaluate_text_command

        return evaluate_text_command(real_path, synthetic_path, train_path, out, report, seed, encoder, force)
    if kind == IMAGES:
        from .images import evaluate_images_command

        return evaluate_images_command(real_path, synthetic_path, out, report, seed, features, feature_net,
                                       save_feature_net, force)
    from .tables import evaluate_table_command

    evaluate_table_command(real_path, synthetic_path, holdout_path, target, out, report, seed, metadata, column_kind,
                           force)


@cli.command()
@click.argument("model_dir", metavar="MODEL", type=click.Path(path_type=Path))
@click.option("--num-rows", "-n", "--num", "num_rows", required=True, type=int,
              help="How many rows (images, texts) to generate.")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Tables: a CSV or Parquet file. Images: a folder of PNGs (a sub-folder per class) or an .npz. "
                   "Texts: a .txt file. Sounds: a folder of WAV files (a sub-folder per class) or an .npz.")
@click.option("--seed", type=int, help="Same seed, same output.")
@click.option("--condition", multiple=True, metavar="COLUMN=VALUE",
              help="Tables: only rows with this value; repeatable.")
@click.option("--label", help="Images and sounds: only this class (its folder name or file-name prefix).")
@click.option("--grid", type=click.Path(path_type=Path), help="Images: also write a PNG grid (a row per class).")
@click.option("--temperature", type=float,
              help="Texts: below 1 safer and less varied, above 1 the opposite. Images and sounds: the noise's "
                   "standard deviation, below 1 nearer each class's middle. [default: the model's]")
@click.option("--baseline", is_flag=True, help="Texts: sample the maximum-likelihood generator the GAN started from.")
@click.option("--no-rejection", is_flag=True,
              help="Tables: keep every generated row, even those the model's row critic finds fake.")
@click.option("--no-label-filter", is_flag=True,
              help="Images: keep every drawn image, even those the model's critic names as another class.")
@click.option("--device", default="auto", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def sample(model_dir: Path, num_rows: int, out: Path, seed: int | None, condition: tuple[str, ...],
           label: str | None, grid: Path | None, temperature: float | None, baseline: bool, no_rejection: bool,
           no_label_filter: bool, device: str, force: bool) -> None:
    """Generate synthetic rows, images, texts (one per line) or sounds from a model folder."""
    from ..persist import model_type

    if num_rows <= 0:
        raise GanforgeError(f"{_as_typed('--num-rows', '--num', '-n')} must be positive, got {num_rows}")
    kind = model_type(model_dir)
    given = dict(condition=condition, label=label, grid=grid, temperature=temperature, baseline=baseline,
                 no_rejection=no_rejection, no_label_filter=no_label_filter)
    if kind in ("image", "audio") and condition:
        raise GanforgeError(f"--condition applies to tables; use --label for {kind} models")
    if kind == "tabular" and label is not None:
        raise GanforgeError("--label applies to image and audio models; use --condition for tables")
    if kind != "tabular":
        refuse(given, {"condition": "--condition", "no_rejection": "--no-rejection"}, "table models")
    if kind not in ("image", "audio"):
        refuse(given, {"label": "--label"}, "image and audio models")
    if kind != "image":
        refuse(given, {"grid": "--grid", "no_label_filter": "--no-label-filter"}, "image models")
    if kind != "text":
        refuse(given, {"baseline": "--baseline"}, "text models")
    if kind == "tabular":
        refuse(given, {"temperature": "--temperature"}, "image, text and audio models")
    if kind == "audio":
        from .audio import sample_audio

        return sample_audio(model_dir, num_rows, out, seed, label, temperature, device, force)
    if kind == "text":
        from .texts import sample_text

        return sample_text(model_dir, num_rows, out, seed, temperature, baseline,
                           device, force)
    if kind == "image":
        from .images import sample_images

        return sample_images(model_dir, num_rows, out, seed, label, grid, temperature, not no_label_filter, device,
                             force)
    from .tables import sample_table

    sample_table(model_dir, num_rows, out, seed, condition, not no_rejection, device, force)


def _as_typed(*flags: str) -> str:
    """The one of an option's names the user typed, so an error speaks their words."""
    import sys

    typed = {argument.split("=", 1)[0] for argument in sys.argv[1:]}
    return next((flag for flag in flags if flag in typed), flags[0])


@cli.command()
@click.argument("model_dir", metavar="MODEL_OR_TABLE", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON.")
def info(model_dir: Path, as_json: bool) -> None:
    """What a model was trained on and how: columns (or images), epochs, loss, versions. Given a table file
    instead, what `fit` would make of its columns."""
    from ..io import TABLE_SUFFIXES
    from ..persist import read_model_config

    if model_dir.suffix.lower() in TABLE_SUFFIXES and not model_dir.is_dir():
        from .tables import info_table_file

        return info_table_file(model_dir, as_json)
    config = read_model_config(model_dir)  # the settings alone: info needs neither the weights nor torch
    kind = config["model_type"]
    if kind == "audio":
        from .audio import info_audio

        return info_audio(model_dir, config, as_json)
    if kind == "image":
        from .images import info_images

        return info_images(model_dir, config, as_json)
    if kind == "text":
        from .texts import info_text

        return info_text(model_dir, config, as_json)
    from .tables import info_table

    info_table(model_dir, config, as_json)


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
              "enough for 3,000 steps; sounds: as many as five minutes allow].")
@click.option("--labelled-share", type=float, default=0.1, show_default=True,
              help="Images and sounds: share of the training images (clips) whose labels the classifier may use.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def augment(data: Path, target: str | None, out: Path | None, ratio: float | None, add: int | None,
            model_dir: Path | None, mark_synthetic: bool, compare_methods: bool, seeds: str, epochs: int | None,
            labelled_share: float, seed: int, force: bool) -> None:
    """Tables: rebalance rare classes with conditional synthetic rows, or --compare that against SMOTE and
    nothing. Images and sounds: train a classifier on a few labelled images (clips) with and without
    class-balanced synthetic ones and print both test accuracies (--out: the figures as JSON)."""
    kind = data_kind(data)
    if kind in (IMAGES, AUDIO):
        if target or ratio or add or model_dir or mark_synthetic:
            raise GanforgeError("--target, --ratio, --add, --model and --mark-synthetic apply to tables only")
        if kind == AUDIO:
            from .audio import augment_audio

            return augment_audio(data, labelled_share, epochs, seed, out, force)
        from .images import augment_images

        return augment_images(data, labelled_share, epochs, seed, out, force)
    from .tables import augment_table

    augment_table(data, target, out, ratio, add, model_dir, mark_synthetic, compare_methods, seeds, epochs, seed,
                  force)


@cli.command("demo-data")
@click.argument("name", required=False)
@click.option("--out", "-o", type=click.Path(path_type=Path), help="CSV or Parquet file to write.")
@click.option("--split", type=click.Choice(["train", "test"]), default="train", show_default=True,
              help="fashion-mnist: which part.")
@click.option("--force", is_flag=True)
def demo_data(name: str | None, out: Path | None, split: str, force: bool) -> None:
    """Write one of the real tables (image sets, texts, sounds) that install offline; without NAME, list them."""
    from ..datasets import (
        AUDIO_DATASETS,
        DATASETS,
        IMAGE_DATASETS,
        TEXT_DATASETS,
        load_dataset,
        load_image_dataset,
        load_text_dataset,
        write_audio_dataset,
    )
    from ..io import write_table, write_text

    if name is None:
        for key, dataset in DATASETS.items():
            click.echo(f"{key:<16} {dataset.description}")
        for key, description in IMAGE_DATASETS.items():
            click.echo(f"{key:<16} {description}; images: --out FOLDER or FILE.npz")
        for key, description in TEXT_DATASETS.items():
            click.echo(f"{key:<16} {description}; texts: --out FILE.txt")
        for key, description in AUDIO_DATASETS.items():
            click.echo(f"{key:<16} {description}; sounds: --out FOLDER")
        return
    if out is None:
        raise GanforgeError("--out is required to write a data set")
    if name in IMAGE_DATASETS:
        from ..image.data import write_images

        images = load_image_dataset(name, split)
        write_images(out, images.images, images.labels, images.classes, force=force)
        click.echo(f"wrote {name} ({len(images.images):,} images, {len(images.classes)} classes) to {out}")
        return
    if name in AUDIO_DATASETS:
        count = write_audio_dataset(name, out, force=force)
        click.echo(f"wrote {name} ({count:,} WAV clips, labelled by file-name prefix, with NOTICE.md) to {out}")
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
