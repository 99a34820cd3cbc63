"""Reading pages from every kind of input, lazily, one page at a time.

:func:`iter_pages` turns inputs (see :mod:`.sources`) into a stream of
:class:`Document` pages with markers around each input and
:class:`PageError` items for what cannot be read, so that a batch reads,
labels and writes one page (or one task of pages) at a time and never holds
a whole crawl file in memory. Nothing here raises for bad data: errors
travel in the stream, in input order, and the caller decides whether to
stop or skip.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import lzma
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from ..document import Document, PageMeta
from ..errors import DataFormatError, InputWarning, LineclfError, UsageError
from .readers import Decoded, decode_text, open_input, page_document, read_dump
from .sources import (
    DEFAULT_ID_FIELD,
    DEFAULT_TEXT_FIELD,
    BZIP2,
    GZIP,
    JSONL,
    TXT,
    URL_FIELD,
    WARC,
    WET_RECORD_TYPE,
    XZ,
    Source,
    _forget_peeked,
    _is_stream,
    _peek,
    detect_source,
    expand_sources,
)


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

    A JSON Lines page's ``meta`` (a :class:`~lineclf.document.PageMeta`) holds ``source``, ``format``, ``record`` (line
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
    return page_document(source.name, decoded)


@contextlib.contextmanager
def _open(source: Source) -> Iterator[BinaryIO]:
    """The input's bytes, decompressed."""
    if _is_stream(source.path):
        try:
            peeked = _peek(source.path)
        except OSError as exc:
            raise DataFormatError(f"{source.name}: cannot read: {exc.strerror}") from None
        if peeked.owned:  # a pipe is read once: forget it, and close it below
            _forget_peeked(source.path)
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
    meta = PageMeta(
        format=JSONL,
        source=source,
        record=number,
        id=record.get(settings.id_field),
        url=url,
        fields=fields,
        text_field=settings.text_field,
    )
    return _page(name, page_text, url, meta, decoded)


def _page(name: str, text: str, url: str | None, meta: PageMeta, decoded: Decoded | None) -> Document:
    """A page record's page; ``decoded``: what decoding its record replaced."""
    replaced = Decoded(text) if decoded is None else Decoded(text, decoded.replaced_bytes, decoded.first_replaced_byte)
    return page_document(name, replaced, site_of(url), meta)


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
        meta = PageMeta(
            format=WARC,
            source=source.name,
            record=records,
            id=record_id,
            url=url,
            fields={settings.id_field: record_id, URL_FIELD: url},
            text_field=settings.text_field,
        )
        pages += 1
        yield _page(where, decoded.text, url, meta, decoded)
    if records and not pages:
        raise DataFormatError(
            f"{source.name}: holds {records} WARC record(s) but no WET '{WET_RECORD_TYPE}' record: lineclf labels "
            "text, so give it WET files (the text Common Crawl extracts), not WARC files of HTML"
        )


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
