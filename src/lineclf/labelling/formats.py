"""What a labelled page is written as: the output format of each kind of
input, and a page's formatted output."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..io import RECORD_FORMATS, format_jsonl, format_page_jsonl, format_page_text, format_text, format_tsv
from ..io.sources import TXT

FORMATS = ("tsv", "jsonl", "text")
#: Output file endings of each format (a page record's output is always JSON Lines).
OUTPUT_SUFFIXES = {"tsv": ".tsv", "jsonl": ".jsonl", "text": ".txt"}
#: What `text` output keeps when no labels are given: the article itself.
TEXT_KEEP = ("headline", "body")


def check_format(output_format: str | None) -> None:
    """Refuse an output format that is not one of FORMATS (None: each input's default)."""
    if output_format is not None and output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")


def page_format(requested: str | None, source_format: str = TXT) -> str:
    """The output format of an input's pages: the requested one, or by
    default tsv for dumps and jsonl for page records (JSON Lines, WET).

    tsv is refused for page records: it is the labelled format of one dump
    per file, and many pages in one file could not be told apart.
    """
    if requested is None:
        return "jsonl" if source_format in RECORD_FORMATS else "tsv"
    check_format(requested)
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


def format_prediction(doc, labels, proba, output_format: str | None, keep: Sequence[str] | None) -> str:
    """A page's output in a format (None: its default, see :func:`page_format`).

    A page record (a JSON Lines record or a WET page) gives one JSON object:
    labelled lines for jsonl, the cleaned text for text.
    """
    source_format = doc.meta.format
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
