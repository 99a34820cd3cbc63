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


class InputFormat(str, Enum):
    auto = "auto"
    txt = "txt"
    jsonl = "jsonl"
    warc = "warc"


#: Lines kept by `--format text` when no --keep is given: the article itself.
DEFAULT_TEXT_KEEP = "headline,body"

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
        help="Manifest 'name[<TAB>lang]<TAB>site[<TAB>url]' (e.g. gn1-manifest.tsv): folds keep each site together. Repeatable.",
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


# Where one-line messages go while a command runs: stderr, or, while a
# progress display is on, that display's printer, which puts them above it
# instead of into the middle of its line.
_message_printer = None


def _say(line: str) -> None:
    """Write one message line to stderr."""
    if _message_printer is not None:
        _message_printer(line)
    else:
        typer.echo(line, err=True)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # one line, as errors are (a library's warning may span several); the
    # source location means nothing to a user
    _say(f"lineclf: warning: {' '.join(str(message).split())}")


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


def _report_skipped(skipped: list[str], total: int, what: str = "file(s)") -> None:
    """After a batch with --on-error skip: name the skipped files (or pages) and fail."""
    if skipped:
        typer.echo(f"lineclf: error: skipped {len(skipped)} of {total} {what} that could not be read: {', '.join(skipped)}", err=True)
        raise typer.Exit(1)


def _skip_messages(skipped: list[tuple[str, LineclfError]]) -> list[str]:
    """Print one 'skipped' line per skipped file, saying why; return their names."""
    for _, exc in skipped:
        _say(f"lineclf: skipped: {exc}")
    return [name for name, _ in skipped]


@app.command()
@_command
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
    from .training import parse_bias_labels, train_model

    if report_json is not None:
        check_output_path(report_json)
    with _fold_progress(folds) as progress:
        result = train_model(
            data,
            model,
            manifests=groups or [],
            folds=folds,
            progress=progress,
            on_error=on_error.value,
            data_weights=_data_weights(data_weight or []),
            tune_label_bias=tune_label_bias,
            bias_labels=None if bias_labels is None else parse_bias_labels(bias_labels),
        )
    skipped = _skip_messages(result.skipped)
    tuned = ", label bias tuned on the other folds" if result.label_bias is not None else ""
    for title, report in result.reports.items():
        heading = f"cross-validated ({result.folds} folds, grouped by {result.grouped_by}{tuned}): {title}"
        typer.echo(report.to_text(heading) + "\n", err=True)
    if result.label_bias is not None:
        offsets = "  ".join(f"{label} {value:+.2f}" for label, value in result.label_bias.items())
        typer.echo(f"label bias (log-probability offsets) tuned on all folds: {offsets}", err=True)
    if report_json is not None:
        from .training import write_json

        write_json(report_json, {title: r.to_dict() for title, r in result.reports.items()})
    typer.echo(f"lineclf: model written to {model}", err=True)
    _report_skipped(skipped, len(skipped) + result.pages)


def _data_weights(items: list[str]) -> dict[str, float]:
    """``DATA=WEIGHT`` options as a mapping."""
    from .training import parse_data_weight

    return dict(map(parse_data_weight, items))


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
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Dumps (.txt), JSON Lines (.jsonl, .ndjson) or WARC/WET files (.warc, .wet), each also compressed "
            "(.gz, .bz2, .xz); directories of them; or - for standard input."
        ),
    ],
    model: ModelOption = None,
    out_dir: Annotated[
        Optional[Path],
        typer.Option("--out-dir", "-o", help="Write one <input stem>.<format> per input here instead of stdout."),
    ] = None,
    output_format: Annotated[
        Optional[OutputFormat],
        typer.Option(
            "--format",
            "-f",
            help="tsv: label<TAB>text per line (dumps only). jsonl: labels and probabilities, per line for a dump, "
            "one object per page for JSON Lines and WET pages. text: kept lines only; for JSON Lines and WET pages "
            "one object per page with the cleaned text in its text field. Default: tsv for dumps, jsonl for pages.",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        Optional[str], typer.Option(help=f"Comma-separated labels to keep (default for --format text: {DEFAULT_TEXT_KEEP}).")
    ] = None,
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--input-format",
            help="auto: recognise each input by its name, else its content. txt: a dump; jsonl: a page per line; "
            "warc: a WARC/WET file (needs pip install 'lineclf\\[warc]').",
        ),
    ] = InputFormat.auto,
    text_field: Annotated[str, typer.Option(help="JSON Lines field holding the page text (with \\n line ends).")] = "text",
    id_field: Annotated[
        str, typer.Option(help="JSON Lines field holding the page id, written first in the output; for WET pages, the name the WARC-Record-ID is written under.")
    ] = "id",
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1,
            help="Label in this many worker processes (the output is the same; try the number of CPU cores).",
        ),
    ] = 1,
    dask_scheduler: Annotated[
        Optional[str],
        typer.Option(
            "--dask-scheduler",
            metavar="ADDRESS",
            help="Label on this Dask cluster (e.g. tcp://scheduler:8786; needs pip install 'lineclf\\[dask]'); "
            "inputs are read and outputs written here.",
        ),
    ] = None,
    count_sites: Annotated[
        bool,
        typer.Option(
            help="First count on how many pages of its site (the host of the page's URL; for dumps, the batch) "
            "each line occurs, over all inputs: menus recur across pages. Standard input is counted per chunk of pages.",
        ),
    ] = True,
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
    """Label every non-blank line of each page: a dump, or each record of a JSON Lines or WET file.

    Without --out-dir, writes 'label<TAB>text' lines to stdout (blank lines
    kept, every line's text unchanged) for dumps, and one JSON object per
    page for JSON Lines and WET pages, in input order. With --on-error skip,
    a page or file that cannot be read is left out and listed at the end.
    """
    from .labels import parse_label_list
    from .predicting import predict_files
    from .sources import RECORD_FORMATS

    keep_labels = parse_label_list(keep) if keep else None
    if output_format is OutputFormat.text and keep_labels is None:
        keep_labels = parse_label_list(DEFAULT_TEXT_KEEP)
    fmt = output_format.value if output_format is not None else None
    if dask_scheduler is not None and jobs != 1:
        raise typer.BadParameter("give either --jobs or --dask-scheduler, not both", param_hint="'--jobs'")
    targets = None
    if out_dir is not None:
        from .predicting import plan_outputs

        targets = plan_outputs(
            inputs, out_dir, None, overwrite,
            output_format=fmt, input_format=input_format.value, text_field=text_field,
        )
    outcomes = predict_files(
        inputs, model, fmt, keep_labels, targets,
        encoding_errors=encoding_errors.value, on_error=on_error.value, input_format=input_format.value,
        text_field=text_field, id_field=id_field, jobs=jobs, scheduler=dask_scheduler, count_sites=count_sites,
    )
    skipped: list[str] = []
    failed_inputs: set[str | None] = set()
    done = 0
    pages_of_records = False
    with _page_progress(show=out_dir is not None or not sys.stdout.isatty()) as progress:
        for outcome in outcomes:
            pages_of_records = pages_of_records or outcome.format in RECORD_FORMATS
            if outcome.error is not None:
                skipped += _skip_messages([(outcome.name, outcome.error)])
                if outcome.input_failed:
                    failed_inputs.add(outcome.source)
                continue
            done += 1
            if outcome.replaced_bytes:
                _say(
                    f"lineclf: warning: {outcome.name}: byte {outcome.first_replaced_byte}: {outcome.replaced_bytes} byte(s) "
                    "that are not UTF-8 replaced by U+FFFD"
                )
            if outcome.target is None:
                _write_stdout(outcome.text)
            progress(outcome.lines)
    if targets is not None:
        typer.echo(f"lineclf: wrote {len(targets) - len(failed_inputs)} file(s) to {out_dir}", err=True)
    _report_skipped(skipped, done + len(skipped), "page(s) or file(s)" if pages_of_records else "file(s)")


@contextlib.contextmanager
def _page_progress(show: bool):
    """A progress display of pages and lines labelled, and their rates, on
    stderr when it is a terminal (and ``show``: not while the output itself
    goes to that terminal, which the display would garble). Yields a function
    to call once per page with its number of lines."""
    if not (show and sys.stderr.isatty()):
        yield lambda lines: None
        return
    import time

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    global _message_printer
    start = time.monotonic()
    counts = {"pages": 0, "lines": 0}
    # stdout is left alone: the labelled output is written to it as bytes
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True, redirect_stdout=False,
    ) as display:
        task = display.add_task(progress_text(0, 0, 0.0), total=None)

        def advance(lines: int) -> None:
            counts["pages"] += 1
            counts["lines"] += lines
            display.update(task, description=progress_text(counts["pages"], counts["lines"], time.monotonic() - start))

        _message_printer = functools.partial(display.console.print, markup=False, highlight=False, emoji=False, soft_wrap=True)
        try:
            yield advance
        finally:
            _message_printer = None


def progress_text(pages: int, lines: int, seconds: float) -> str:
    """What the progress display says: pages and lines so far, and per second."""
    seconds = max(seconds, 1e-9)
    return f"{pages:,} pages ({pages / seconds:,.1f}/s), {lines:,} lines ({lines / seconds:,.0f}/s)"


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
