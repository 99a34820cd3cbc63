"""Reading inputs and writing outputs.

- :mod:`.readers`: bytes to text to a :class:`~lineclf.document.Document`;
- :mod:`.labelled`: labelled files (``label<TAB>text``), manifests, corpora;
- :mod:`.sources`: what an input is (format, compression, standard input);
- :mod:`.pages`: the pages of any input, as a lazy stream;
- :mod:`.writers`: output formats, and files written atomically.
"""

from __future__ import annotations

from .labelled import LABELLED_SUFFIX, expand_inputs, parse_labelled, read_labelled, read_labelled_corpus, read_manifest
from .pages import (
    PageError,
    RecordSettings,
    SourceEnd,
    SourceStart,
    check_readers,
    iter_pages,
    read_source,
    record_page,
    site_of,
)
from .readers import (
    DUMP_SUFFIX,
    ENCODING_ERRORS,
    STDIN_NAME,
    Decoded,
    decode_dump,
    decode_text,
    display_name,
    open_input,
    page_document,
    read_bytes,
    read_dump,
    split_lines,
)
from .sources import INPUT_FORMATS, RECORD_FORMATS, Source, detect_source, expand_sources
from .writers import (
    PAGE_LINES_KEY,
    PROBA_DIGITS,
    atomic_writer,
    check_output_path,
    format_jsonl,
    format_page_jsonl,
    format_page_text,
    format_text,
    format_tsv,
    probe_folder,
)

__all__ = [
    "DUMP_SUFFIX",
    "ENCODING_ERRORS",
    "INPUT_FORMATS",
    "LABELLED_SUFFIX",
    "PAGE_LINES_KEY",
    "PROBA_DIGITS",
    "RECORD_FORMATS",
    "STDIN_NAME",
    "Decoded",
    "PageError",
    "RecordSettings",
    "Source",
    "SourceEnd",
    "SourceStart",
    "atomic_writer",
    "check_output_path",
    "check_readers",
    "decode_dump",
    "decode_text",
    "detect_source",
    "display_name",
    "expand_inputs",
    "expand_sources",
    "format_jsonl",
    "format_page_jsonl",
    "format_page_text",
    "format_text",
    "format_tsv",
    "iter_pages",
    "open_input",
    "page_document",
    "parse_labelled",
    "probe_folder",
    "read_bytes",
    "read_dump",
    "read_labelled",
    "read_labelled_corpus",
    "read_manifest",
    "read_source",
    "record_page",
    "site_of",
    "split_lines",
]
