"""Property tests (hypothesis): for arbitrary text, nothing is lost.

- predict labels every non-blank line exactly once and writes its text back
  unchanged, line ends included, whether a dump is labelled whole or (when
  it is huge) in pieces with long lines clipped for the model;
- a labelled file read and written again is byte-identical.

500 examples each; the tiny session model keeps them fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import labels_of_tsv_output
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineclf.io import decode_dump, format_tsv, parse_labelled, read_dump
from lineclf.labels import LABELS
from lineclf.labelling import predict_document

EXAMPLES = settings(
    max_examples=500,
    deadline=None,
    # the model fixture is session-wide and read only: sharing it between examples is fine
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any character UTF-8 can hold (no lone surrogates), but no NUL (that makes a
# file binary, refused on purpose), with the awkward ones made frequent: line
# ends, whitespace that is blank, characters other tools split lines on, a BOM.
_ANY = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_AWKWARD = st.sampled_from(["\n", "\r", "\r\n", " ", "\t", "\u00a0", "\ufeff", "\u2028", "\x0b", "\x0c", "\x1c", "\x85", "é", "a", "Z", "."])
dump_texts = st.lists(st.one_of(_ANY, _AWKWARD, _AWKWARD), max_size=120).map("".join)


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prop") / "page.txt"


@EXAMPLES
@given(text=dump_texts)
def test_predict_labels_each_non_blank_line_once_and_keeps_the_text(tiny_model, dump_file, text):
    dump_file.write_bytes(text.encode("utf-8"))
    doc = read_dump(dump_file)
    labels, proba = predict_document(tiny_model, doc)
    assert len(labels) == len(proba) == doc.n_units
    # the output has every line, its text and line end unchanged, one label per non-blank line
    assert labels_of_tsv_output(format_tsv(doc, labels), text) == list(labels)


@EXAMPLES
@given(text=dump_texts, limits=st.tuples(st.integers(1, 6), st.integers(1, 60), st.integers(1, 12)))
def test_labelling_in_pieces_loses_no_line(tiny_model, text, limits):
    # tiny limits stand in for a million lines or a 10 MB line
    piece_lines, piece_chars, max_line_chars = limits
    doc = read_dump_text(text)
    labels, proba = predict_document(
        tiny_model, doc, max_line_chars=max_line_chars, piece_lines=piece_lines, piece_chars=piece_chars
    )
    assert len(labels) == doc.n_units and proba.shape == (doc.n_units, len(LABELS))
    assert labels_of_tsv_output(format_tsv(doc, labels), text) == list(labels)


def read_dump_text(text: str):
    from lineclf.document import Document
    from lineclf.io import split_lines

    lines, ends = split_lines(decode_dump(text.encode("utf-8"), "page"))
    return Document(name="page", lines=tuple(lines), line_ends=tuple(ends))


# Labelled files: blank lines of any whitespace, and label<TAB>text lines whose
# text is anything without a line end (tabs included) that is not blank.
_LINE_CHAR = st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r\n")
_blank = st.text(alphabet=" \t\u00a0\u2028\x0b\x0c\u3000", max_size=4)
_text = st.lists(st.one_of(_LINE_CHAR, st.sampled_from(["\t", " ", "\ufeff", "\u00a0", "x"])), min_size=1, max_size=30).map("".join).filter(
    lambda t: t.strip() != ""
)
_labelled_line = st.one_of(_blank, st.builds(lambda label, text: f"{label}\t{text}", st.sampled_from(LABELS), _text))
labelled_files = st.builds(
    lambda rows, last_end: "".join(line + end for line, end in rows[:-1]) + (rows[-1][0] + last_end if rows else ""),
    st.lists(st.tuples(_labelled_line, st.sampled_from(["\n", "\r\n", "\r"])), max_size=25),
    st.sampled_from(["\n", "\r\n", "\r", ""]),
)


@EXAMPLES
@given(text=labelled_files)
def test_labelled_file_read_and_written_is_byte_identical(text):
    data = text.encode("utf-8")
    doc = parse_labelled(decode_dump(data, "page.tsv"), "page.tsv")
    written = format_tsv(doc, doc.labels).encode("utf-8")
    if not data or data.endswith((b"\n", b"\r")):
        assert written == data
    else:  # a last line without a line end is written with \n, and nothing else changes
        assert written == data + b"\n"
