"""Writing a run's labelled pages, in input order: each input's output file
written through a temporary file and renamed into place when the input is
done, or each page handed back to the caller."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..document import Document
from ..errors import LineclfError
from ..io import PageError, Source, SourceEnd, SourceStart, atomic_writer
from .tasks import PageResult

logger = logging.getLogger(__name__)


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


def write_outcomes(labelled: Iterator[tuple[object, PageResult | None]], targets: dict[str, Path], on_error: str) -> Iterator[Outcome]:
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
                outcome.replaced_bytes = doc.meta.replaced_bytes
                outcome.first_replaced_byte = doc.meta.first_replaced_byte
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
