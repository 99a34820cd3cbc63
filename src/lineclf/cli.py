"""The `lineclf` command: train, evaluate, predict.

Each command parses its options and calls the library; only this module
prints (data to stdout, messages to stderr) and sets exit codes. Heavy
modules are imported inside the commands so that `--help` stays instant.

Every error is one line on stderr, ``lineclf: error: <file>[:line|: byte N]:
what is wrong``, with exit status 1 (bad data or files) or 2 (bad usage); a
traceback only with --debug.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import TyperException

from .errors import DataFormatError, LineclfError, OutputError

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


class OnError(str, Enum):
    stop = "stop"
    skip = "skip"


class EncodingErrors(str, Enum):
    strict = "strict"
    replace = "replace"


#: Lines kept by `--format text` when no --keep is given: the article itself.
DEFAULT_TEXT_KEEP = "headline,body"
_SUFFIX = {OutputFormat.tsv: ".tsv", OutputFormat.jsonl: ".jsonl", OutputFormat.text: ".txt"}

# Paths are checked by the library, not by typer's exists=/dir_okay=, so that
# a missing or misplaced file gets the same one-line message as every other error.
ModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--model",
        "-m",
        help="Model file (.joblib, or .skops with skops installed); the shipped default model when omitted. "
        "A .joblib file runs code when loaded: give only files you trust.",
    ),
]
ManifestOption = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--groups",
        "-g",
        help="Manifest 'name<TAB>site[<TAB>url]' (e.g. gn1-manifest.tsv): folds keep each site together. Repeatable.",
    ),
]
OnErrorOption = Annotated[
    OnError,
    typer.Option(
        "--on-error",
        help="stop: stop at the first file that cannot be read. skip: leave it out, go on, "
        "list the skipped files at the end and exit with status 1.",
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress messages to stderr.")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]

#: Exit statuses beyond LineclfError's 1 and 2 (the shell's 128 + signal number).
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that temporary files are cleaned up."""


class _StdoutClosed(Exception):
    """The reader of standard output went away (``lineclf predict ... | head``)."""


def _on_sigterm(signum, frame):
    raise _Terminated


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # one line, as errors are (a library's warning may span several); the
    # source location means nothing to a user
    typer.echo(f"lineclf: warning: {' '.join(str(message).split())}", err=True)


def _command(func):
    """Run a command body, turning errors into one line on stderr and a
    non-zero exit (a traceback only with --debug), and warnings into one line."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        debug = kwargs.get("debug", False)
        logging.basicConfig(
            level=logging.INFO if kwargs.get("verbose") else logging.WARNING,
            format="lineclf: %(message)s",
            stream=sys.stderr,
        )
        with warnings.catch_warnings(), _sigterm_as_interrupt():
            warnings.showwarning = _show_warning
            try:
                return func(*args, **kwargs)
            except (typer.Exit, typer.Abort, TyperException):  # typer's own exits and usage errors
                raise
            except LineclfError as exc:
                if debug:
                    raise
                typer.echo(f"lineclf: error: {exc}", err=True)
                raise typer.Exit(exc.exit_code) from None
            except _StdoutClosed:
                raise typer.Exit(EXIT_BROKEN_PIPE) from None
            except KeyboardInterrupt as exc:
                terminated = isinstance(exc, _Terminated)
                typer.echo(f"lineclf: {'terminated' if terminated else 'interrupted'}", err=True)
                raise typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED) from None
            except Exception as exc:
                # a bug, or the machine (out of memory): still one line, unless --debug
                if debug:
                    raise
                what = "out of memory" if isinstance(exc, MemoryError) else f"unexpected {type(exc).__name__}: {exc}"
                typer.echo(f"lineclf: error: {what} (run again with --debug for the traceback)", err=True)
                raise typer.Exit(1) from None

    return wrapper


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While a command runs, SIGTERM (kill's default) unwinds like Ctrl-C, so
    that a half-written temporary file is removed; SIGKILL cannot be caught,
    and only ever leaves a hidden .<name>.*.tmp file, never a partial output."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_stdout(text: str) -> None:
    """Write one page's output and flush it, so that what reached stdout is
    always whole pages and a write error is seen here, naming stdout."""
    out = getattr(sys.stdout, "buffer", sys.stdout)
    try:
        out.write(text.encode("utf-8") if out is not sys.stdout else text)
        out.flush()
    except BrokenPipeError:
        _detach_stdout()
        raise _StdoutClosed from None
    except OSError as exc:
        _detach_stdout()
        raise OutputError(f"stdout: cannot write: {exc.strerror or exc}") from None


def _detach_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that the
    # failed write is not reported a second time as an ignored exception
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _report_skipped(skipped: list[str], total: int) -> None:
    """After a batch with --on-error skip: name the skipped files and fail."""
    if skipped:
        typer.echo(f"lineclf: error: skipped {len(skipped)} of {total} file(s) that could not be read: {', '.join(skipped)}", err=True)
        raise typer.Exit(1)


def _skip_messages(skipped: list[tuple[str, LineclfError]]) -> list[str]:
    """Print one 'skipped' line per skipped file, saying why; return their names."""
    for _, exc in skipped:
        typer.echo(f"lineclf: skipped: {exc}", err=True)
    return [name for name, _ in skipped]


@app.command()
@_command
def train(
    data: Annotated[list[Path], typer.Argument(help="Labelled .tsv files or directories of them.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="Where to write the trained model (.joblib, or .skops with skops installed).")],
    groups: ManifestOption = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds to report (0: skip).", min=0)] = 5,
    report_json: Annotated[Optional[Path], typer.Option("--json", help="Also write the cross-validated scores as JSON.")] = None,
    on_error: OnErrorOption = OnError.stop,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Train a model on labelled pages, report cross-validated scores, save it.

    Scores come from cross-validation with folds grouped by site (with --groups)
    or by file, reported for all pages and for each DATA argument on its own.
    With --on-error skip, bad labelled files are left out and listed at the
    end; the model is still written, and the exit status is 1.
    """
    from .io import check_output_path
    from .training import train_model

    if report_json is not None:
        check_output_path(report_json)
    with _fold_progress(folds) as progress:
        result = train_model(data, model, manifests=groups or [], folds=folds, progress=progress, on_error=on_error.value)
    skipped = _skip_messages(result.skipped)
    for title, report in result.reports.items():
        typer.echo(report.to_text(f"cross-validated ({result.folds} folds, grouped by {result.grouped_by}): {title}") + "\n", err=True)
    if report_json is not None:
        from .training import write_json

        write_json(report_json, {title: r.to_dict() for title, r in result.reports.items()})
    typer.echo(f"lineclf: model written to {model}", err=True)
    _report_skipped(skipped, len(skipped) + result.pages)


@app.command()
@_command
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
    from .io import check_output_path, read_labelled_corpus
    from .metrics import evaluate as evaluate_model
    from .model import load_model
    from .training import write_json

    if report_json is not None:
        check_output_path(report_json)
    classifier = load_model(model)
    errors: list | None = [] if on_error is OnError.skip else None
    documents = read_labelled_corpus(data, skipped=errors)
    skipped = _skip_messages(errors or [])
    if errors and not documents:
        raise DataFormatError(f"no labelled file could be read ({len(errors)} skipped); nothing to evaluate")
    report = evaluate_model(classifier, documents)
    typer.echo(report.to_text(), err=True)
    if report_json is not None:
        write_json(report_json, report.to_dict())
    _report_skipped(skipped, len(skipped) + len(documents))


@app.command()
@_command
def predict(
    inputs: Annotated[list[Path], typer.Argument(help="Dump files, directories of *.txt dumps, or - for standard input.")],
    model: ModelOption = None,
    out_dir: Annotated[
        Optional[Path],
        typer.Option("--out-dir", "-o", help="Write one <input stem>.<format> per input here instead of stdout."),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="tsv: label<TAB>text; jsonl: labels and probabilities; text: kept lines only.")] = OutputFormat.tsv,
    keep: Annotated[
        Optional[str], typer.Option(help=f"Comma-separated labels to keep (default for --format text: {DEFAULT_TEXT_KEEP}).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing files in --out-dir.")] = False,
    on_error: OnErrorOption = OnError.stop,
    encoding_errors: Annotated[
        EncodingErrors,
        typer.Option(
            "--encoding-errors",
            help="strict: refuse a dump that is not UTF-8. replace: turn each byte that is not UTF-8 into U+FFFD "
            "(in the output text too), say how many on stderr, and go on.",
        ),
    ] = EncodingErrors.strict,
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Label every non-blank line of each input dump.

    Without --out-dir, writes 'label<TAB>text' lines to stdout, blank lines kept,
    every line's text unchanged.
    """
    from .labels import parse_label_list
    from .predicting import plan_outputs, predict_files

    keep_labels = parse_label_list(keep) if keep else None
    if output_format is OutputFormat.text and keep_labels is None:
        keep_labels = parse_label_list(DEFAULT_TEXT_KEEP)
    targets = plan_outputs(inputs, out_dir, _SUFFIX[output_format], overwrite) if out_dir else None
    outcomes = predict_files(
        inputs, model, output_format.value, keep_labels, targets,
        encoding_errors=encoding_errors.value, on_error=on_error.value,
    )
    skipped: list[str] = []
    done = written = 0
    for outcome in outcomes:
        if outcome.error is not None:
            skipped += _skip_messages([(outcome.name, outcome.error)])
            continue
        done += 1
        if outcome.replaced_bytes:
            typer.echo(
                f"lineclf: warning: {outcome.name}: byte {outcome.first_replaced_byte}: {outcome.replaced_bytes} byte(s) "
                "that are not UTF-8 replaced by U+FFFD",
                err=True,
            )
        if outcome.target is None:
            _write_stdout(outcome.text)
        else:
            written += 1
    if out_dir is not None:
        typer.echo(f"lineclf: wrote {written} file(s) to {out_dir}", err=True)
    _report_skipped(skipped, done + len(skipped))


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
