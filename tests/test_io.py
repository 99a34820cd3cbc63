"""Reading dumps losslessly, refusing what is not text, and writing outputs."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import unit_texts, write_bytes
from lineclf.document import Document
from lineclf.errors import DataFormatError, UsageError
from lineclf.io import (
    atomic_writer,
    expand_inputs,
    format_jsonl,
    format_text,
    format_tsv,
    parse_labelled,
    read_dump,
    read_labelled_corpus,
    read_manifest,
    split_lines,
)
from lineclf.labels import LABELS

# name -> (file bytes, expected line texts, expected line ends)
AWKWARD_DUMPS = {
    "trailing-spaces": (b"Hello world   \nNext line\t \n", ["Hello world   ", "Next line\t "], ["\n", "\n"]),
    "no-break-spaces": (
        "Preis:\u00a0100\u00a0€\n\u00a0indented\n".encode(),
        ["Preis:\u00a0100\u00a0€", "\u00a0indented"],
        ["\n", "\n"],
    ),
    "tabs-inside": (b"col1\tcol2\tcol3\n\tleading tab\n", ["col1\tcol2\tcol3", "\tleading tab"], ["\n", "\n"]),
    "no-final-newline": (b"first\nlast", ["first", "last"], ["\n", ""]),
    "crlf": (b"one\r\n\r\ntwo\r\n", ["one", "", "two"], ["\r\n", "\r\n", "\r\n"]),
    "cr-only": (b"one\rtwo\r", ["one", "two"], ["\r", "\r"]),
    "mixed-ends": (b"a\r\nb\rc\n\nd", ["a", "b", "c", "", "d"], ["\r\n", "\r", "\n", "\n", ""]),
    "whitespace-only-lines": (
        "a\n   \n\t\n\u00a0\nb\n".encode(),
        ["a", "   ", "\t", "\u00a0", "b"],
        ["\n"] * 5,
    ),
    "formfeed-and-separators-inside": (
        "page\x0cbreak\u2028same line\x85still\x0bsame\u2029end\n".encode(),
        ["page\x0cbreak\u2028same line\x85still\x0bsame\u2029end"],
        ["\n"],
    ),
    "utf8-bom": (b"\xef\xbb\xbfTitle\nBody text.\n", ["\ufeffTitle", "Body text."], ["\n", "\n"]),
    "blank-last-line-without-newline": (b"a\n  ", ["a", "  "], ["\n", ""]),
    "empty": (b"", [], []),
}


def cycle_labels(doc: Document) -> list[str]:
    """One label per unit, cycling through all five."""
    return [LABELS[k % len(LABELS)] for k in range(doc.n_units)]


@pytest.fixture(params=sorted(AWKWARD_DUMPS))
def awkward(request, tmp_path):
    data, lines, ends = AWKWARD_DUMPS[request.param]
    path = write_bytes(tmp_path, f"{request.param}.txt", data)
    return data, lines, ends, read_dump(path)


# --------------------------------------------------------------------------- reading dumps


def test_read_dump_keeps_each_line_and_its_end(awkward):
    data, lines, ends, doc = awkward
    assert list(doc.lines) == lines
    assert list(doc.line_ends) == ends


def test_read_dump_reassembles_to_the_original_bytes(awkward):
    data, _, _, doc = awkward
    assert "".join(t + e for t, e in zip(doc.lines, doc.line_ends)).encode("utf-8") == data


def test_units_are_exactly_the_non_blank_lines(awkward):
    _, lines, _, doc = awkward
    assert unit_texts(doc) == [line for line in lines if line.strip()]


def test_format_tsv_keeps_every_line_text_byte_for_byte(awkward):
    _, lines, ends, doc = awkward
    labels = cycle_labels(doc)
    out = format_tsv(doc, labels).encode("utf-8")
    # every written line ends with its own line end, a missing last one with \n
    expected = b""
    units = iter(labels)
    for text, end in zip(lines, ends):
        prefix = "" if not text.strip() else next(units) + "\t"
        expected += (prefix + text + (end or "\n")).encode("utf-8")
    assert out == expected


def test_parse_labelled_inverts_format_tsv(awkward):
    _, _, _, doc = awkward
    labels = cycle_labels(doc)
    parsed = parse_labelled(format_tsv(doc, labels), "round-trip.tsv")
    assert parsed.lines == doc.lines
    assert list(parsed.labels) == labels
    assert [e or "\n" for e in doc.line_ends] == list(parsed.line_ends)


def test_formfeed_and_unicode_separators_do_not_split_lines():
    lines, ends = split_lines("a\x0cb\u2028c\x1cd\x85e\nf")
    assert lines == ["a\x0cb\u2028c\x1cd\x85e", "f"]
    assert ends == ["\n", ""]


def test_bom_stays_in_the_first_unit_text(tmp_path):
    doc = read_dump(write_bytes(tmp_path, "bom.txt", b"\xef\xbb\xbfTitle\n"))
    assert doc.units == ["\ufeffTitle"]
    assert format_tsv(doc, ["headline"]).encode() == b"headline\t\xef\xbb\xbfTitle\n"


def test_empty_file_has_no_lines_and_no_units(tmp_path):
    doc = read_dump(write_bytes(tmp_path, "empty.txt", b""))
    assert doc.lines == () and doc.n_units == 0
    assert format_tsv(doc, []) == ""


def test_whitespace_only_file_has_lines_but_no_units(tmp_path):
    doc = read_dump(write_bytes(tmp_path, "blank.txt", b" \n\t\n\n"))
    assert len(doc.lines) == 3
    assert doc.n_units == 0


def test_non_utf8_bytes_are_refused_with_the_byte_offset(tmp_path):
    path = write_bytes(tmp_path, "latin1.txt", b"ok line\nbad \xff here\n")
    with pytest.raises(DataFormatError, match=r"byte 12\b") as info:
        read_dump(path)
    assert str(path) in str(info.value)
    assert "UTF-8" in str(info.value)


def test_truncated_multibyte_sequence_is_refused(tmp_path):
    path = write_bytes(tmp_path, "cut.txt", "Grüß".encode()[:-1])  # ß is bytes 4-5
    with pytest.raises(DataFormatError, match=r"byte 4\b"):
        read_dump(path)


def test_nul_bytes_are_refused_as_binary(tmp_path):
    path = write_bytes(tmp_path, "binary.txt", b"PK\x03\x04\x00\x00text")
    with pytest.raises(DataFormatError, match="binary") as info:
        read_dump(path)
    assert "byte 4" in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_text_is_refused(tmp_path, encoding):
    data = "Hello\n".encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # add the BOM these codecs leave out
        data = ("\ufeff" + "Hello\n").encode(encoding)
    path = write_bytes(tmp_path, "wide.txt", data)
    with pytest.raises(DataFormatError):
        read_dump(path)


def test_utf16_bom_message_names_the_encoding(tmp_path):
    path = write_bytes(tmp_path, "wide.txt", "Hello\n".encode("utf-16"))
    with pytest.raises(DataFormatError, match="UTF-16"):
        read_dump(path)


def test_missing_file_and_directory_are_data_format_errors(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        read_dump(tmp_path / "missing.txt")
    with pytest.raises(DataFormatError, match="directory"):
        read_dump(tmp_path)


def test_read_dump_from_stdin(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(b"From stdin\r\n\r\nsecond"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    doc = read_dump("-")
    assert doc.name == "stdin"
    assert doc.lines == ("From stdin", "", "second")
    assert doc.line_ends == ("\r\n", "\r\n", "")


# --------------------------------------------------------------------------- inputs and manifests


def test_expand_inputs_finds_dumps_recursively_in_order(tmp_path):
    for name in ["b.txt", "a.txt", "sub/c.txt", "notes.md"]:
        write_bytes(tmp_path / "in", name, b"x\n")
    single = write_bytes(tmp_path, "single.txt", b"x\n")
    found = expand_inputs([single, tmp_path / "in", "-"], ".txt")
    assert found[0] == single
    assert [Path(p).relative_to(tmp_path / "in").as_posix() for p in found[1:-1]] == ["a.txt", "b.txt", "sub/c.txt"]
    assert found[-1] == "-"


def test_expand_inputs_refuses_empty_directory_and_missing_path(tmp_path):
    # pointing lineclf at the wrong place is a usage error (exit 2), not bad data
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no .txt files"):
        expand_inputs([tmp_path / "empty"], ".txt")
    with pytest.raises(UsageError, match="no such file"):
        expand_inputs([tmp_path / "nope"], ".txt")


def test_read_manifest_maps_stems_to_sites(tmp_path):
    path = write_bytes(tmp_path, "m.tsv", b"p1\tsite-a.com\thttp://a/1\np2\tsite-b.com\n\n")
    assert read_manifest(path) == {"p1": "site-a.com", "p2": "site-b.com"}


def test_read_manifest_with_a_language_column_takes_the_site_before_the_url(tmp_path):
    path = write_bytes(tmp_path, "m.tsv", b"p1\ten\tsite-a.com\thttps://a/1\np2\tde\tsite-b.de\n")
    assert read_manifest(path) == {"p1": "site-a.com", "p2": "site-b.de"}


def test_read_manifest_refuses_line_without_site(tmp_path):
    for bad in (b"p2\n", b"p2\thttps://b/2\n", b"\tsite-b.com\n"):
        path = write_bytes(tmp_path, "m.tsv", b"p1\tsite-a.com\n" + bad)
        with pytest.raises(DataFormatError, match=r"^.*m\.tsv:2:"):
            read_manifest(path)


def test_read_labelled_corpus_takes_sites_from_manifest(tmp_path):
    write_bytes(tmp_path / "data", "p1.tsv", b"body\tOne.\n")
    write_bytes(tmp_path / "data", "p2.tsv", b"chrome\tHome\n")
    manifest = write_bytes(tmp_path, "m.tsv", b"p1\tsite-a.com\n")
    docs = read_labelled_corpus([tmp_path / "data"], [manifest])
    assert [Path(d.name).name for d in docs] == ["p1.tsv", "p2.tsv"]
    assert [d.site for d in docs] == ["site-a.com", None]
    assert [d.labels for d in docs] == [("body",), ("chrome",)]


# --------------------------------------------------------------------------- writers


@pytest.fixture
def small_doc() -> Document:
    lines = ["Menu", "", "Headline", "", "", "First paragraph.", "Second paragraph.", "", "Footer"]
    return Document(name="small", lines=tuple(lines), line_ends=("\n",) * 8 + ("",))


SMALL_LABELS = ["chrome", "headline", "body", "body", "chrome"]


def test_format_tsv_keep_drops_other_units_but_keeps_blank_lines(small_doc):
    out = format_tsv(small_doc, SMALL_LABELS, keep=("body",))
    assert out == "\n\n\nbody\tFirst paragraph.\nbody\tSecond paragraph.\n\n"


def test_format_text_keeps_lines_and_one_blank_between_blocks(small_doc):
    out = format_text(small_doc, SMALL_LABELS, keep=("headline", "body"))
    assert out == "Headline\n\nFirst paragraph.\nSecond paragraph.\n"


def test_format_text_without_kept_lines_is_empty(small_doc):
    assert format_text(small_doc, SMALL_LABELS, keep=("teaser",)) == ""


def test_format_jsonl_one_record_per_unit(small_doc):
    proba = np.tile([0.5, 0.2, 0.1, 0.1, 0.1], (small_doc.n_units, 1))
    records = [json.loads(line) for line in format_jsonl(small_doc, SMALL_LABELS, proba).splitlines()]
    assert [r["line"] for r in records] == [1, 3, 6, 7, 9]
    assert [r["text"] for r in records] == small_doc.units
    assert [r["label"] for r in records] == SMALL_LABELS
    assert records[0]["proba"] == dict(zip(LABELS, [0.5, 0.2, 0.1, 0.1, 0.1]))
    assert {r["doc"] for r in records} == {"small"}


def test_format_jsonl_keeps_non_ascii_text_unescaped():
    doc = Document.from_lines(["Grüße\u00a0aus Köln"])
    out = format_jsonl(doc, ["body"], np.full((1, 5), 0.2))
    assert "Grüße\u00a0aus Köln" in out


def test_atomic_writer_replaces_file_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")
    with atomic_writer(target) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_writer_leaves_existing_file_alone_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write(b"partial")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
