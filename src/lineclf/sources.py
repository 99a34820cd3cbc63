"""Reading pages from every kind of input, lazily, one page at a time.

An input is a plain text dump (one page), a JSON Lines file (one page per
line), or a WARC/WET file (one page per WET ``conversion`` record), each
plain or compressed with gzip, bzip2 or xz. Compression is recognised by the
file's first bytes (or, failing that, by its name); the format by the name
(``.txt``, ``.jsonl``/``.ndjson``, ``.warc``/``.wet``, before any
``.gz``/``.bz2``/``.xz``), else by content: a WARC header, or a first line that
is a JSON object holding the text field. ``input_format`` overrides the guess.

:func:`iter_pages` turns inputs into a stream of :class:`Document` pages with
markers around each input and :class:`PageError` items for what cannot be
read, so that a batch reads, labels and writes one page (or one chunk of
pages) at a time and never holds a whole crawl file in memory. Nothing here
raises for bad data: errors travel in the stream, in input order, and the
caller decides whether to stop or skip.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import lzma
import os
import stat
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from .document import Document
from .errors import DataFormatError, InputWarning, LineclfError, UsageError
from .io import STDIN_NAME, decode_text, display_name, expand_inputs, open_input, read_dump, split_lines

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


# keyed by "-" (checked against the current sys.stdin, which tests swap) or a pipe's path
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


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SourceStart:
    """A marker in the page stream: the pages of ``source`` follow."""

    source: Source


@dataclass(frozen=True)
class SourceEnd:
    """A marker in the page stream: ``source`` is done. ``failed``: nothing of
    it could be read (no output should be written for it)."""

    source: Source
    failed: bool = False


@dataclass(frozen=True)
class PageError:
    """A page, or a whole input, that could not be read."""

    #: The page (``file:line``, ``file: record N``) or the input, as named in messages.
    name: str
    error: LineclfError
    #: True when nothing of the input could be read (it is then skipped whole).
    input_failed: bool = False


Item = Document | PageError | SourceStart | SourceEnd


@dataclass(frozen=True)
class RecordSettings:
    """How JSON Lines records are read: which field holds the page text, which its id."""

    text_field: str = DEFAULT_TEXT_FIELD
    id_field: str = DEFAULT_ID_FIELD
    encoding_errors: str = "strict"


def iter_pages(
    inputs: Sequence[str | Path | Source],
    input_format: str = "auto",
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    encoding_errors: str = "strict",
) -> Iterator[Item]:
    """Every page of every input, lazily: for each input a :class:`SourceStart`,
    its pages as :class:`Document` (or :class:`PageError` for one that cannot
    be read), and a :class:`SourceEnd`.

    A JSON Lines page's ``meta`` holds ``source``, ``format``, ``record`` (line
    number), ``id``, ``url`` (its ``url`` field, which also gives the page's
    ``site``), ``fields`` (the record without its text, id first: what the
    output passes through) and ``text_field``; a WET page's the same, with
    ``record`` its record number, ``id`` its WARC-Record-ID and ``url`` its
    WARC-Target-URI. Folders are expanded as by :func:`expand_sources`.
    """
    settings = RecordSettings(text_field, id_field, encoding_errors)
    for item in inputs:
        source = item if isinstance(item, Source) else None
        paths = [item] if source else expand_sources([item], input_format)
        for path in paths:
            source = source or detect_source(path, input_format, text_field)
            yield SourceStart(source)
            failed = False
            for page in read_source(source, settings):
                failed = failed or (isinstance(page, PageError) and page.input_failed)
                yield page
            yield SourceEnd(source, failed)
            source = None


def read_source(source: Source, settings: RecordSettings | None = None) -> Iterator[Document | PageError]:
    """The pages of one input (see :func:`iter_pages`)."""
    settings = settings or RecordSettings()
    if source.format == TXT:
        yield _read_dump_source(source, settings.encoding_errors)
        return
    reader = _jsonl_pages if source.format == JSONL else _warc_pages
    pages = 0
    try:
        with _open(source) as stream:
            for page in reader(source, stream, settings):
                pages += isinstance(page, Document)
                yield page
    except (LineclfError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        # the stream itself failed (cannot open, bad or cut compressed data):
        # nothing after this point can be read
        where = getattr(exc, "where", None) or source.name
        error = exc if isinstance(exc, LineclfError) else _stream_error(exc, where, source)
        # nothing read: the input is skipped whole, under its own name
        yield PageError(source.name if pages == 0 else where, error, input_failed=pages == 0)


def _read_dump_source(source: Source, encoding_errors: str) -> Document | PageError:
    try:
        if source.compression is None and not _is_stream(source.path):
            return read_dump(source.path, encoding_errors)
        with _open(source) as stream:
            data = stream.read()
    except LineclfError as exc:
        return PageError(source.name, exc, input_failed=True)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        return PageError(source.name, _stream_error(exc, source.name, source), input_failed=True)
    try:
        decoded = decode_text(data, source.name, encoding_errors)
    except LineclfError as exc:
        return PageError(source.name, exc, input_failed=True)
    lines, ends = split_lines(decoded.text)
    meta = {}
    if decoded.replaced_bytes:
        meta = {"replaced_bytes": decoded.replaced_bytes, "first_replaced_byte": decoded.first_replaced_byte}
    return Document(name=source.name, lines=tuple(lines), line_ends=tuple(ends), meta=meta)


@contextlib.contextmanager
def _open(source: Source) -> Iterator[BinaryIO]:
    """The input's bytes, decompressed."""
    if _is_stream(source.path):
        try:
            peeked = _peek(source.path)
        except OSError as exc:
            raise DataFormatError(f"{source.name}: cannot read: {exc.strerror}") from None
        if peeked.owned:  # a pipe is read once: forget it, and close it below
            _PEEKED.pop(str(source.path), None)
        raw, handle = peeked.stream, (peeked.origin if peeked.owned else None)
    else:
        handle = open_input(source.path, source.name)  # closed below
        raw = handle
    try:
        if source.compression is None:
            yield raw
        else:
            # closing the decompressor leaves ``raw`` open (closed below when it is ours)
            opener = {GZIP: lambda f: gzip.GzipFile(fileobj=f, mode="rb"), BZIP2: bz2.BZ2File, XZ: lzma.LZMAFile}
            with opener[source.compression](raw) as stream:
                yield stream
    finally:
        if handle is not None:
            handle.close()


def _stream_error(exc: BaseException, where: str, source: Source) -> DataFormatError:
    """One line for a failure of the stream itself."""
    kind = source.compression
    if isinstance(exc, EOFError):
        return DataFormatError(f"{where}: {kind or 'the'} data ends early; the file is cut short")
    if isinstance(exc, OSError) and exc.errno is not None:
        return DataFormatError(f"{where}: cannot read: {exc.strerror}")
    if kind:
        return DataFormatError(f"{where}: not valid {kind} data ({exc})")
    return DataFormatError(f"{where}: cannot read: {exc}")


def _located(exc: BaseException, where: str) -> BaseException:
    """Note where in the input a stream error happened (a page's name)."""
    exc.where = where  # type: ignore[attr-defined]
    return exc


def _jsonl_pages(source: Source, stream: BinaryIO, settings: RecordSettings) -> Iterator[Document | PageError]:
    number = 0
    while True:
        try:
            raw = stream.readline()
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise _located(exc, f"{source.name}:{number + 1}") from None
        if not raw:
            return
        number += 1
        if not raw.strip():
            continue  # a blank line between records (often the last one)
        where = f"{source.name}:{number}"
        try:
            yield _jsonl_document(raw, where, source, number, settings)
        except LineclfError as exc:
            yield PageError(where, exc)


def _jsonl_document(raw: bytes, where: str, source: Source, number: int, settings: RecordSettings) -> Document:
    decoded = decode_text(raw, where, settings.encoding_errors)
    text = decoded.text
    if number == 1:
        text = text.removeprefix("\ufeff")  # a byte order mark before the first record
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    return record_page(record, where, settings, source=source.name, number=number, decoded=decoded)


def record_page(
    record,
    name: str,
    settings: RecordSettings | None = None,
    *,
    source: str | None = None,
    number: int | None = None,
    decoded=None,
) -> Document:
    """A page from a JSON Lines record (a dict holding the page text in
    ``settings.text_field``); ``name`` names it in messages."""
    settings = settings or RecordSettings()
    if not isinstance(record, dict):
        raise DataFormatError(f"{name}: not a JSON object; a JSON Lines page is an object with the page text in '{settings.text_field}'")
    if settings.text_field not in record:
        raise DataFormatError(f"{name}: no '{settings.text_field}' field; name the page text's field with --text-field")
    page_text = record[settings.text_field]
    if not isinstance(page_text, str):
        raise DataFormatError(f"{name}: field '{settings.text_field}' is not a string")
    fields = {settings.id_field: record[settings.id_field]} if settings.id_field in record else {}
    fields.update((k, v) for k, v in record.items() if k not in (settings.text_field, settings.id_field))
    url = record.get(URL_FIELD) if isinstance(record.get(URL_FIELD), str) else None
    meta = {
        "source": source,
        "format": JSONL,
        "record": number,
        "id": record.get(settings.id_field),
        "url": url,
        "fields": fields,
        "text_field": settings.text_field,
    }
    return _page(name, page_text, url, meta, decoded)


def _page(name: str, text: str, url: str | None, meta: dict, decoded) -> Document:
    if decoded is not None and decoded.replaced_bytes:
        meta["replaced_bytes"] = decoded.replaced_bytes
        meta["first_replaced_byte"] = decoded.first_replaced_byte
    lines, ends = split_lines(text)
    return Document(name=name, lines=tuple(lines), line_ends=tuple(ends), site=site_of(url), meta=meta)


def site_of(url: str | None) -> str | None:
    """The host of a URL (lower-case, without a leading www.), or None."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def check_readers(sources: Iterable[Source]) -> None:
    """Refuse, before any work, inputs whose reader is not installed (warcio for WARC/WET)."""
    for source in sources:
        if source.format == WARC:
            try:
                import warcio  # noqa: F401
            except ImportError:
                raise UsageError(f"{source.name}: reading WARC/WET files needs warcio: pip install 'lineclf[warc]'") from None
            return


def _warc_pages(source: Source, stream: BinaryIO, settings: RecordSettings) -> Iterator[Document | PageError]:
    check_readers([source])
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    records = pages = 0
    archive = ArchiveIterator(stream)
    iterator = iter(archive)
    while True:
        where = f"{source.name}: record {records + 1}"
        complaints_before = archive.err_count
        try:
            # warcio writes its warnings to stderr; a library must not print
            with contextlib.redirect_stderr(io.StringIO()):
                record = next(iterator)
        except StopIteration:
            break
        except ArchiveLoadFailed as exc:
            raise DataFormatError(f"{where}: not a WARC record ({_first_line(exc)})") from None
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise _located(exc, where) from None
        records += 1
        if archive.err_count > complaints_before and records > 1:
            warnings.warn(
                f"{source.name}: record {records - 1}: not followed by a blank line; its Content-Length may be "
                "wrong and its text cut or run on",
                InputWarning,
                stacklevel=2,
            )
        if record.rec_type != WET_RECORD_TYPE:
            continue
        try:
            payload = record.raw_stream.read()
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise _located(exc, where) from None
        expected = record.length
        if expected is not None and len(payload) < expected:
            raise DataFormatError(f"{where}: cut short ({len(payload)} of {expected} bytes); the file is truncated")
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI")
        record_id = headers.get_header("WARC-Record-ID")
        try:
            decoded = decode_text(payload, where, settings.encoding_errors)
        except LineclfError as exc:
            yield PageError(where, exc)
            continue
        meta = {
            "source": source.name,
            "format": WARC,
            "record": records,
            "id": record_id,
            "url": url,
            "fields": {settings.id_field: record_id, URL_FIELD: url},
            "text_field": settings.text_field,
        }
        pages += 1
        yield _page(where, decoded.text, url, meta, decoded)
    if records and not pages:
        raise DataFormatError(
            f"{source.name}: holds {records} WARC record(s) but no WET '{WET_RECORD_TYPE}' record: lineclf labels "
            "text, so give it WET files (the text Common Crawl extracts), not WARC files of HTML"
        )


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
