"""Labelling dumps: from input paths to formatted output, one page at a time.

A batch is streamed: pages are read (see :mod:`lineclf.sources`: dumps, JSON
Lines and WET files, compressed or not), labelled and formatted in chunks of a
bounded size, and written (or handed back) in input order before more is
read, so memory does not grow with the number of inputs or pages. Chunks are
labelled in this process, in joblib worker processes (``jobs``), or on a Dask
cluster (``scheduler``); the output is the same. A single oversized page is
labelled in bounded pieces (see :func:`predict_document`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batch import SiteCounts
from .document import Document, is_blank
from .errors import LineclfError, OutputError, UsageError
from .io import (
    atomic_writer,
    format_jsonl,
    format_page_jsonl,
    format_page_text,
    format_text,
    format_tsv,
)
from .labels import LABELS
from .model import LineClassifier, load_model
from .sources import (
    DEFAULT_ID_FIELD,
    DEFAULT_TEXT_FIELD,
    RECORD_FORMATS,
    TXT,
    PageError,
    Source,
    SourceEnd,
    SourceStart,
    check_readers,
    detect_source,
    expand_sources,
    iter_pages,
)

logger = logging.getLogger(__name__)

FORMATS = ("tsv", "jsonl", "text")
#: Output file endings of each format (a page record's output is always JSON Lines).
OUTPUT_SUFFIXES = {"tsv": ".tsv", "jsonl": ".jsonl", "text": ".txt"}
#: What `text` output keeps when no labels are given: the article itself.
TEXT_KEEP = ("headline", "body")
#: What a batch does with an input it cannot read: stop there, or skip it and go on.
ON_ERROR = ("stop", "skip")

# Limits on what the model sees of one dump at once. The training pages
# (gn1, de-news) have at most 1,281 lines and 7,514 characters in a line, so
# real pages never reach them; they keep a 10 MB line or a million-line file
# from taking minutes and gigabytes (features cost a few kB per line).
#: A longer line is classified from its first this-many characters (its text is still written whole).
MAX_LINE_CHARS = 100_000
#: A longer dump is classified in consecutive pieces of at most this many lines ...
CHUNK_LINES = 10_000
#: ... and at most this many characters (as the model sees them).
CHUNK_CHARS = 2_000_000
#: Pages within those limits are labelled together, in one call of the model
#: per this many lines (and CHUNK_CHARS characters) at most. A call has fixed
#: costs (the numpy and regex calls of its features, the trees' set-up), so
#: one call per page spends much of its time on those; past a few thousand
#: lines a call gains little more (the trees walk rows in chunks of
#: trees.CHUNK_ROWS anyway) and holds more memory. On gn1 (the shipped model,
#: one core, the other busy): 13,500 lines/s one call per page, 19,000 per
#: 2,000 lines, 19,800 per 10,000.
BATCH_LINES = 2_000
BATCH_CHARS = CHUNK_CHARS


def page_format(requested: str | None, source_format: str = TXT) -> str:
    """The output format of an input's pages: the requested one, or by
    default tsv for dumps and jsonl for page records (JSON Lines, WET).

    tsv is refused for page records: it is the labelled format of one dump
    per file, and many pages in one file could not be told apart.
    """
    if requested is None:
        return "jsonl" if source_format in RECORD_FORMATS else "tsv"
    if requested not in FORMATS:
        raise UsageError(f"unknown format {requested!r}; expected one of {', '.join(FORMATS)}")
    if requested == "tsv" and source_format in RECORD_FORMATS:
        raise UsageError(
            "--format tsv writes one labelled dump per file; for JSON Lines and WARC/WET inputs, which hold "
            "many pages, use --format jsonl (labels per page) or text (cleaned text per page)"
        )
    return requested


def output_suffix(output_format: str | None, source_format: str = TXT) -> str:
    """The file ending of an input's output in --out-dir."""
    if source_format in RECORD_FORMATS:
        return ".jsonl"  # one JSON object per page, whatever the format
    return OUTPUT_SUFFIXES[page_format(output_format, source_format)]


def plan_outputs(
    inputs: Sequence[str | Path],
    out_dir: Path,
    suffix: str | None = None,
    overwrite: bool = False,
    *,
    output_format: str | None = None,
    input_format: str = "auto",
    text_field: str = DEFAULT_TEXT_FIELD,
) -> dict[str, Path]:
    """Map each input (as expanded) to ``out_dir/<stem><suffix>``, refusing
    before anything is written when two inputs would share an output, an
    output would replace an input, (without ``overwrite``) an output exists,
    or ``out_dir`` cannot be written.

    The stem is the input's name without its format and compression endings
    (``crawl.warc.wet.gz`` -> ``crawl``); without ``suffix``, the ending is
    that of each input's output format (:func:`output_suffix`).
    """
    sources = [detect_source(p, input_format, text_field) for p in expand_sources(inputs, input_format)]
    targets: dict[str, Path] = {}
    claimed: dict[Path, str] = {}
    resolved_inputs = {Path(s.path).resolve() for s in sources if str(s.path) != "-"}
    for source in sources:
        ending = suffix if suffix is not None else output_suffix(output_format, source.format)
        target = out_dir / f"{source.stem}{ending}"
        key = target.resolve()
        if key in claimed:
            raise UsageError(f"{claimed[key]} and {source.path} would both be written to {target}; label them into separate --out-dir folders")
        if key in resolved_inputs:
            raise UsageError(f"{target}: output would replace an input file; choose another --out-dir")
        if target.exists() and not overwrite:
            raise UsageError(f"{target}: exists; pass --overwrite to replace it, or choose another --out-dir")
        claimed[key] = str(source.path)
        targets[str(source.path)] = target
    _check_writable_folder(out_dir)
    return targets


def _check_writable_folder(out_dir: Path) -> None:
    """Create ``out_dir`` and try a file in it, so that an unwritable folder is
    reported before the model is loaded and the first page labelled."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: is a file, not a folder; choose another --out-dir")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create output folder: {exc.strerror}") from None
    try:
        with tempfile.TemporaryFile(dir=out_dir, prefix=".lineclf-probe."):
            pass
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write here: {exc.strerror}") from None


def format_prediction(doc, labels, proba, output_format: str | None, keep: Sequence[str] | None) -> str:
    """A page's output in a format (None: its default, see :func:`page_format`).

    A page record (a JSON Lines record or a WET page, its ``meta`` holding
    ``format``) gives one JSON object: labelled lines for jsonl, the cleaned
    text for text.
    """
    source_format = doc.meta.get("format", TXT)
    output_format = page_format(output_format, source_format)
    if output_format == "text" and keep is None:
        keep = TEXT_KEEP
    if source_format in RECORD_FORMATS:
        if output_format == "jsonl":
            return format_page_jsonl(doc, labels, proba, keep)
        return format_page_text(doc, labels, keep)
    if output_format == "tsv":
        return format_tsv(doc, labels, keep)
    if output_format == "jsonl":
        return format_jsonl(doc, labels, proba, keep)
    return format_text(doc, labels, keep)


# --------------------------------------------------------------------------- one document, bounded


def predict_document(
    model: LineClassifier,
    doc: Document,
    max_line_chars: int = MAX_LINE_CHARS,
    chunk_lines: int = CHUNK_LINES,
    chunk_chars: int = CHUNK_CHARS,
    site_counts: SiteCounts | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities (one row per non-blank line) of one document.

    A document within the limits (every real page) is labelled whole, exactly
    as ``model.predict_proba([doc])`` does. A larger one is labelled in
    consecutive pieces of at most ``chunk_lines`` lines and ``chunk_chars``
    characters, cut after a blank line where one is near, with each line
    longer than ``max_line_chars`` seen only up to that length: memory and
    time then stay bounded whatever the input. ``site_counts``: line counts
    of the batch the document belongs to (see :mod:`lineclf.batch`).
    """
    lengths = np.fromiter(map(len, doc.lines), dtype=np.int64, count=len(doc.lines))
    clip = bool(lengths.max(initial=0) > max_line_chars)
    if len(lengths) <= chunk_lines and lengths.sum() <= chunk_chars and not clip:
        (proba,) = model.predict_proba([doc], site_counts)
    else:
        seen = np.minimum(lengths, max_line_chars) + 1
        parts = [
            model.predict_proba([_model_view(doc, start, end, max_line_chars, clip)], site_counts)[0]
            for start, end in _chunks(seen, doc, chunk_lines, chunk_chars)
        ]
        proba = np.vstack(parts) if parts else np.zeros((0, len(LABELS)))
    labels = model.classes_[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=str)
    return labels, proba


def _chunks(seen: np.ndarray, doc: Document, chunk_lines: int, chunk_chars: int) -> Iterator[tuple[int, int]]:
    """Consecutive line ranges within the limits (a single line may exceed
    ``chunk_chars``: it is already clipped)."""
    ends = np.cumsum(seen)
    n, start = len(seen), 0
    while start < n:
        before = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, before + chunk_chars, side="right"))
        end = min(max(end, start + 1), start + chunk_lines, n)
        if end < n:
            # cut after a blank line in the last quarter, so blocks stay together
            for k in range(end - 1, start + (end - start) * 3 // 4, -1):
                if is_blank(doc.lines[k]):
                    end = k + 1
                    break
        yield start, end
        start = end


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    clipped = text[:limit]
    # a non-blank line must stay non-blank, or the line would lose its label
    return clipped if is_blank(text) or not is_blank(clipped) else text.lstrip()[:limit]


def _model_view(doc: Document, start: int, end: int, max_line_chars: int, clip: bool) -> Document:
    lines = doc.lines[start:end]
    return Document(
        name=doc.name,
        lines=tuple(_clip(text, max_line_chars) for text in lines) if clip else lines,
        line_ends=doc.line_ends[start:end],
        site=doc.site,
    )


def _too_big(doc: Document, max_line_chars: int, chunk_lines: int, chunk_chars: int) -> bool:
    return len(doc.lines) > chunk_lines or _chars(doc) > chunk_chars or any(len(t) > max_line_chars for t in doc.lines)


def _chars(doc: Document) -> int:
    return sum(map(len, doc.lines))


def predict_many(
    model: LineClassifier,
    documents: Sequence[Document],
    max_line_chars: int = MAX_LINE_CHARS,
    chunk_lines: int = CHUNK_LINES,
    chunk_chars: int = CHUNK_CHARS,
    site_counts: SiteCounts | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Labels and probabilities of each document, as :func:`predict_document`
    gives them, with consecutive ordinary pages labelled together in one call
    of the model (at most BATCH_LINES lines and BATCH_CHARS characters a
    call). The model labels each page on its own, so this changes the speed,
    not the result; an oversized page is labelled alone, in pieces.

    Repetition across pages (a model with ``site_repetition``) is counted over
    ``site_counts``, a whole batch's counts, or else over ``documents``."""
    if site_counts is None and model.site_repetition:
        site_counts = SiteCounts.of(documents)
    results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(documents)
    for batch, alone in page_batches(documents, max_line_chars, chunk_lines, chunk_chars):
        if alone:
            results[batch[0]] = predict_document(model, documents[batch[0]], max_line_chars, chunk_lines, chunk_chars, site_counts)
            continue
        for i, proba in zip(batch, model.predict_proba([documents[i] for i in batch], site_counts)):
            results[i] = (_argmax_labels(model, proba), proba)
    return results  # type: ignore[return-value]


def page_batches(
    documents: Sequence[Document],
    max_line_chars: int = MAX_LINE_CHARS,
    chunk_lines: int = CHUNK_LINES,
    chunk_chars: int = CHUNK_CHARS,
) -> Iterator[tuple[list[int], bool]]:
    """The pages :func:`predict_many` labels in one call of the model: runs of
    consecutive ordinary pages (at most BATCH_LINES lines and BATCH_CHARS
    characters), as ``(indices, False)``, and each oversized page alone, as
    ``([index], True)``."""
    batch: list[int] = []
    lines = chars = 0
    for i, doc in enumerate(documents):
        if _too_big(doc, max_line_chars, chunk_lines, chunk_chars):
            if batch:
                yield batch, False
                batch, lines, chars = [], 0, 0
            yield [i], True
            continue
        size, width = len(doc.lines), _chars(doc)
        if batch and (lines + size > BATCH_LINES or chars + width > BATCH_CHARS):
            yield batch, False
            batch, lines, chars = [], 0, 0
        batch.append(i)
        lines, chars = lines + size, chars + width
    if batch:
        yield batch, False


def _argmax_labels(model: LineClassifier, proba: np.ndarray) -> np.ndarray:
    return model.classes_[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=str)


@dataclass
class PageResult:
    """A labelled page's formatted output, or why it could not be formatted."""

    text: str | None
    #: Non-blank lines labelled.
    lines: int
    error: LineclfError | None = None


def label_chunk(
    model: LineClassifier,
    documents: Sequence[Document],
    output_format: str | None,
    keep: Sequence[str] | None,
    site_counts: SiteCounts | None = None,
) -> list[PageResult]:
    """Label and format a chunk of pages: the work a worker process does.
    ``site_counts``: the batch's line counts (default: the chunk's)."""
    results = []
    for doc, (labels, proba) in zip(documents, predict_many(model, documents, site_counts=site_counts)):
        try:
            results.append(PageResult(format_prediction(doc, labels, proba, output_format, keep), doc.n_units))
        except LineclfError as exc:  # a page record whose fields clash with the output's
            results.append(PageResult(None, doc.n_units, exc))
    return results


#: A batch is handed to the labelling (a worker process, a Dask task) in
#: tasks of at most this many pages, lines and characters: big enough that
#: labelling a task costs far more than sending it and its output between
#: processes (two calls of the model), small enough to stream and to keep
#: two workers evenly busy to the end of a gn1-sized batch.
TASK_PAGES = 256
TASK_LINES = 2 * BATCH_LINES
TASK_CHARS = CHUNK_CHARS


def chunked(items: Iterable, on_error: str = "stop") -> Iterator[list]:
    """Group a page stream (see :func:`lineclf.sources.iter_pages`) into
    chunks, one task each (TASK_PAGES, TASK_LINES, TASK_CHARS), in order. With ``on_error="stop"``, the chunk with the first unreadable page
    is the last: nothing after it is read."""
    chunk: list = []
    pages = lines = chars = 0
    for item in items:
        chunk.append(item)
        if isinstance(item, Document):
            pages, lines, chars = pages + 1, lines + len(item.lines), chars + _chars(item)
        elif isinstance(item, PageError) and on_error == "stop":
            break
        if pages >= TASK_PAGES or lines >= TASK_LINES or chars >= TASK_CHARS:
            yield chunk
            chunk, pages, lines, chars = [], 0, 0, 0
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- batches


@dataclass
class Outcome:
    """What became of one page (a dump file, or a record of a JSON Lines or
    WET file) of a batch, or of an input that could not be read at all."""

    #: The page as named in messages: a path, "stdin", "file:line" (JSON Lines), "file: record N" (WET).
    name: str
    #: The formatted output (None when the page was skipped).
    text: str | None = None
    #: The file it was written to (None: the caller writes ``text`` itself). A
    #: file of many pages is renamed into place when its last page is done.
    target: Path | None = None
    #: Bytes that were not UTF-8 and became U+FFFD (``encoding_errors="replace"``).
    replaced_bytes: int = 0
    first_replaced_byte: int | None = None
    #: Why the page was skipped (``on_error="skip"``), else None.
    error: LineclfError | None = None
    #: Non-blank lines labelled.
    lines: int = 0
    #: The input the page came from, and its format (txt, jsonl, warc).
    source: str | None = None
    format: str | None = None
    #: The skipped error concerned the whole input: nothing of it was read or written.
    input_failed: bool = False


def predict_files(
    inputs: Sequence[str | Path],
    model: str | Path | LineClassifier | None = None,
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
    folders of them (see :mod:`lineclf.sources`). ``output_format`` None
    gives tsv for dumps and jsonl for page records (:func:`page_format`).
    ``model`` is a model file, a fitted classifier, or None for the shipped
    model. When ``targets`` maps an input to a file, its output is written
    there (atomically) before the outcome is yielded. With ``on_error="stop"``
    a bad input raises DataFormatError; with ``"skip"`` it is yielded as an
    outcome carrying the error, and the batch goes on.

    ``jobs`` > 1 labels chunks of pages in that many joblib worker processes
    (the model is loaded once in each); ``scheduler`` (a Dask scheduler
    address, needs ``lineclf[dask]``) on a Dask cluster. Either way pages are
    read and written here, in input order, with a bounded number of chunks
    in flight, and the output is the same as in one process.

    With ``count_sites`` (and a model with ``site_repetition``), a first pass
    over the inputs counts on how many pages of its site each line occurs,
    across the whole batch (see :mod:`lineclf.batch`); when an input is a
    stream (standard input, a pipe), which cannot be read twice, each chunk
    of pages counts its own.
    """
    if on_error not in ON_ERROR:
        raise UsageError(f"unknown on-error mode {on_error!r}; expected one of {', '.join(ON_ERROR)}")
    if output_format is not None and output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    if scheduler is not None and jobs != 1:
        raise UsageError("give either several jobs or a Dask scheduler, not both")
    sources = [detect_source(p, input_format, text_field) for p in expand_sources(inputs, input_format)]
    for source in sources:  # refuse a format that cannot hold an input's pages before any work
        try:
            page_format(output_format, source.format)
        except UsageError as exc:
            raise UsageError(f"{source.name}: {exc}") from None
    check_readers(sources)
    classifier = model if isinstance(model, LineClassifier) else load_model(model)
    from .parallel import open_runner

    site_counts = None
    if count_sites and classifier.site_repetition and all(source.rereadable for source in sources):
        site_counts = count_site_lines(sources, text_field, id_field, encoding_errors)
    pages = iter_pages(sources, text_field=text_field, id_field=id_field, encoding_errors=encoding_errors)
    with open_runner(classifier, output_format, keep, jobs, scheduler, site_counts) as runner:
        labelled = runner.map_chunks(chunked(pages, on_error))
        yield from _write(labelled, targets or {}, on_error)


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


class _Writer:
    """The output file of the input being labelled, written through a
    temporary file and renamed into place when the input is done."""

    def __init__(self) -> None:
        self._context = None
        self._handle = None

    def write(self, target: Path, text: str) -> None:
        if self._context is None:
            self._context = atomic_writer(target)
            self._handle = self._context.__enter__()
        self._handle.write(text.encode("utf-8"))

    def commit(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.__exit__(type(exc), exc, exc.__traceback__)


def _write(labelled: Iterator[tuple[object, PageResult | None]], targets: dict[str, Path], on_error: str) -> Iterator[Outcome]:
    """Write each labelled page to its input's file (or hand it back), in order."""
    writer = _Writer()
    source: Source | None = None
    target: Path | None = None
    done = False  # the current input's file is complete
    pages = lines = 0
    try:
        for item, result in labelled:
            if isinstance(item, SourceStart):
                source, target, done, pages, lines = item.source, targets.get(str(item.source.path)), False, 0, 0
            elif isinstance(item, SourceEnd):
                if target is not None and not done and not (item.failed and not pages):
                    writer.write(target, "")  # an input without pages still gets its (empty) file
                    writer.commit()
                    logger.info("%s: %d page(s), %d lines labelled -> %s", item.source.name, pages, lines, target)
                source = target = None
            elif isinstance(item, PageError):
                if on_error == "stop":
                    raise item.error
                logger.info("skipped %s", item.error)
                yield Outcome(
                    name=item.name, error=item.error, source=source.name if source else None,
                    format=source.format if source else None, input_failed=item.input_failed,
                )
            else:
                doc: Document = item  # type: ignore[assignment]
                outcome = Outcome(
                    name=doc.name, lines=doc.n_units, source=source.name if source else None,
                    format=source.format if source else None,
                )
                if result.error is not None:
                    if on_error == "stop":
                        raise result.error
                    outcome.error = result.error
                    yield outcome
                    continue
                outcome.text = result.text
                outcome.replaced_bytes = doc.meta.get("replaced_bytes", 0)
                outcome.first_replaced_byte = doc.meta.get("first_replaced_byte")
                pages, lines = pages + 1, lines + doc.n_units
                if target is not None:
                    writer.write(target, result.text)
                    outcome.target = target
                    if not source.holds_records:
                        # a dump is one page: its file is complete before its outcome is handed back
                        writer.commit()
                        done = True
                        logger.info("%s: %d lines labelled -> %s", doc.name, doc.n_units, target)
                yield outcome
    except BaseException as exc:
        writer.abort(exc)
        raise


def predict_paths(
    inputs: Sequence[str | Path],
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
