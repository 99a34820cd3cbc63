"""`lineclf predict`: label every line of each page of the inputs."""

from __future__ import annotations

import contextlib
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import (
    DebugOption,
    ModelOption,
    OnError,
    OnErrorOption,
    VerboseOption,
    app,
    handle_errors,
    report_skipped,
    skip_messages,
    write_stdout,
)
from .progress import page_progress


class OutputFormat(str, Enum):
    tsv = "tsv"
    jsonl = "jsonl"
    text = "text"


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


@app.command()
@handle_errors
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
    run_predict(inputs, model, out_dir, output_format, keep, input_format, text_field, id_field, jobs, dask_scheduler, count_sites, overwrite, on_error, encoding_errors)


def run_predict(inputs, model, out_dir, output_format, keep, input_format, text_field, id_field, jobs, dask_scheduler, count_sites, overwrite, on_error, encoding_errors) -> None:
    """The work of `lineclf predict`: see :func:`predict`."""
    from ..io import RECORD_FORMATS
    from ..labelling import detect_sources, plan_outputs, predict_files
    from ..labels import parse_label_list

    keep_labels = parse_label_list(keep) if keep else None
    if output_format is OutputFormat.text and keep_labels is None:
        keep_labels = parse_label_list(DEFAULT_TEXT_KEEP)
    fmt = output_format.value if output_format is not None else None
    if dask_scheduler is not None and jobs != 1:
        raise typer.BadParameter("give either --jobs or --dask-scheduler, not both", param_hint="'--jobs'")
    sources = detect_sources(inputs, input_format.value, text_field)
    targets = None
    if out_dir is not None:
        targets = plan_outputs(sources, out_dir, None, overwrite, output_format=fmt)
    outcomes = predict_files(
        sources, model, fmt, keep_labels, targets,
        encoding_errors=encoding_errors.value, on_error=on_error.value, input_format=input_format.value,
        text_field=text_field, id_field=id_field, jobs=jobs, scheduler=dask_scheduler, count_sites=count_sites,
    )
    skipped: list[str] = []
    failed_inputs: set[str | None] = set()
    done = 0
    pages_of_records = False
    # closed here rather than when garbage collected: an interrupt that lands
    # between two pages must stop the workers (and drop a half-written file)
    # before lineclf exits, not leave them finishing tasks that exit waits for
    with contextlib.closing(outcomes), page_progress(show=out_dir is not None or not sys.stdout.isatty()) as progress:
        for outcome in outcomes:
            pages_of_records = pages_of_records or outcome.format in RECORD_FORMATS
            if outcome.error is not None:
                skipped += skip_messages([(outcome.name, outcome.error)], progress.say)
                if outcome.input_failed:
                    failed_inputs.add(outcome.source)
                continue
            done += 1
            if outcome.replaced_bytes:
                progress.say(
                    f"lineclf: warning: {outcome.name}: byte {outcome.first_replaced_byte}: {outcome.replaced_bytes} byte(s) "
                    "that are not UTF-8 replaced by U+FFFD"
                )
            if outcome.target is None:
                write_stdout(outcome.text)
            progress.advance(outcome.lines)
    if targets is not None:
        typer.echo(f"lineclf: wrote {len(targets) - len(failed_inputs)} file(s) to {out_dir}", err=True)
    report_skipped(skipped, done + len(skipped), "page(s) or file(s)" if pages_of_records else "file(s)")
