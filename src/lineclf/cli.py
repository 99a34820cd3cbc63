"""The `lineclf` command: train, evaluate, predict.

Each command parses its options and calls the library; only this module
prints (data to stdout, messages to stderr) and sets exit codes. Heavy
modules are imported inside the commands so that `--help` stays instant.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import LineclfError

app = typer.Typer(
    name="lineclf",
    help="Label every line of a web page's text dump as body, headline, caption, teaser or chrome.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logger = logging.getLogger("lineclf")


class OutputFormat(str, Enum):
    tsv = "tsv"
    jsonl = "jsonl"
    text = "text"


#: Lines kept by `--format text` when no --keep is given: the article itself.
DEFAULT_TEXT_KEEP = "headline,body"
_SUFFIX = {OutputFormat.tsv: ".tsv", OutputFormat.jsonl: ".jsonl", OutputFormat.text: ".txt"}

ModelOption = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="Model file; the shipped default model when omitted.", dir_okay=False),
]
ManifestOption = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--groups",
        "-g",
        help="Manifest 'name<TAB>site[<TAB>url]' (e.g. gn1-manifest.tsv): folds keep each site together. Repeatable.",
        exists=True,
        dir_okay=False,
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress messages to stderr.")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]


def _command(func):
    """Run a command body, turning lineclf's own errors into one line on stderr
    and a non-zero exit (a traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        debug = kwargs.get("debug", False)
        logging.basicConfig(
            level=logging.INFO if kwargs.get("verbose") else logging.WARNING,
            format="lineclf: %(message)s",
            stream=sys.stderr,
        )
        try:
            return func(*args, **kwargs)
        except LineclfError as exc:
            if debug:
                raise
            typer.echo(f"lineclf: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("lineclf: interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _existing_or_dash(paths: list[Path]) -> list[Path]:
    # click's own exists=True/allow_dash=True check fails on Path("-") in this typer
    for path in paths:
        if str(path) != "-" and not path.exists():
            raise typer.BadParameter(f"path {str(path)!r} does not exist.")
    return paths


def _write_stdout(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8")) if hasattr(sys.stdout, "buffer") else sys.stdout.write(text)


@app.command()
@_command
def train(
    data: Annotated[list[Path], typer.Argument(help="Labelled .tsv files or directories of them.", exists=True)],
    model: Annotated[Path, typer.Option("--model", "-m", help="Where to write the trained model.", dir_okay=False)],
    groups: ManifestOption = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds to report (0: skip).", min=0)] = 5,
    report_json: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the cross-validated scores as JSON.", dir_okay=False)
    ] = None,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Train a model on labelled pages, report cross-validated scores, save it.

    Scores come from cross-validation with folds grouped by site (with --groups)
    or by file, reported for all pages and for each DATA argument on its own.
    """
    from .training import train_model

    with _fold_progress(folds) as progress:
        result = train_model(data, model, manifests=groups or [], folds=folds, progress=progress)
    for title, report in result.reports.items():
        typer.echo(report.to_text(f"cross-validated ({result.folds} folds, grouped by {result.grouped_by}): {title}") + "\n", err=True)
    if report_json is not None:
        from .training import write_json

        write_json(report_json, {title: r.to_dict() for title, r in result.reports.items()})
    typer.echo(f"lineclf: model written to {model}", err=True)


@app.command()
@_command
def evaluate(
    data: Annotated[list[Path], typer.Argument(help="Labelled .tsv files or directories of them.", exists=True)],
    model: ModelOption = None,
    report_json: Annotated[
        Optional[Path], typer.Option("--json", help="Also write the scores as JSON.", dir_okay=False)
    ] = None,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Score a model on labelled pages: per-label P/R/F1, macro-F1, body F1, confusion matrix."""
    from .io import read_labelled_corpus
    from .metrics import evaluate as evaluate_model
    from .model import load_model
    from .training import write_json

    report = evaluate_model(load_model(model), read_labelled_corpus(data))
    typer.echo(report.to_text(), err=True)
    if report_json is not None:
        write_json(report_json, report.to_dict())


@app.command()
@_command
def predict(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Dump files, directories of *.txt dumps, or - for standard input.", callback=_existing_or_dash),
    ],
    model: ModelOption = None,
    out_dir: Annotated[
        Optional[Path],
        typer.Option("--out-dir", "-o", help="Write one <input stem>.<format> per input here instead of stdout.", file_okay=False),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="tsv: label<TAB>text; jsonl: labels and probabilities; text: kept lines only.")] = OutputFormat.tsv,
    keep: Annotated[
        Optional[str], typer.Option(help=f"Comma-separated labels to keep (default for --format text: {DEFAULT_TEXT_KEEP}).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing files in --out-dir.")] = False,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Label every non-blank line of each input dump.

    Without --out-dir, writes 'label<TAB>text' lines to stdout, blank lines kept,
    every line's text unchanged.
    """
    from .labels import parse_label_list
    from .predicting import plan_outputs, predict_paths

    keep_labels = parse_label_list(keep) if keep else None
    if output_format is OutputFormat.text and keep_labels is None:
        keep_labels = parse_label_list(DEFAULT_TEXT_KEEP)
    targets = plan_outputs(inputs, out_dir, _SUFFIX[output_format], overwrite) if out_dir else None
    for text, target in predict_paths(inputs, model, output_format.value, keep_labels, targets):
        if target is None:
            _write_stdout(text)
    if out_dir is not None:
        typer.echo(f"lineclf: wrote {len(targets)} file(s) to {out_dir}", err=True)


@contextlib.contextmanager
def _fold_progress(folds: int):
    """A progress bar over cross-validation folds on stderr (a line per fold
    when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        yield lambda done, total: typer.echo(f"lineclf: cross-validation fold {done}/{total} done", err=True)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("cross-validation"), BarColumn(), TextColumn("{task.completed}/{task.total} folds"),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("folds", total=folds)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def main() -> None:
    app()
