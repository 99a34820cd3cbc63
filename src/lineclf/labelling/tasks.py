"""Tasks: the pages a worker (this process, a joblib worker, a Dask worker)
labels and formats at a time, and what it gives back for each page."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..document import Document
from ..errors import LineclfError
from ..features import SiteCounts
from ..io import PageError
from ..model.predictor import Predictor
from .documents import CALL_LINES, PIECE_CHARS, _chars, predict_many
from .formats import format_prediction

#: A batch is handed to the labelling (a worker process, a Dask task) in
#: tasks of at most this many pages, lines and characters: big enough that
#: labelling a task costs far more than sending it and its output between
#: processes (two calls of the model), small enough to stream and to keep
#: two workers evenly busy to the end of a gn1-sized batch.
TASK_PAGES = 256
TASK_LINES = 2 * CALL_LINES
TASK_CHARS = PIECE_CHARS


@dataclass
class PageResult:
    """A labelled page's formatted output, or why it could not be formatted."""

    text: str | None
    #: Non-blank lines labelled.
    lines: int
    error: LineclfError | None = None


def label_task(
    model: Predictor,
    documents: Sequence[Document],
    output_format: str | None,
    keep: Sequence[str] | None,
    site_counts: SiteCounts | None = None,
) -> list[PageResult]:
    """Label and format a task's pages: the work a worker does.
    ``site_counts``: the batch's line counts (default: the task's)."""
    results = []
    for doc, (labels, proba) in zip(documents, predict_many(model, documents, site_counts=site_counts)):
        try:
            results.append(PageResult(format_prediction(doc, labels, proba, output_format, keep), doc.n_units))
        except LineclfError as exc:  # a page record whose fields clash with the output's
            results.append(PageResult(None, doc.n_units, exc))
    return results


def split_tasks(items: Iterable, on_error: str = "stop") -> Iterator[list]:
    """Group a page stream (see :func:`lineclf.io.iter_pages`) into tasks
    (TASK_PAGES, TASK_LINES, TASK_CHARS), in order. With ``on_error="stop"``,
    the task with the first unreadable page is the last: nothing after it is read."""
    task: list = []
    pages = lines = chars = 0
    for item in items:
        task.append(item)
        if isinstance(item, Document):
            pages, lines, chars = pages + 1, lines + len(item.lines), chars + _chars(item)
        elif isinstance(item, PageError) and on_error == "stop":
            break
        if pages >= TASK_PAGES or lines >= TASK_LINES or chars >= TASK_CHARS:
            yield task
            task, pages, lines, chars = [], 0, 0, 0
    if task:
        yield task
