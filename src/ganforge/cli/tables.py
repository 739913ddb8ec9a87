"""The table half of the commands: `fit`, `sample`, `evaluate`, `info` and `augment` on CSV/Parquet tables."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..errors import GanforgeError
from .common import (
    check_holdout_share,
    check_outputs,
    checkpoint_folder,
    fit_with_checkpoint,
    model_line,
    pairs,
    save_model,
    versions_line,
    write_json,
    written,
)

SMALL_TABLE_ROWS = 20_000  # below this a fit runs on one thread unless OMP_NUM_THREADS says otherwise
MANY_LEVELS = 500  # a categorical column with this many levels gets a hint about text columns


def fit_table(data: Path, out: Path, o: dict[str, Any]) -> None:
    from ..io import ParquetColumns, read_table
    from ..persist import check_model_destination
    from ..schema import check_table
    from ..tabular.synthesizer import TabularSynthesizer

    force, report = o["force"], o["report"]
    check_model_destination(out, force)
    check_outputs([report], force)
    if report is not None:
        check_holdout_share(o["holdout_share"])
    if o["dp_epsilon"] is not None and o["max_minutes"] is not None and o["epochs"] is None:
        raise GanforgeError("--dp-epsilon needs --epochs: the noise is set for a known number of steps")
    if o["dp_epsilon"] is None and (o["dp_bounds"] or o["dp_categories"] or o["dp_sgd_share"]):
        raise GanforgeError("--dp-bounds, --dp-categories and --dp-sgd-share only apply with --dp-epsilon")
    if o["steps"] is not None and (o["epochs"] is not None or o["dp_epsilon"] is not None):
        raise GanforgeError("--steps sets the length of a fit without --epochs or --dp-epsilon; drop one of them")
    if o["checkpoint_every"] < 1:
        raise GanforgeError(f"--checkpoint-every must be at least 1, got {o['checkpoint_every']}")
    named = ("loss", "batch_size", "generator_lr", "discriminator_lr", "pack", "r1_penalty")
    model = TabularSynthesizer(  # what is not named the API picks (the loss: wgan-gp, or nonsaturating under DP)
        **{key: o[key] for key in named if o[key] is not None},
        epochs=o["epochs"], max_minutes=o["max_minutes"], seed=o["seed"], n_critic=o["n_critic"],
        steps=o["steps"], spectral_norm=bool(o["spectral_norm"]),
        column_kinds=pairs(o["column_kind"], "--column-kind"),
        device=o["device"],
        mixed_precision=bool(o["mixed_precision"]), compile=o["compile_generator"], dp_epsilon=o["dp_epsilon"],
        dp_delta=o["dp_delta"], max_grad_norm=o["max_grad_norm"], dp_sgd_share=o["dp_sgd_share"],
        dp_public_bounds=bounds(o["dp_bounds"]),
        dp_public_categories={name: value.split(",")
                              for name, value in pairs(o["dp_categories"], "--dp-categories").items()})
    # without a report nothing needs the whole table at once: a Parquet file is then read a column at a time
    is_parquet = data.suffix.lower() in (".parquet", ".pq")
    table = ParquetColumns(data) if is_parquet and report is None else read_table(data)
    if getattr(table, "attrs", {}).get("read_as"):
        click.echo(f"note: {data}: read as {table.attrs['read_as']}", err=True)
    check_table(table, str(data))  # (the API checks again, but names no file)
    target = o["target"]
    if target is not None and target not in table.columns:
        raise GanforgeError(f"--target {target!r} is not a column of {data}")
    if o["metadata"] is not None:
        model.tabular_config = replace(model.tabular_config,
                                       column_kinds=declared_kinds(o["metadata"], o["column_kind"], table))
    if "OMP_NUM_THREADS" not in os.environ and len(table) < SMALL_TABLE_ROWS:
        import torch

        torch.set_num_threads(1)  # a small table's steps are too short to share between cores
    holdout = None
    if report is not None:
        holdout = table.sample(frac=o["holdout_share"], random_state=o["seed"])
        table = table.drop(index=holdout.index)
        click.echo(f"holding out {len(holdout):,} rows for the report", err=True)
    checkpoint = checkpoint_folder(out, o["resume"])
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one process speaks for all
        click.echo(f"fitting {len(table):,} rows x {table.shape[1]} columns from {data} ...", err=True)
    fit_with_checkpoint(lambda: model.fit(table, checkpoint_dir=checkpoint, resume=o["resume"],
                                          checkpoint_every=o["checkpoint_every"]), checkpoint)
    if model.training_["processes"] > 1:
        from ..core.distributed import current, finish

        main = current().is_main
        finish()
        if not main:  # rank 0 writes the model (and any report)
            return
    save_model(model, out, force, checkpoint)
    _print_fit(model, out)
    if report is not None:
        synthetic = model.sample(len(table), seed=o["seed"])
        evaluate_and_report(table, synthetic, holdout, target, None, report, force, o["seed"],
                            model.training_["history"], title=f"ganforge report: {data.name}",
                            guarantee=model.privacy_, kinds={spec.name: spec.kind for spec in model.schema_})


def _calibration_line(gap: dict) -> str:
    kept = (f", {gap['kept_gap']:.3f} ({gap['kept_column']}) among the rows rejection sampling keeps"
            if gap["on_kept_rows"] else "")
    return (f"the generator's category shares were off by up to {gap['largest_gap']:.3f} ({gap['column']}){kept}; "
            "sampling tilts them to the training shares and gives the rows of a sample their training counts")


def _print_fit(model, out: Path) -> None:
    training = model.training_
    if training["stopped_by"] == "divergence":
        click.echo("warning: training diverged and could not recover; saved the last good generator", err=True)
    history = training["history"]
    last = f"; last losses D={history[-1]['loss_d']:.3f} G={history[-1]['loss_g']:.3f}" if history else ""
    for note in getattr(model, "notes_", []):
        click.echo(f"note: {note}", err=True)
    if training["stopped_by"] == "marginals":  # no game was played
        click.echo(f"fitted the generator to noisy pair marginals in {training['seconds']:.1f} s on "
                   f"{training['device']} (no adversarial epochs)")
    else:
        click.echo(f"trained {length(training)} in {training['seconds']:.1f} s on {training['device']} "
                   f"(loss {model.train_config.loss}, stopped by {training['stopped_by']}){last}")
    if "validation" in training:
        scores = training["validation"]
        kept = (f"kept the best, step {scores['best_step']:,}" if scores["early_stopping"] else
                f"best {scores['best_score']:.3f} at step {scores['best_step']:,}; kept the last")
        click.echo(f"pairwise fidelity every {scores['steps_per_score']} steps: {scores['curve'][0][1]:.3f} "
                   f"at first, {scores['curve'][-1][1]:.3f} at the end ({kept})")
    if "rejection" in training:
        click.echo(f"rejection sampling: {training['rejection']['reason']}")
    if "exclusions" in training:
        click.echo(f"unseen pairs: {training['exclusions']['reason']}")
    if "calibration" in training:
        click.echo(f"category calibration: {_calibration_line(training['calibration'])}")
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
        click.echo(f"privacy: {privacy_line(model.privacy_)}")
        for line in budget_lines(model.privacy_):
            click.echo(f"  {line}")
    click.echo(f"model saved to {out}")


def sample_table(model_dir: Path, num_rows: int, out: Path, seed: int | None, condition: tuple[str, ...],
                 rejection: bool, device: str, force: bool) -> None:
    from ..io import write_table_chunks
    from ..tabular.synthesizer import TabularSynthesizer

    check_outputs([out], force)
    model = TabularSynthesizer.load(model_dir, device=device)
    start = time.monotonic()
    chunks = model.sample_chunks(num_rows, conditions=pairs(condition, "--condition"), seed=seed, rejection=rejection)
    count = write_table_chunks(chunks, out, force=force)  # constant memory, whatever --num-rows is
    click.echo(f"wrote {count:,} rows x {len(model.schema_)} columns to {out} in {time.monotonic() - start:.1f} s")


def evaluate_table_command(real_path: Path, synthetic_path: Path, holdout_path: Path | None, target: str | None,
                           out: Path | None, report: Path | None, seed: int, metadata: Path | None,
                           column_kind: tuple[str, ...], force: bool) -> None:
    from ..io import read_table

    check_outputs([out, report], force)
    real, synthetic = read_table(real_path), read_table(synthetic_path)
    holdout = read_table(holdout_path) if holdout_path is not None else None
    evaluate_and_report(real, synthetic, holdout, target, out, report, force, seed,
                        kinds=declared_kinds(metadata, column_kind, real))


def evaluate_and_report(real, synthetic, holdout, target, out: Path | None, report: Path | None, force: bool,
                        seed: int, history=None, title: str = "Synthetic data report",
                        guarantee: dict | None = None, kinds: dict[str, str] | None = None) -> None:
    from ..io import write_text
    from ..report.tables import render_report
    from ..schema import check_table, infer_schema, numbers_as_read
    from ..tabular.evaluate import evaluate

    click.echo("evaluating ...", err=True)
    real, synthetic, holdout = numbers_as_read(real, synthetic, holdout)  # as `fit` read them, for the report too
    check_table(real, "real")
    schema = infer_schema(real, kinds or {})  # once, for the metrics and the report
    started = time.monotonic()
    results = evaluate(real, synthetic, holdout=holdout, target=target, seed=seed, schema=schema,
                       progress=lambda line: click.echo(f"  {line} ...", err=True))
    click.echo(f"  evaluated in {time.monotonic() - started:.1f} s", err=True)
    if guarantee:
        results["verdict"]["differential privacy"] = privacy_line(guarantee)
        results["differential_privacy"] = guarantee
    if out is not None:
        write_json({k: v for k, v in results.items() if not k.startswith("_")}, out, force)
    if report is not None:
        write_text(render_report(results, real, synthetic, history=history, title=title, schema=schema), report,
                   force=force)
        written("report", report)
    fidelity = results["fidelity"]
    click.echo(f"quality {fidelity['overall']:.3f} (shapes {fidelity['column_shapes']:.3f}, {pairs_text(fidelity)}); "
               f"detection AUC {results['detection'].get('auc')}")
    for key, text in results["verdict"].items():
        click.echo(f"  {key}: {text}")


def pairs_text(fidelity: dict) -> str:
    """SDMetrics scores the pairs the real data associates strongly; say how many that was, and the figure on
    the real columns' bins where the report's own-range bins move it."""
    if fidelity["column_pair_trends"] is None:
        return "pairs not scored: none is strongly associated in the real data" if fidelity.get("pairs_total") \
            else "no column pairs"
    from ..metrics.tabular import shared_bins_apart  # here: scikit-learn comes with it, and fit need not wait

    shared = shared_bins_apart(fidelity)
    apart = "" if shared is None else f", {shared:.3f} with numbers cut at the real columns' bins in both tables"
    return (f"pairs {fidelity['column_pair_trends']:.3f} over the {fidelity['pairs_scored']} of "
            f"{fidelity['pairs_total']} with a strong real association{apart}")


def info_table(model_dir: Path, config: dict, as_json: bool) -> None:
    if as_json:
        import json

        click.echo(json.dumps({k: v for k, v in config.items() if k != "transform"} |
                              {"columns": [c["spec"] for c in config.get("transform", [])]}, indent=2))
        return
    training, train = config.get("training", {}), config.get("train_config", {})
    click.echo(model_line(model_dir, config))
    marginals_only = training.get("stopped_by") == "marginals"  # no game was played
    click.echo(f"trained on: {training.get('rows', '?'):,} rows, {length(training)}, "
               f"{training.get('seconds', 0):.1f} s on {training.get('device', '?')}"
               + ("" if marginals_only else f", stopped by {training.get('stopped_by', '?')}"))
    if not marginals_only:
        click.echo(f"game:       loss {train.get('loss')}, n_critic {train.get('n_critic')}, "
                   f"batch {training.get('batch_size')}, "
                   f"lr G {_rate(training, train, 0)} / D {_rate(training, train, 1)}, spectral norm "
                   f"{train.get('spectral_norm')}, EMA {train.get('ema_decay')}, seed {train.get('seed')}")
    click.echo(f"privacy:    {privacy_line(config.get('privacy'))}")
    if config.get("privacy"):
        for line in budget_lines(config["privacy"]):
            click.echo(f"            {line}")
    if "rejection" in training:
        click.echo(f"rejection:  {training['rejection']['reason']}")
    if "exclusions" in training:
        click.echo(f"unseen:     {training['exclusions']['reason']}")
    if "calibration" in training:
        click.echo(f"categories: {_calibration_line(training['calibration'])}")
    history = training.get("history") or []
    if history:
        click.echo(f"last loss:  D {history[-1]['loss_d']:.4f}, G {history[-1]['loss_g']:.4f}")
    click.echo(versions_line(config))
    click.echo("columns:")
    for column in config.get("transform", []):
        spec = column["spec"]
        missing = "missing (private)" if spec["null_rate"] is None else f"missing {spec['null_rate']:.1%}"
        reason = f"  ({spec['reason']})" if spec.get("reason") else ""
        click.echo(f"  {spec['name']:<24} {spec['kind']:<12} {spec['dtype']:<16} {missing}{reason}")


def augment_table(data: Path, target: str | None, out: Path | None, ratio: float | None, add: int | None,
                  model_dir: Path | None, mark_synthetic: bool, compare_methods: bool, seeds: str,
                  epochs: int | None, seed: int, force: bool) -> None:
    from ..io import read_table, write_table
    from ..tabular import augment as augmentation
    from ..tabular.synthesizer import TabularSynthesizer

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
        spread = len(seed_list) > 1  # one seed has no spread to show
        click.echo(f"{target}: {len(seed_list)} seed{'s' if spread else ''}, 30% stratified test split"
                   + ("; mean ± std" if spread else ""))
        click.echo(f"{'method':<10}" + "".join(f"{m:>22}" for m in metrics))
        for method, values in summary.iterrows():
            cells = "".join(f"{values[(m, 'mean')]:>14.3f} ± {values[(m, 'std')]:.3f}" if spread
                            else f"{values[(m, 'mean')]:>22.3f}" for m in metrics)
            click.echo(f"{method:<10}{cells}")
        return
    if out is None:
        raise GanforgeError("--out is required (or use --compare)")
    check_outputs([out], force)
    model = TabularSynthesizer.load(model_dir) if model_dir is not None else None
    augmented = augmentation.augment(table, target, model=model, ratio=ratio, add=add, seed=seed,
                                     mark=mark_synthetic, epochs=epochs)
    write_table(augmented, out, force=force)
    counts = augmented[target].value_counts().to_dict()
    click.echo(f"wrote {len(table):,} real + {len(augmented) - len(table):,} synthetic rows to {out}; "
               f"classes now {counts}")


def bounds(values: tuple[str, ...]) -> dict[str, list[float]]:
    bounds = {}
    for name, text in pairs(values, "--dp-bounds").items():
        low, sep, high = text.partition(":")
        try:
            bounds[name] = [float(low), float(high)]
        except ValueError:
            raise GanforgeError(f"--dp-bounds {name}={text!r}: expected LOW:HIGH numbers") from None
    return bounds


def budget_lines(privacy: dict) -> list[str]:
    """How the budget was split and what each part bought."""
    statistics, marginals, training = privacy["statistics"], privacy.get("marginals"), privacy.get("training")
    count = privacy.get("row_count")
    bought = statistics.get("bought", {})
    parts = [f"row count epsilon {count['epsilon']:.3g}"] if count else []
    parts.append(f"statistics epsilon {statistics['epsilon']:.3g} "
                 f"({statistics['epsilon'] / max(1, len(bought)):.3g} for each of {len(bought)} columns)")
    if marginals and marginals.get("measured", True):
        parts.append(f"pair marginals epsilon {marginals['epsilon']:.3g}")
    if training:
        parts.append(f"DP-SGD epsilon {training['epsilon_target']:.3g}")
    lines = ["budget split: " + ", ".join(parts)]
    if count and marginals and marginals.get("measured", True):
        lines.append(f"row count bought about {count['rows']:,} rows: enough for the pairs (columns that determined "
                     f"each other would stand {count['strongest_dependence']:.3g} deviations out of their noise)")
    lines += [f"statistics bought for {name}: {what}" for name, what in bought.items()]
    if marginals and not marginals.get("measured", True):
        lines.append(f"pair marginals not bought: at the noisy count of {count['rows']:,} rows, columns that "
                     f"determined each other would stand only {count['strongest_dependence']:.2g} deviations out of "
                     f"the noise the pairs' share buys, so that share went to the column statistics and the "
                     f"generator learned independent columns from them for {marginals['fit_steps']:,} steps "
                     "(more rows or a larger --dp-epsilon buy the pairs)")
    elif marginals:
        which = (f"the {marginals['pairs']:,} column pairs furthest from independence, chosen privately of "
                 f"{marginals['chosen_from']:,} with {marginals['selection_share']:.0%} of their share "
                 f"({', '.join(marginals['chosen'])})," if "chosen" in marginals else
                 f"{marginals['pairs']:,} column pairs ({marginals['cells']:,} cells in all)")
        lines.append(f"pair marginals bought the joint counts of {which} with Gaussian noise of "
                     f"{marginals['noise_sigma']:.3g} rows each (zCDP rho {marginals['rho']:.3g}); the generator was "
                     f"fitted to them for {marginals['fit_steps']:,} steps")
        if marginals.get("composed") == "together":
            lines.append(f"  rho composed with the column statistics in zCDP and converted to (epsilon, delta) once: "
                         f"{marginals['rho'] / marginals['rho_apart']:.2g} times what epsilon "
                         f"{marginals['epsilon']:.3g} buys the pairs converted on its own")
        if marginals.get("independent"):
            lines.append(f"  that noise hides any dependence: columns that determined each other would stand only "
                         f"{marginals['strongest_dependence']:.2g} noise deviations out of it, so the generator "
                         "learned independent columns with the statistics' shares, not correlations made of noise "
                         "(more rows or a larger --dp-epsilon buy them)")
    if training:
        lines.append(f"DP-SGD bought {training['steps']:,} discriminator steps on Poisson samples of "
                     f"{training['sample_rate']:.1%} of the rows, noise {training['noise_multiplier']:.3g} x clip "
                     f"{training['max_grad_norm']:g}; the accountant (RDP) says epsilon "
                     f"{training['epsilon_spent']:.3g}")
    return lines


def privacy_line(privacy: dict | None) -> str:
    if not privacy:
        return "none (no differential privacy; see the evaluation's privacy section for empirical risk)"
    marginals, training = privacy.get("marginals"), privacy.get("training")
    parts = [f"statistics epsilon {privacy['statistics']['epsilon']:.3g}"]
    if privacy.get("row_count"):
        parts.append(f"row count epsilon {privacy['row_count']['epsilon']:.3g}")
    if marginals and not marginals.get("measured", True):
        parts.append("pair marginals not bought (too few rows to show any dependence): independent columns")
    elif marginals:
        parts.append(f"pair marginals epsilon {marginals['epsilon']:.3g}, noise {marginals['noise_sigma']:.3g}"
                     + (" (too noisy to show any dependence: independent columns)" if marginals.get("independent")
                        else ""))
    if training:
        parts.append(f"DP-SGD noise {training['noise_multiplier']:.3g}, clip {training['max_grad_norm']:g}, "
                     f"{training['steps']} steps at rate {training['sample_rate']:.3g}")
    return (f"differentially private, epsilon {privacy['epsilon']:.3f} spent of {privacy['epsilon_budget']:g}, "
            f"delta {privacy['delta']:g} ({'; '.join(parts)}); covers {privacy['covers']}; "
            f"not covered: {privacy['not_covered']}")


def _rate(training: dict, train: dict, which: int):
    """The learning rate a fit used: the schedule's choice when the settings named none."""
    rates = training.get("learning_rates")
    return rates[which] if rates else train.get(("generator_lr", "discriminator_lr")[which])


def length(training: dict) -> str:
    """How long a table model trained, in the unit its schedule used."""
    if "validation" in training:
        return f"{training.get('steps', 0):,} steps"
    if training.get("stopped_by") == "marginals":
        return "fitted to noisy pair marginals (no adversarial epochs)"
    return f"{training.get('epochs_run', '?')} epochs"


def declared_kinds(metadata: Path | None, column_kind: tuple[str, ...], table) -> dict[str, str]:
    """Kinds from --metadata, then --column-kind over them."""
    from ..schema import read_metadata

    declared = {} if metadata is None else read_metadata(metadata, table)
    return {**declared, **pairs(column_kind, "--column-kind")}


def info_table_file(path: Path, as_json: bool) -> None:
    """What `fit` would make of a table's columns, before any training: each kind and why, the derived and
    pinned numbers."""
    import numpy as np

    from ..config import TabularConfig
    from ..io import read_table
    from ..schema import check_table, infer_schema, read_numbers_in_text
    from ..tabular.transform import TableTransform

    table, notes = read_numbers_in_text(read_table(path))
    check_table(table, str(path))
    # the transform `fit` would build says it all (kinds, rules, pins, dates); no network is made or trained
    transform = TableTransform.fit(table, infer_schema(table), TabularConfig(), np.random.default_rng(0))
    specs = [column.spec for column in transform.columns]
    if as_json:
        click.echo(json.dumps({"table": str(path), "rows": len(table), "notes": notes,
                               "columns": [{"name": s.name, "kind": s.kind, "reason": s.reason} for s in specs]},
                              indent=2))
        return
    click.echo(f"table: {path}, {len(table):,} rows x {len(table.columns)} columns, as `ganforge fit` takes them "
               "(--column-kind changes a kind)")
    for note in notes:
        click.echo(f"note: {note}")
    for spec in specs:
        click.echo(f"  {spec.name}: {spec.kind} ({spec.reason})")
