"""Reading dumps: bytes to text (UTF-8, refusing what is not text), text to
lines, a page's text to a :class:`Document`.

Everything here is lossless: a line's text is kept exactly as it was read
(trailing spaces, tabs, no-break spaces, a byte order mark), and so is its
line end.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..document import Document, PageMeta
from ..errors import DataFormatError, UsageError

#: Name under which standard input appears in messages and output names.
STDIN_NAME = "stdin"
#: File suffixes picked up when a directory is given.
DUMP_SUFFIX = ".txt"

#: What to do with bytes that are not UTF-8: refuse the file, or replace each
#: such byte with U+FFFD and go on.
ENCODING_ERRORS = ("strict", "replace")

_LINE_END = re.compile(r"(\r\n|\r|\n)")
# what surrogateescape decodes each undecodable byte to
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


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


def page_document(name: str, decoded: Decoded, site: str | None = None, meta: PageMeta | None = None) -> Document:
    """A page from its decoded text: its lines, and in its ``meta`` the
    bytes that decoding replaced (on top of ``meta``'s own fields)."""
    meta = meta or PageMeta()
    if decoded.replaced_bytes:
        meta = dataclasses.replace(
            meta, replaced_bytes=decoded.replaced_bytes, first_replaced_byte=decoded.first_replaced_byte
        )
    lines, ends = split_lines(decoded.text)
    return Document(name=name, lines=tuple(lines), line_ends=tuple(ends), site=site, meta=meta)


def read_dump(path: str | Path, encoding_errors: str = "strict") -> Document:
    """Read one dump (a path, or ``-`` for standard input) into a Document.

    With ``encoding_errors="replace"``, bytes that are not UTF-8 become U+FFFD;
    the document's ``meta`` then counts them (``replaced_bytes``, ``first_replaced_byte``).
    """
    name = display_name(path)
    return page_document(name, decode_text(read_bytes(path), name, encoding_errors))
