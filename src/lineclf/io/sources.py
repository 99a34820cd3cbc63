"""What an input is: a plain text dump (one page), a JSON Lines file (one
page per line), or a WARC/WET file (one page per WET ``conversion`` record),
each plain or compressed with gzip, bzip2 or xz.

Compression is recognised by the file's first bytes (or, failing that, by its
name); the format by the name (``.txt``, ``.jsonl``/``.ndjson``,
``.warc``/``.wet``, before any ``.gz``/``.bz2``/``.xz``), else by content: a
WARC header, or a first line that is a JSON object holding the text field.
``input_format`` overrides the guess. Reading the pages is :mod:`.pages`.
"""

from __future__ import annotations

import bz2
import io
import json
import lzma
import os
import stat
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import UsageError
from .readers import STDIN_NAME, display_name, expand_inputs

#: Input formats: a dump (the page's text), JSON Lines (a page per line), WARC/WET (a page per conversion record).
TXT, JSONL, WARC = "txt", "jsonl", "warc"
INPUT_FORMATS = ("auto", TXT, JSONL, WARC)
#: Formats whose inputs hold many pages, each a record with an id and fields of its own.
RECORD_FORMATS = (JSONL, WARC)
#: File name endings of each format (before a compression ending).
FORMAT_SUFFIXES = {TXT: (".txt",), JSONL: (".jsonl", ".ndjson"), WARC: (".warc", ".wet")}

GZIP, BZIP2, XZ = "gzip", "bzip2", "xz"
#: Compression: the file name ending that names it.
COMPRESSION_SUFFIXES = {GZIP: ".gz", BZIP2: ".bz2", XZ: ".xz"}

#: How much of an input is read to recognise it: enough for any compression
#: header, a WARC version line, or a JSON Lines record of an ordinary page.
SNIFF_BYTES = 1 << 16
#: Where WARC (and so WET) files start.
WARC_SIGNATURE = b"WARC/"
#: The WET record type that holds a page's extracted text.
WET_RECORD_TYPE = "conversion"
#: Where a record's URL goes in the output (WET pages; a JSON Lines record's own
#: ``url`` field is read for the page's site).
URL_FIELD = "url"
DEFAULT_TEXT_FIELD = "text"
DEFAULT_ID_FIELD = "id"


def _gzip_magic(head: bytes) -> bool:
    return head.startswith(b"\x1f\x8b\x08")


def _bzip2_magic(head: bytes) -> bool:
    # 'BZh' and a block size digit, then a block (pi) or end-of-stream (sqrt pi)
    # marker: 'BZh' alone could begin a text dump
    return (
        head[:3] == b"BZh"
        and head[3:4] in [bytes([d]) for d in b"123456789"]
        and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
    )


def _xz_magic(head: bytes) -> bool:
    return head.startswith(b"\xfd7zXZ\x00")


_MAGIC = {GZIP: _gzip_magic, BZIP2: _bzip2_magic, XZ: _xz_magic}


# --------------------------------------------------------------------------- what an input is


@dataclass(frozen=True)
class Source:
    """One input: a file, or standard input (``path`` ``-``)."""

    path: str | Path
    #: The input as named in messages ("stdin" for standard input).
    name: str
    #: TXT, JSONL or WARC.
    format: str
    #: GZIP, BZIP2, XZ, or None.
    compression: str | None = None

    @property
    def rereadable(self) -> bool:
        """Whether the input can be read a second time (a file, not a pipe or standard input)."""
        return not _is_stream(self.path)

    @property
    def holds_records(self) -> bool:
        """Whether the input holds many pages, each a record (JSON Lines, WARC)."""
        return self.format in RECORD_FORMATS

    @property
    def stem(self) -> str:
        """The input's name without its format and compression endings, for output names."""
        if str(self.path) == "-":
            return STDIN_NAME
        name = Path(self.path).name
        suffix = COMPRESSION_SUFFIXES.get(self.compression or "", "")
        if suffix and name.lower().endswith(suffix):
            name = name[: -len(suffix)]
        stripped = _strip_format_suffixes(name)
        return stripped or Path(name).stem or name


def _strip_format_suffixes(name: str) -> str:
    """'a.warc.wet' -> 'a'; 'a.txt' -> 'a'; 'a.html' stays (its stem is taken by the caller)."""
    endings = tuple(s for suffixes in FORMAT_SUFFIXES.values() for s in suffixes)
    changed = True
    while changed:
        changed = False
        for ending in endings:
            if name.lower().endswith(ending) and len(name) > len(ending):
                name, changed = name[: -len(ending)], True
    return name


def _split_suffixes(name: str) -> tuple[str | None, str | None]:
    """(compression, format) as the file name says them, None where it says nothing."""
    lowered = name.lower()
    compression = next((c for c, s in COMPRESSION_SUFFIXES.items() if lowered.endswith(s)), None)
    if compression:
        lowered = lowered[: -len(COMPRESSION_SUFFIXES[compression])]
    fmt = next((f for f, suffixes in FORMAT_SUFFIXES.items() if lowered.endswith(suffixes)), None)
    return compression, fmt


def input_suffixes(input_format: str = "auto") -> tuple[str, ...]:
    """File name endings that a folder is searched for (the given format's, or all)."""
    formats = FORMAT_SUFFIXES if input_format == "auto" else {input_format: FORMAT_SUFFIXES[input_format]}
    plain = [s for suffixes in formats.values() for s in suffixes]
    return tuple(plain + [p + c for p in plain for c in COMPRESSION_SUFFIXES.values()])


def expand_sources(inputs: Iterable[str | Path], input_format: str = "auto") -> list[str | Path]:
    """Files as given (and ``-``), folders replaced by the inputs in them
    (recursive, sorted): files named like dumps, JSON Lines or WARC/WET files,
    compressed or not (only the given format's, with ``input_format``)."""
    _check_input_format(input_format)
    suffixes = input_suffixes(input_format)
    plain = ", ".join(s for s in suffixes if not s.endswith(tuple(COMPRESSION_SUFFIXES.values())))
    return expand_inputs(inputs, suffixes, f"input files ({plain}, each also .gz, .bz2 or .xz)")


def _check_input_format(input_format: str) -> None:
    if input_format not in INPUT_FORMATS:
        raise UsageError(f"unknown input format {input_format!r}; expected one of {', '.join(INPUT_FORMATS)}")


def detect_source(path: str | Path, input_format: str = "auto", text_field: str = DEFAULT_TEXT_FIELD) -> Source:
    """What an input is: its format and compression, from its first bytes and its name.

    Never raises for a file that cannot be read: it is then taken by its name,
    and reading it reports the error (so that ``--on-error skip`` can skip it).
    """
    _check_input_format(input_format)
    name = display_name(path)
    named_compression, named_format = (None, None) if str(path) == "-" else _split_suffixes(Path(path).name)
    try:
        head = _peek(path).head if _is_stream(path) else _read_head(Path(path))
    except OSError:
        head = b""
    compression = next((c for c, magic in _MAGIC.items() if magic(head)), None) or named_compression
    if input_format != "auto":
        return Source(path, name, input_format, compression)
    fmt = named_format or _sniff_format(_decompress_head(head, compression), text_field)
    return Source(path, name, fmt, compression)


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def _decompress_head(head: bytes, compression: str | None) -> bytes:
    """The start of the decompressed data (as much as the head holds; b'' if it is not valid)."""
    if compression is None:
        return head
    decompressor = {
        GZIP: lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
        BZIP2: bz2.BZ2Decompressor,
        XZ: lzma.LZMADecompressor,
    }[compression]()
    try:
        return decompressor.decompress(head, SNIFF_BYTES)
    except (zlib.error, OSError, lzma.LZMAError, EOFError):
        return b""


def _sniff_format(head: bytes, text_field: str) -> str:
    """WARC by its version line; JSON Lines when the first line is a JSON
    object holding the text field as a string; else a dump."""
    if head.startswith(WARC_SIGNATURE):
        return WARC
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"{"):
        first, newline, _ = stripped.partition(b"\n")
        if newline:
            try:
                record = json.loads(first.decode("utf-8"))
            except ValueError:  # not UTF-8, or not JSON
                return TXT
            if isinstance(record, dict) and isinstance(record.get(text_field), str):
                return JSONL
    return TXT


# --------------------------------------------------------------------------- standard input and pipes


class _Rewound(io.RawIOBase):
    """A stream that gives back bytes already read from it (its head) before the rest."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = bytearray(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            del self._head[:n]
            return n
        read = getattr(self._rest, "read1", self._rest.read)
        data = read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class _Peeked:
    """A stream that can be read only once (standard input, a pipe such as
    ``<(zcat pages.jsonl.gz)``), with its first bytes read to recognise it and
    given back when it is read."""

    origin: BinaryIO
    head: bytes
    stream: BinaryIO
    #: Whether lineclf opened it (and so closes it when read).
    owned: bool

    @classmethod
    def read(cls, origin: BinaryIO, owned: bool) -> _Peeked:
        head = b""
        while len(head) < SNIFF_BYTES:
            block = origin.read(SNIFF_BYTES - len(head))
            if not block:
                break
            head += block
        return cls(origin, head, io.BufferedReader(_Rewound(head, origin)), owned)


# A stream can be read once, and recognising it reads its head: the head is
# kept here, for the process, until the stream is read, keyed by "-" (checked
# against the current sys.stdin, which tests swap) or a pipe's path.
_PEEKED: dict[str, _Peeked] = {}


def _is_stream(path: str | Path) -> bool:
    """Standard input, or a path that is not a regular file (a pipe)."""
    if str(path) == "-":
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _peek(path: str | Path) -> _Peeked:
    key = str(path)
    if key == "-":
        buffer = getattr(sys.stdin, "buffer", sys.stdin)
        entry = _PEEKED.get(key)
        if entry is None or entry.origin is not buffer:
            entry = _PEEKED[key] = _Peeked.read(buffer, owned=False)
        return entry
    if key not in _PEEKED:
        _PEEKED[key] = _Peeked.read(open(path, "rb"), owned=True)  # noqa: SIM115 -- closed once read
    return _PEEKED[key]


def _forget_peeked(path: str | Path) -> None:
    """Drop a pipe that has been read (it cannot be read again)."""
    _PEEKED.pop(str(path), None)
