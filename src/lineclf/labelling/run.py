"""A labelling run: from input paths to formatted output, one page at a time.

A batch is streamed: pages are read (see :mod:`lineclf.io.pages`: dumps, JSON
Lines and WET files, compressed or not), labelled and formatted in tasks of a
bounded size, and written (or handed back) in input order before more is
read, so memory does not grow with the number of inputs or pages. Tasks are
labelled in this process, in joblib worker processes (``jobs``), or on a Dask
cluster (``scheduler``); the output is the same. A single oversized page is
labelled in bounded pieces (see :func:`~.documents.predict_document`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..document import Document
from ..errors import UsageError
from ..features import SiteCounts
from ..io import Source, check_readers, iter_pages
from ..io.sources import DEFAULT_ID_FIELD, DEFAULT_TEXT_FIELD
from ..model.files import as_predictor
from ..model.predictor import Predictor
from .formats import check_format, page_format
from .planning import detect_sources
from .runners import JoblibRunner, Runner
from .tasks import split_tasks
from .writer import Outcome, write_outcomes

logger = logging.getLogger(__name__)

#: What a batch does with an input it cannot read: stop there, or skip it and go on.
ON_ERROR = ("stop", "skip")


def check_on_error(on_error: str) -> None:
    """Refuse an on-error mode that is not one of ON_ERROR."""
    if on_error not in ON_ERROR:
        raise UsageError(f"unknown on-error mode {on_error!r}; expected one of {', '.join(ON_ERROR)}")


def check_workers(jobs: int, scheduler) -> None:
    """Refuse a number of worker processes below 1, or both workers and a Dask scheduler."""
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    if scheduler is not None and jobs != 1:
        raise UsageError("give either several jobs or a Dask scheduler, not both")


def predict_files(
    inputs: Sequence[str | Path | Source],
    model: str | Path | Predictor | None = None,  # or a fitted LineClassifier
    output_format: str | None = None,
    keep: Sequence[str] | None = None,
    targets: dict[str, Path] | None = None,
    encoding_errors: str = "strict",
    on_error: str = "stop",
    *,
    input_format: str = "auto",
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    jobs: int = 1,
    scheduler: str | None = None,
    count_sites: bool = True,
) -> Iterator[Outcome]:
    """Label each page of the inputs and yield an :class:`Outcome` for it, in input order.

    Inputs are dumps, JSON Lines and WARC/WET files, compressed or not, or
    folders of them (see :mod:`lineclf.io.sources`), or Sources already
    recognised (:func:`~.planning.detect_sources`). ``output_format`` None
    gives tsv for dumps and jsonl for page records (:func:`page_format`).
    ``model`` is a model file, a fitted classifier (or its ``predictor()``),
    or None for the shipped model. When ``targets`` maps an input to a file, its output is written
    there (atomically) before the outcome is yielded. With ``on_error="stop"``
    a bad input raises DataFormatError; with ``"skip"`` it is yielded as an
    outcome carrying the error, and the batch goes on.

    ``jobs`` > 1 labels tasks of pages in that many joblib worker processes
    (the model is loaded once in each); ``scheduler`` (a Dask scheduler
    address, needs ``lineclf[dask]``) on a Dask cluster. Either way pages are
    read and written here, in input order, with a bounded number of tasks
    in flight, and the output is the same as in one process.

    With ``count_sites`` (and a model with ``site_repetition``), a first pass
    over the inputs counts on how many pages of its site each line occurs,
    across the whole batch (see :mod:`lineclf.features.site`); when an input is a
    stream (standard input, a pipe), which cannot be read twice, each task
    of pages counts its own.
    """
    check_on_error(on_error)
    check_format(output_format)
    check_workers(jobs, scheduler)
    sources = detect_sources(inputs, input_format, text_field)
    for source in sources:  # refuse a format that cannot hold an input's pages before any work
        try:
            page_format(output_format, source.format)
        except UsageError as exc:
            raise UsageError(f"{source.name}: {exc}") from None
    check_readers(sources)
    classifier = as_predictor(model)
    site_counts = None
    if count_sites and classifier.site_repetition and all(source.rereadable for source in sources):
        site_counts = count_site_lines(sources, text_field, id_field, encoding_errors)
    pages = iter_pages(sources, text_field=text_field, id_field=id_field, encoding_errors=encoding_errors)
    with open_runner(classifier, output_format, keep, jobs, scheduler, site_counts) as runner:
        labelled = runner.map_tasks(split_tasks(pages, on_error))
        yield from write_outcomes(labelled, targets or {}, on_error)


def count_site_lines(
    sources: Sequence[Source],
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    encoding_errors: str = "strict",
) -> SiteCounts:
    """The line counts of a batch, read once through; pages that cannot be
    read are left to the labelling pass to report."""
    logger.info("counting lines across the pages of each site")
    pages = iter_pages(sources, text_field=text_field, id_field=id_field, encoding_errors=encoding_errors)
    return SiteCounts.of(page for page in pages if isinstance(page, Document))



@contextlib.contextmanager
def open_runner(
    model: Predictor,
    output_format: str | None,
    keep: Sequence[str] | None,
    jobs: int = 1,
    scheduler: str | None = None,
    site_counts: SiteCounts | None = None,
) -> Iterator[Runner]:
    """The runner for a batch: in this process (``jobs`` 1), joblib workers,
    or a Dask cluster (``scheduler``), released when the batch is done.
    ``site_counts``: the batch's line counts, for every task."""
    check_workers(jobs, scheduler)
    if scheduler is not None:
        from .cluster import DaskRunner  # needs dask, which only this runner uses

        runner: Runner = DaskRunner(model, output_format, keep, scheduler)
    elif jobs > 1:
        runner = JoblibRunner(model, output_format, keep, jobs)
    else:
        runner = Runner(model, output_format, keep)
    runner.site_counts = site_counts
    failed = True
    try:
        yield runner
        failed = False
    finally:
        runner.close(failed)


def predict_paths(
    inputs: Sequence[str | Path | Source],
    model_path: str | Path | None = None,
    output_format: str | None = None,
    keep: Sequence[str] | None = None,
    targets: dict[str, Path] | None = None,
) -> Iterator[tuple[str, Path | None]]:
    """Label each input dump; yield its formatted output and, when ``targets``
    maps it to a file, that file (already written, atomically). Stops at the
    first bad input (see :func:`predict_files` for more control)."""
    for outcome in predict_files(inputs, model_path, output_format, keep, targets):
        yield outcome.text, outcome.target
