"""`lineclf evaluate`: score a model on labelled pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import DataFormatError
from .app import DebugOption, ModelOption, OnError, OnErrorOption, VerboseOption, app, handle_errors, report_skipped, skip_messages


@app.command()
@handle_errors
def evaluate(
    data: Annotated[list[Path], typer.Argument(help="Labelled .tsv files or directories of them.")],
    model: ModelOption = None,
    report_json: Annotated[Optional[Path], typer.Option("--json", help="Also write the scores as JSON.")] = None,
    on_error: OnErrorOption = OnError.stop,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Score a model on labelled pages: per-label P/R/F1, macro-F1, body F1, confusion matrix.

    With --on-error skip, bad labelled files are left out of the scores and
    listed at the end, and the exit status is 1.
    """
    run_evaluate(data, model, report_json, on_error)


def run_evaluate(data, model, report_json, on_error) -> None:
    """The work of `lineclf evaluate`: see :func:`evaluate`."""
    from ..io import check_output_path, read_labelled_corpus
    from ..evaluation import evaluate as evaluate_model
    from ..model import load_predictor
    from ..training import write_json

    if report_json is not None:
        check_output_path(report_json)
    classifier = load_predictor(model)
    errors: list | None = [] if on_error is OnError.skip else None
    documents = read_labelled_corpus(data, skipped=errors)
    skipped = skip_messages(errors or [])
    if errors and not documents:
        raise DataFormatError(f"no labelled file could be read ({len(errors)} skipped); nothing to evaluate")
    report = evaluate_model(classifier, documents)
    typer.echo(report.to_text(), err=True)
    if report_json is not None:
        write_json(report_json, report.to_dict())
    report_skipped(skipped, len(skipped) + len(documents))
