"""`lineclf train`: train a model on labelled pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .app import DebugOption, ManifestOption, OnError, OnErrorOption, VerboseOption, app, handle_errors, report_skipped, skip_messages
from .progress import fold_progress


@app.command()
@handle_errors
def train(
    data: Annotated[list[Path], typer.Argument(help="Labelled .tsv files or directories of them.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="Where to write the trained model (.joblib, or .skops with skops installed).")],
    groups: ManifestOption = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds to report (0: skip).", min=0)] = 5,
    report_json: Annotated[Optional[Path], typer.Option("--json", help="Also write the cross-validated scores as JSON.")] = None,
    data_weight: Annotated[
        Optional[list[str]],
        typer.Option(
            "--data-weight",
            metavar="DATA=WEIGHT",
            help="How much each line of one DATA argument (its folder or file name) counts in training; default 1. Repeatable.",
        ),
    ] = None,
    tune_label_bias: Annotated[
        bool,
        typer.Option(
            "--tune-label-bias",
            help="Tune per-label decision offsets on the cross-validated probabilities and save them with the model "
            "(scores are then those of offsets tuned on the other folds).",
        ),
    ] = False,
    bias_labels: Annotated[
        Optional[str],
        typer.Option(
            "--bias-labels",
            metavar="LABEL,...",
            help="With --tune-label-bias: tune only these labels' offsets (comma-separated; the others stay 0).",
        ),
    ] = None,
    relabel: Annotated[
        Optional[list[str]],
        typer.Option(
            "--relabel",
            metavar="DATA:LABEL=NEW",
            help="Train one DATA argument's LABEL lines as NEW, a label or a partial label (content, noise), "
            "e.g. gn1:chrome=noise where chrome may hide teasers; scores compare with the labels as written. Repeatable.",
        ),
    ] = None,
    base: Annotated[
        Optional[str],
        typer.Option(
            "--base",
            metavar="MODEL",
            help="Start from this model ('default': the shipped one) and adapt it to DATA, your corrected pages; "
            "its training data is not needed. Scores: held-out pages, base against adapted.",
        ),
    ] = None,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain",
            help="With --base: instead of adapting, train the base's recipe (its parameters, and its weights and "
            "relabelling of the DATA named as its training data) on DATA, which must hold that training data; "
            "your other DATA count 10 times unless --data-weight says otherwise.",
        ),
    ] = False,
    on_error: OnErrorOption = OnError.stop,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Train a model on labelled pages, report cross-validated scores, save it.

    Scores come from cross-validation with folds grouped by site (with --groups)
    or by file, reported for all pages and for each DATA argument on its own.
    With --on-error skip, bad labelled files are left out and listed at the
    end; the model is still written, and the exit status is 1.

    With --base, the model starts from a trained one: adapted to DATA (a
    few corrected pages of your sites, e.g. from lineclf review) in seconds,
    or with --retrain trained again with your pages beside its own data.
    """
    if base is not None and not retrain:
        if data_weight or relabel or tune_label_bias or bias_labels:
            raise UsageError("adapting (--base without --retrain) takes no --data-weight, --relabel or label bias options")
        return run_adapt(data, model, groups, folds, report_json, base, on_error)
    if retrain and base is None:
        raise UsageError("--retrain needs --base MODEL")
    run_train(data, model, groups, folds, report_json, data_weight, tune_label_bias, bias_labels, relabel, on_error, base)


def run_train(data, model, groups, folds, report_json, data_weight, tune_label_bias, bias_labels, relabel, on_error, base=None) -> None:
    """The work of `lineclf train`: see :func:`train`."""
    from ..io import check_output_path
    from ..training import base_recipe, parse_bias_labels, train_model

    if report_json is not None:
        check_output_path(report_json)
    estimator, weights, relabelling = None, {}, {}
    if base is not None:
        estimator, weights, relabelling = base_recipe(base, data)
    weights.update(_data_weights(data_weight or []))
    for name, mapping in _relabelling(relabel or []).items():
        relabelling.setdefault(name, {}).update(mapping)
    with fold_progress(folds) as progress:
        result = train_model(
            data,
            model,
            manifests=groups or [],
            folds=folds,
            estimator=estimator,
            progress=progress,
            on_error=on_error.value,
            data_weights=weights,
            tune_label_bias=tune_label_bias,
            bias_labels=None if bias_labels is None else parse_bias_labels(bias_labels),
            relabel=relabelling,
        )
    skipped = skip_messages(result.skipped)
    tuned = ", label bias tuned on the other folds" if result.label_bias is not None else ""
    for title, report in result.reports.items():
        heading = f"cross-validated ({result.folds} folds, grouped by {result.grouped_by}{tuned}): {title}"
        typer.echo(report.to_text(heading) + "\n", err=True)
    if result.label_bias is not None:
        offsets = "  ".join(f"{label} {value:+.2f}" for label, value in result.label_bias.items())
        typer.echo(f"label bias (log-probability offsets) tuned on all folds: {offsets}", err=True)
    if report_json is not None:
        from ..training import write_json

        write_json(report_json, {title: r.to_dict() for title, r in result.reports.items()})
    typer.echo(f"lineclf: model written to {model}", err=True)
    report_skipped(skipped, len(skipped) + result.pages)


def _data_weights(items: list[str]) -> dict[str, float]:
    """``DATA=WEIGHT`` options as a mapping."""
    from ..training import parse_data_weight

    return dict(map(parse_data_weight, items))


def _relabelling(items: list[str]) -> dict[str, dict[str, str]]:
    """``DATA:LABEL=NEW`` options as {data: {label: new}}."""
    from ..training import parse_relabel

    mapping: dict[str, dict[str, str]] = {}
    for data, label, new in map(parse_relabel, items):
        mapping.setdefault(data, {})[label] = new
    return mapping


def run_adapt(data, model, groups, folds, report_json, base, on_error) -> None:
    """`lineclf train --base MODEL` without --retrain: see :func:`train`."""
    from ..io import check_output_path
    from ..training import adapt_from_base, write_json

    if report_json is not None:
        check_output_path(report_json)
    result = adapt_from_base(data, model, base, manifests=groups or [], folds=folds, on_error=on_error.value)
    skipped = skip_messages(result.skipped)
    for title, report in result.reports.items():
        heading = f"held-out pages ({result.folds} folds by page): {'the base model' if title == 'base' else 'adapted to the other folds'}"
        typer.echo(report.to_text(heading) + "\n", err=True)
    if report_json is not None:
        write_json(report_json, {title: r.to_dict() for title, r in result.reports.items()})
    typer.echo(f"lineclf: {base} adapted to {result.pages} page(s); model written to {model}", err=True)
    report_skipped(skipped, len(skipped) + result.pages)
