"""Writing predictions, and writing files safely.

Writers end every line with the line end it came with; a last line that had
none gets ``\\n``, so that outputs of several pages can follow each other in
one stream. Files are written through a temporary file and renamed into place.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..document import Document, is_blank
from ..errors import DataFormatError, OutputError
from ..labels import LABELS


def _end(ending: str) -> str:
    return ending or "\n"


def format_tsv(doc: Document, labels: Sequence[str], keep: Sequence[str] | None = None) -> str:
    """The labelled format: ``label<TAB>text`` per non-blank line, blank lines as they were.

    With ``keep``, only units whose label is in it are written (blank lines stay).
    """
    out: list[str] = []
    unit_label = dict(zip(doc.unit_index.tolist(), labels))
    for i, (text, ending) in enumerate(zip(doc.lines, doc.line_ends)):
        label = unit_label.get(i)
        if label is None:
            out.append(text + _end(ending))
        elif keep is None or label in keep:
            out.append(f"{label}\t{text}{_end(ending)}")
    return "".join(out)


def format_text(doc: Document, labels: Sequence[str], keep: Sequence[str]) -> str:
    """Just the kept lines' text, with one blank line where the dump had
    blank lines between kept lines (a clean article)."""
    kept = [i for i, label in zip(doc.unit_index.tolist(), labels) if label in keep]
    out: list[str] = []
    for n, i in enumerate(kept):
        if n and any(is_blank(line) for line in doc.lines[kept[n - 1] + 1 : i]):
            out.append("\n")
        out.append(doc.lines[i] + _end(doc.line_ends[i]))
    return "".join(out)


#: Decimal places of the probabilities written by the jsonl formats.
PROBA_DIGITS = 4
#: Where a page record's labelled lines go in ``--format jsonl`` output.
PAGE_LINES_KEY = "lines"


def _line_records(doc: Document, labels: Sequence[str], probabilities: np.ndarray, keep: Sequence[str] | None):
    """(line number, label, probabilities, text) of each kept non-blank line."""
    for i, label, proba in zip(doc.unit_index.tolist(), labels, probabilities):
        if keep is None or label in keep:
            yield i + 1, label, {name: round(float(p), PROBA_DIGITS) for name, p in zip(LABELS, proba)}, doc.lines[i]


def format_jsonl(
    doc: Document,
    labels: Sequence[str],
    probabilities: np.ndarray,
    keep: Sequence[str] | None = None,
) -> str:
    """One JSON object per non-blank line: document, line number, label, probabilities, text."""
    out: list[str] = []
    for line, label, proba, text in _line_records(doc, labels, probabilities, keep):
        record = {"doc": doc.name, "line": line, "label": label, "proba": proba, "text": text}
        out.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(out)


def _page_fields(doc: Document, key: str) -> dict:
    """A page record's fields to pass through (id first; see :func:`lineclf.io.pages.iter_pages`),
    refusing one that the output would overwrite with ``key``."""
    fields = dict(doc.meta.fields)
    if key in fields:
        raise DataFormatError(f"{doc.name}: has a field '{key}', which the output writes the labels into; rename that field")
    return fields


def format_page_jsonl(
    doc: Document,
    labels: Sequence[str],
    probabilities: np.ndarray,
    keep: Sequence[str] | None = None,
) -> str:
    """One JSON object for a page record (a JSON Lines record or a WET page):
    its fields (id first, then url and the other fields, without the text)
    and, under ``lines``, each non-blank line's number in the page, label,
    probabilities and text."""
    record = _page_fields(doc, PAGE_LINES_KEY)
    record[PAGE_LINES_KEY] = [
        {"line": line, "label": label, "proba": proba, "text": text}
        for line, label, proba, text in _line_records(doc, labels, probabilities, keep)
    ]
    return json.dumps(record, ensure_ascii=False) + "\n"


def format_page_text(doc: Document, labels: Sequence[str], keep: Sequence[str]) -> str:
    """One JSON object for a page record: its fields and, in its text field,
    the cleaned text (the kept lines, as :func:`format_text` gives them)."""
    text_field = doc.meta.text_field
    record = _page_fields(doc, text_field)
    text = format_text(doc, labels, keep)
    kept = [i for i, label in zip(doc.unit_index.tolist(), labels) if label in keep]
    if kept and not doc.line_ends[kept[-1]]:
        text = text[:-1]  # the page's text ended without a line end: so does its cleaned text
    record[text_field] = text
    return json.dumps(record, ensure_ascii=False) + "\n"


def check_output_path(path: str | Path) -> None:
    """Refuse, before any work is done, an output file that could not be
    written: its folder is missing or not writable, or it is a folder itself."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{folder}: no such folder to write {path.name} in")
    probe_folder(folder)


def probe_folder(folder: Path) -> None:
    """Create and remove a file in ``folder``, so that a folder that cannot
    be written is reported before any work rather than after it."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".lineclf-probe."):
            pass
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write here: {exc.strerror}") from None


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open ``path`` for writing through a temporary file in the same folder
    (hidden: ``.<name>.<random>.tmp``), renamed into place only when the block
    finishes without error, so an interrupted write never leaves a partial
    file or spoils an existing one.

    An exception (Ctrl-C, SIGTERM through the CLI, a full disk) removes the
    temporary file; only SIGKILL or a crash can leave one behind, and no
    reader takes it for an output or an input.
    """
    path = Path(path)
    # The name is chosen before the file exists: a signal can arrive inside
    # the system call that creates it, and the file must still be removable.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    handle = None
    # One try from the file's creation to its renaming, so that an interrupt
    # between any two steps is caught. The file and its file object come from
    # one call (exclusive creation, 0o666 less the umask): an interrupt before
    # the handle is kept drops that object, which closes the descriptor itself,
    # once (a descriptor wrapped in a second step could be closed twice, and
    # the second close's EBADF would hide the interrupt).
    try:
        handle = open(temp, "xb")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        if handle is None and isinstance(exc, OSError):
            # not created: an existing file of that name is not ours to remove
            raise OutputError(f"{path.parent}: cannot write here: {exc.strerror}") from None
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            # a full disk or a vanished folder: one line naming the file, not a traceback
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
