"""Reading dumps and labelled files, writing predictions.

Everything here is lossless: a line's text is kept exactly as it was read
(trailing spaces, tabs, no-break spaces, a byte order mark), and so is its
line end. Writers end every line with the line end it came with; a last line
that had none gets ``\\n``, so that outputs of several pages can follow each
other in one stream.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .document import Document, is_blank
from .errors import DataFormatError, LineclfError, OutputError, UsageError
from .labels import LABELS, parse_label

#: Name under which standard input appears in messages and output names.
STDIN_NAME = "stdin"
#: File suffixes picked up when a directory is given.
DUMP_SUFFIX = ".txt"
LABELLED_SUFFIX = ".tsv"

#: What to do with bytes that are not UTF-8: refuse the file, or replace each
#: such byte with U+FFFD and go on.
ENCODING_ERRORS = ("strict", "replace")

_LINE_END = re.compile(r"(\r\n|\r|\n)")
# what surrogateescape decodes each undecodable byte to
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


# --------------------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True)
class Decoded:
    """A dump's text, and what ``encoding_errors="replace"`` had to replace."""

    text: str
    replaced_bytes: int = 0
    first_replaced_byte: int | None = None


def decode_text(data: bytes, name: str, errors: str = "strict") -> Decoded:
    """Decode a dump's bytes as UTF-8, refusing what is not text.

    NUL bytes (binary files) and UTF-16 are refused whatever ``errors`` says:
    replacing would turn them into pages of junk. With ``errors="replace"``,
    each byte that is not part of valid UTF-8 becomes one U+FFFD and is counted.
    """
    if errors not in ENCODING_ERRORS:
        raise UsageError(f"unknown encoding-errors mode {errors!r}; expected one of {', '.join(ENCODING_ERRORS)}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataFormatError(f"{name}: looks like UTF-16 text; convert it to UTF-8 first")
    nul = data.find(b"\x00")
    if nul >= 0:
        if _looks_like_utf16(data):
            raise DataFormatError(f"{name}: byte {nul}: NUL byte, looks like UTF-16 text without a byte order mark; convert it to UTF-8 first")
        raise DataFormatError(f"{name}: byte {nul}: NUL byte, this looks like a binary file, not a text dump")
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise DataFormatError(f"{name}: byte {exc.start}: not UTF-8; convert the file to UTF-8") from None
        first = exc.start
    # surrogateescape maps every undecodable byte to one lone surrogate, which
    # valid UTF-8 can never produce: count those, then make them U+FFFD
    text, replaced = _ESCAPED_BYTE.subn("\ufffd", data.decode("utf-8", "surrogateescape"))
    return Decoded(text, replaced, first)


def _looks_like_utf16(data: bytes) -> bool:
    """ASCII-heavy UTF-16 without a byte order mark: every other byte is NUL."""
    sample = data[:4096]
    half = len(sample) // 2
    return half >= 2 and max(sample[0::2].count(0), sample[1::2].count(0)) >= 0.8 * half


def decode_dump(data: bytes, name: str, errors: str = "strict") -> str:
    """Decode a dump's bytes as UTF-8 (see :func:`decode_text`)."""
    return decode_text(data, name, errors).text


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """Split text into line texts and their line ends (``\\n``, ``\\r\\n``, ``\\r``).

    Only these three count as line ends; other characters that Python's
    ``str.splitlines`` would split on (form feed, U+2028, ...) stay inside the
    line's text.
    """
    if not text:
        return [], []
    parts = _LINE_END.split(text)
    lines, ends = parts[0::2], parts[1::2] + [""]
    if lines[-1] == "":  # text ended with a line end: no further line
        lines.pop()
        ends.pop()
    return lines, ends


def read_bytes(path: str | Path) -> bytes:
    """Read a file, or standard input for ``-``, as bytes."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    with open_input(path, path) as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise DataFormatError(f"{path}: cannot read: {exc.strerror}") from None


def open_input(path: str | Path, name: str | Path) -> BinaryIO:
    """Open an input file for binary reading; what goes wrong is a
    DataFormatError naming it as ``name``."""
    try:
        return open(path, "rb")  # noqa: SIM115 -- the caller closes it
    except FileNotFoundError:
        raise DataFormatError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataFormatError(f"{name}: is a directory, not a file") from None
    except OSError as exc:
        raise DataFormatError(f"{name}: cannot read: {exc.strerror}") from None


def display_name(path: str | Path) -> str:
    return STDIN_NAME if str(path) == "-" else str(path)


def read_dump(path: str | Path, encoding_errors: str = "strict") -> Document:
    """Read one dump (a path, or ``-`` for standard input) into a Document.

    With ``encoding_errors="replace"``, bytes that are not UTF-8 become U+FFFD;
    the document's ``meta`` then holds ``replaced_bytes`` and ``first_replaced_byte``.
    """
    name = display_name(path)
    decoded = decode_text(read_bytes(path), name, encoding_errors)
    lines, ends = split_lines(decoded.text)
    meta = {}
    if decoded.replaced_bytes:
        meta = {"replaced_bytes": decoded.replaced_bytes, "first_replaced_byte": decoded.first_replaced_byte}
    return Document(name=name, lines=tuple(lines), line_ends=tuple(ends), meta=meta)


def parse_labelled(text: str, name: str, partial: bool = False) -> Document:
    """Parse the labelled format: ``label<TAB>text`` per non-blank line
    (with ``partial``, a label may also be a partial one: content, noise)."""
    lines, ends = split_lines(text)
    texts: list[str] = []
    labels: list[str] = []
    for number, line in enumerate(lines, start=1):
        if is_blank(line):
            texts.append(line)
            continue
        label, tab, rest = line.partition("\t")
        if number == 1 and line.startswith("\ufeff"):
            raise DataFormatError(f"{name}:1: starts with a byte order mark (U+FEFF); save the file as UTF-8 without BOM")
        if not tab:
            raise DataFormatError(f"{name}:{number}: no tab; a labelled line is 'label<TAB>text'")
        try:
            labels.append(parse_label(label, partial))
        except DataFormatError as exc:
            raise DataFormatError(f"{name}:{number}: {exc}") from None
        if is_blank(rest):
            raise DataFormatError(f"{name}:{number}: label '{label}' has no text after the tab")
        texts.append(rest)
    return Document(name=name, lines=tuple(texts), line_ends=tuple(ends), labels=tuple(labels))


def read_labelled(path: str | Path, site: str | None = None, partial: bool = False) -> Document:
    """Read one labelled file (``*.tsv``) into a Document carrying labels."""
    name = display_name(path)
    doc = parse_labelled(decode_dump(read_bytes(path), name), name, partial)
    return doc if site is None else dataclasses.replace(doc, site=site)


def expand_inputs(inputs: Iterable[str | Path], suffixes: str | tuple[str, ...], what: str | None = None) -> list[str | Path]:
    """Files as given (and ``-``), directories replaced by the files in them
    whose names end in one of ``suffixes``, in any case (recursive, sorted).
    ``what`` names those files in the error for a directory without any."""
    suffixes = (suffixes,) if isinstance(suffixes, str) else tuple(suffixes)
    paths: list[str | Path] = []
    for item in inputs:
        if str(item) == "-":
            paths.append("-")
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.name.lower().endswith(suffixes) and p.is_file())
            if not found:
                raise UsageError(f"{path}: directory holds no {what or ', '.join(suffixes) + ' files'}")
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return paths


def _is_url(field: str) -> bool:
    return "://" in field


def read_manifest(path: str | Path) -> dict[str, str]:
    """Read a manifest into {file stem: site}.

    A line is ``name<TAB>site[<TAB>url]`` (gn1, de-news) or, with a language
    column, ``name<TAB>lang<TAB>site<TAB>url`` (web): the site is the field
    before the URL, or the last field when there is no URL.
    """
    name = display_name(path)
    if name != STDIN_NAME and not Path(path).is_file():
        raise UsageError(f"{path}: no such manifest file")
    text = decode_dump(read_bytes(path), name)
    sites: dict[str, str] = {}
    for number, line in enumerate(split_lines(text)[0], start=1):
        if is_blank(line):
            continue
        fields = line.split("\t")
        if len(fields) > 2 and _is_url(fields[-1]):
            fields = fields[:-1]
        site = fields[-1] if len(fields) > 1 else ""
        if not fields[0] or not site or _is_url(site):
            raise DataFormatError(f"{name}:{number}: a manifest line is 'name[<TAB>lang]<TAB>site[<TAB>url]'")
        sites[fields[0]] = site
    return sites


def read_labelled_corpus(
    inputs: Iterable[str | Path],
    manifests: Sequence[str | Path] = (),
    skipped: list[tuple[str, LineclfError]] | None = None,
    partial: bool = False,
) -> list[Document]:
    """Read labelled files and directories; a document's site comes from the
    manifests (by file stem) when listed there. ``partial``: labels may be
    partial ones (for training; see ``labels.PARTIAL_LABELS``).

    A bad file raises DataFormatError, unless a ``skipped`` list is given: then
    the file is left out and ``(its name, the error)`` appended there.
    """
    sites: dict[str, str] = {}
    for manifest in manifests:
        sites.update(read_manifest(manifest))
    docs = []
    for path in expand_inputs(inputs, LABELLED_SUFFIX):
        stem = Path(path).stem if str(path) != "-" else STDIN_NAME
        try:
            docs.append(read_labelled(path, site=sites.get(stem), partial=partial))
        except DataFormatError as exc:
            if skipped is None:
                raise
            skipped.append((display_name(path), exc))
    return docs


# --------------------------------------------------------------------------- writing


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
    """A page record's fields to pass through (id first; see sources.iter_pages),
    refusing one that the output would overwrite with ``key``."""
    fields = dict(doc.meta.get("fields", {}))
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
    text_field = doc.meta.get("text_field", "text")
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
    # the handle is kept drops that object, which closes the descriptor itself
    # (a descriptor opened first and then wrapped with os.fdopen was closed
    # twice there: the second close's EBADF hid the interrupt and the file).
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
