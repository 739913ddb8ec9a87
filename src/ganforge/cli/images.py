"""The image half of the commands: `fit`, `sample`, `evaluate`, `info` and `augment` on image folders or .npz files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..config import LABEL_FILTER_DRAWS, critic_names_classes, saved_image_config
from ..errors import GanforgeError
from .common import (
    IMAGES,
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


def fit_images(data: Path, out: Path, options: dict[str, Any]) -> None:
    from ..image.data import read_images
    from ..image.synthesizer import ImageSynthesizer
    from ..persist import check_model_destination

    check_model_destination(out, options["force"])
    check_outputs([options["report"]], options["force"])
    settings = {key: options[key] for key in ("epochs", "max_minutes", "seed", "loss", "batch_size", "n_critic",
                                              "generator_lr", "discriminator_lr", "device", "mixed_precision",
                                              "r1_penalty", "image_size", "width", "spectral_norm")
                if options.get(key) is not None}
    settings |= {"compile": options["compile_generator"],
                 "diffaugment": options["diffaugment"], "architecture": options["architecture"] or "dcgan",
                 "conditioning": options["conditional"] or "auto"}
    model = ImageSynthesizer(**settings)
    images = read_images(data)
    labelled = f", {len(images.classes)} classes" if images.classes else ", unlabelled"
    click.echo(f"fitting {len(images.images):,} images of {images.images.shape[2]}x{images.images.shape[3]}x"
               f"{images.channels}{labelled} from {data} ...", err=True)
    checkpoint = checkpoint_folder(out, options["resume"])
    fit_with_checkpoint(lambda: model.fit(images, checkpoint_dir=checkpoint, resume=options["resume"]), checkpoint)
    save_model(model, out, options["force"], checkpoint)
    training, config = model.training_, model.image_config
    click.echo(f"trained {training['epochs_run']} epochs in {training['seconds']:.1f} s on {training['device']} "
               f"({training['images_per_second']:,.0f} images/s; {config.architecture}, {config.conditioning}, "
               f"{config.image_size}px, width {config.width}, loss {model.train_config.loss}, "
               f"{precision_words(model.train_config.mixed_precision)}, mode seeking "
               f"{config.mode_seeking:g}, class guidance {config.class_guidance or 0:g}, EMA "
               f"{model.train_config.ema_decay:g}, stopped by {training['stopped_by']})")
    click.echo(f"sampling: {label_filter_words(model.label_filter_active, bool(config.label_filter))}")
    diversity = training.get("diversity") or {}
    if diversity.get("spread_per_class"):
        spreads = diversity["spread_per_class"]
        click.echo("spread within each class (samples over real, 1 is as varied as real): "
                   + ", ".join(f"{name} {value:.2f}" for name, value in spreads.items()))
    if diversity.get("action"):
        click.echo(f"collapse guard: {diversity['action']}")
    click.echo(f"model saved to {out}")
    if options["report"] is not None:
        synthetic = model.sample(min(len(images.images), 2000), seed=options["seed"])
        evaluate_and_report(images, synthetic, None, options["report"], options["force"], options["seed"],
                            "auto", None, history=training["history"], title=f"ganforge report: {data.name}")


def label_filter_words(active: bool, asked: bool) -> str:
    """How `sample` picks its images, for the fit line and `info`."""
    if active:
        return (f"each image is the first of up to {LABEL_FILTER_DRAWS} draws that the critic names as its label "
                "(--no-label-filter keeps every draw)")
    if asked:
        return "every draw kept (the critic names no classes: unlabelled images, or no class guidance)"
    return "every draw kept"


def sample_images(model_dir: Path, num: int, out: Path, seed: int | None, label: str | None, grid: Path | None,
                  temperature: float | None, label_filter: bool, device: str, force: bool) -> None:
    import numpy as np

    from ..image.data import save_grid, write_images
    from ..image.synthesizer import ImageSynthesizer
    check_outputs([grid], force)
    model = ImageSynthesizer.load(model_dir, device=device)
    checked = None if label_filter else False  # the model's own setting, or off
    images = model.sample(num, seed=seed, label=label, temperature=temperature, label_filter=checked)
    write_images(out, images.images, images.labels, images.classes, force=force)
    kept = " (each named as its label by the critic where it could be)" if (
        label_filter and model.label_filter_active) else ""
    click.echo(f"wrote {num:,} images ({images.images.shape[2]}x{images.images.shape[3]}) to {out}{kept}")
    if grid is not None:  # a row of ten per class for a conditional model, else the first hundred
        if model.classes_ and label is None:
            picked = np.concatenate([model.sample(10, seed=seed, label=c, temperature=temperature,
                                                  label_filter=checked).images for c in model.classes_])
        else:
            picked = images.images[:100]
        save_grid(grid, picked, 10)
        click.echo(f"grid written to {grid}")


def evaluate_and_report(real, synthetic, out: Path | None, report: Path | None, force: bool, seed: int,
                        features: str, feature_net: Path | None, history=None,
                        title: str = "Synthetic images report", save_feature_net: Path | None = None) -> None:
    from ..image.evaluate import choose_extractor, evaluate_images
    from ..image.features import load_feature_net
    from ..image.features import save_feature_net as save_net
    from ..io import write_text
    from ..report.images import render_image_report

    net = load_feature_net(feature_net) if feature_net is not None else None
    if save_feature_net is not None:  # asking to save the offline network is asking for it
        features = "ganforge-cnn"
    if net is None and features in ("auto", "ganforge-cnn"):
        click.echo("training the offline feature network on the real images ...", err=True)
    extractor = choose_extractor(features, real, seed, net)
    if save_feature_net is not None:
        save_net(extractor, save_feature_net)
        written("feature network", save_feature_net)
    click.echo(f"features: {extractor.name}; scoring {len(synthetic.images):,} images against "
               f"{len(real.images):,} real ones ...", err=True)
    results = evaluate_images(real, synthetic, extractor, seed)
    if out is not None:
        write_json(results, out, force)
    if report is not None:
        write_text(render_image_report(results, real, synthetic, history, title), report, force=force)
        written("report", report)
    shown = ["fid", "kid", "inception_score", "precision", "recall", "density", "coverage", "label_accuracy"]
    click.echo(", ".join(f"{key} {results[key]:.4g}" for key in shown if results.get(key) is not None))
    for name, scores in results.get("per_class", {}).items():
        click.echo(f"  class {name}: " + ", ".join(f"{key} {value:.3f}" for key, value in scores.items()))
    if "collapse" in results:
        click.echo(f"collapse: {results['collapse']}")


def evaluate_images_command(real_path: Path, synthetic_path: Path, out: Path | None, report: Path | None,
                            seed: int, features: str, feature_net: Path | None, save_feature_net: Path | None,
                            force: bool) -> None:
    from ..image.data import read_images

    if save_feature_net is not None and (features == "inception" or feature_net is not None):
        raise GanforgeError("--save-feature-net saves the offline network that evaluate trains; it cannot be "
                            f"given with {'--features inception' if features == 'inception' else '--feature-net'}")
    check_outputs([out, report, save_feature_net], force)
    if data_kind(synthetic_path) != IMAGES:
        raise GanforgeError(f"{synthetic_path}: the real data are images; give synthetic images too "
                            "(a folder or an .npz)")
    evaluate_and_report(read_images(real_path), read_images(synthetic_path), out, report, force, seed, features,
                        feature_net, save_feature_net=save_feature_net)


def info_images(model_dir: Path, config: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(config, indent=2))
        return
    training, train, image = config.get("training", {}), config.get("train_config", {}), saved_image_config(config)
    has_critic = critic_names_classes(image["conditioning"], image.get("class_guidance"))
    size, shape = image.get("image_size"), config.get("image_shape")
    fitted = "" if shape in (None, [size, size]) else \
        f" ({shape[0]}x{shape[1]} {'padded' if image['resize'] == 'pad' else 'resized'} to fit)"
    click.echo(model_line(model_dir, config))
    click.echo(f"images:     {training.get('images', '?'):,} at {size}px{fitted}, "
               f"{config.get('channels')} channel(s), classes: {', '.join(config.get('classes', [])) or 'none'}")
    click.echo(f"network:    {image.get('architecture')}, conditioning {image.get('conditioning')}, width "
               f"{image.get('width')}, noise {image.get('noise_dim')}, DiffAugment {image.get('diffaugment')}, "
               f"sampling temperature {image['temperature']}")
    click.echo(f"sampling:   {label_filter_words(image['label_filter'] and has_critic, image['label_filter'])}")
    click.echo(f"trained:    {training.get('epochs_run', '?')} epochs, {training.get('seconds', 0):.1f} s on "
               f"{training.get('device', '?')} ({training.get('images_per_second', 0):,.0f} images/s), "
               f"stopped by {training.get('stopped_by', '?')}")
    click.echo(game_line(train))
    click.echo(versions_line(config))


def augment_images(data: Path, labelled_share: float, epochs: int | None, seed: int, out: Path | None,
                   force: bool) -> None:
    from ..image.augment import compare_augmentation
    from ..image.data import read_images

    check_outputs([out], force)
    results = compare_augmentation(read_images(data), labelled_share=labelled_share, epochs=epochs, seed=seed,
                                   progress=lambda text: click.echo(text, err=True))
    report_augmentation(results, labelled_share, "images", out, force)
