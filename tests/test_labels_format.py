"""The labelled format (label<TAB>text), its labels, and its error messages."""

from __future__ import annotations

import re

import pytest

from conftest import SEED_TSV, SEED_TXT, write_bytes
from lineclf.document import Document
from lineclf.errors import DataFormatError
from lineclf.io import format_tsv, parse_labelled, read_dump, read_labelled
from lineclf.labels import CONTENT_LABELS, LABELS, Label, parse_label, parse_label_list


def test_labels_are_the_five_in_fixed_order():
    assert LABELS == ("body", "headline", "caption", "teaser", "chrome")
    assert [str(label) for label in Label] == list(LABELS)
    assert set(CONTENT_LABELS) == {"body", "headline", "caption"}


@pytest.mark.parametrize("name", LABELS)
def test_parse_label_accepts_each_label(name):
    assert parse_label(name) == name


@pytest.mark.parametrize("name", ["Body", "BODY", " body", "body ", "bodY", "", "boilerplate", "\ufeffbody"])
def test_parse_label_refuses_anything_inexact(name):
    with pytest.raises(DataFormatError, match="unknown label"):
        parse_label(name)


def test_parse_label_hints_at_the_lower_case_spelling():
    with pytest.raises(DataFormatError, match="write it as 'headline'"):
        parse_label(" Headline")


def test_parse_label_list():
    assert parse_label_list("body, headline,,") == ("body", "headline")
    with pytest.raises(DataFormatError, match="empty label list"):
        parse_label_list(" , ")
    with pytest.raises(DataFormatError, match="unknown label"):
        parse_label_list("body,Chrome")


# --------------------------------------------------------------------------- parsing


def test_parse_labelled_keeps_blank_lines_and_tabs_in_text():
    text = "chrome\tHome\n\n  \nbody\tcol1\tcol2 \nheadline\t\tindented\r\n"
    doc = parse_labelled(text, "page.tsv")
    assert doc.lines == ("Home", "", "  ", "col1\tcol2 ", "\tindented")
    assert doc.line_ends == ("\n", "\n", "\n", "\n", "\r\n")
    assert doc.labels == ("chrome", "body", "headline")
    assert doc.name == "page.tsv"


def test_parse_labelled_last_line_without_newline():
    doc = parse_labelled("body\tlast", "p.tsv")
    assert doc.lines == ("last",) and doc.line_ends == ("",)


BAD_FILES = {
    "unknown-label": ("body\tFine.\nnews\tText here\n", 2),
    "capitalised-label": ("chrome\tHome\n\nBody\tText here\n", 3),
    "label-leading-space": (" body\tText here\n", 1),
    "label-trailing-space": ("chrome\tHome\nbody \tText here\n", 2),
    "upper-case-label": ("BODY\tText here\n", 1),
    "no-tab": ("body\tFine.\nbody Text without tab\n", 2),
    "no-tab-crlf": ("body\tFine.\r\n\r\nText only\r\n", 3),
    "empty-text": ("chrome\tHome\nbody\t\n", 2),
    "whitespace-text": ("body\t   \n", 1),
    "leading-tab": ("\tText without label\n", 1),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_parse_labelled_errors_start_with_name_and_line(case):
    text, lineno = BAD_FILES[case]
    with pytest.raises(DataFormatError) as info:
        parse_labelled(text, "page.tsv")
    assert str(info.value).startswith(f"page.tsv:{lineno}: ")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Body\tText\n", "write it as 'body'"),
        ("body \tText\n", "write it as 'body'"),
        ("body Text\n", "no tab"),
        ("caption\t\n", "no text"),
    ],
)
def test_parse_labelled_errors_say_what_is_wrong(text, fragment):
    with pytest.raises(DataFormatError, match=re.escape(fragment)):
        parse_labelled(text, "page.tsv")


def test_read_labelled_error_names_the_file(tmp_path):
    path = write_bytes(tmp_path, "bad.tsv", b"chrome\tHome\n\nBody\tText\n")
    with pytest.raises(DataFormatError) as info:
        read_labelled(path)
    assert str(info.value).startswith(f"{path}:3: ")


def test_read_labelled_refuses_non_utf8(tmp_path):
    path = write_bytes(tmp_path, "bad.tsv", b"body\tna\xefve\n")
    with pytest.raises(DataFormatError, match="byte 7"):
        read_labelled(path)


def test_read_labelled_sets_site(tmp_path):
    path = write_bytes(tmp_path, "p.tsv", b"body\tText.\n")
    assert read_labelled(path, site="example.com").site == "example.com"
    assert read_labelled(path).site is None


# --------------------------------------------------------------------------- documents


def test_document_refuses_wrong_number_of_labels():
    with pytest.raises(ValueError, match="2 labels for 1 non-blank lines"):
        Document.from_lines(["one", ""], labels=["body", "body"])


def test_document_refuses_mismatched_line_ends():
    with pytest.raises(ValueError):
        Document(name="x", lines=("a", "b"), line_ends=("\n",))


def test_document_blank_line_counts():
    doc = Document.from_lines(["", "", "a", "b", " ", "c", "", ""])
    assert doc.unit_index.tolist() == [2, 3, 5]
    assert doc.units == ["a", "b", "c"]
    assert doc.blank_before.tolist() == [2, 0, 1]
    assert doc.blank_after.tolist() == [0, 1, 2]


def test_with_labels_keeps_everything_else():
    doc = Document(name="n", lines=("a", "", "b"), line_ends=("\r\n", "\r\n", ""), site="s")
    labelled = doc.with_labels(["body", "chrome"])
    assert labelled.labels == ("body", "chrome")
    assert (labelled.lines, labelled.line_ends, labelled.site) == (doc.lines, doc.line_ends, "s")


# --------------------------------------------------------------------------- the German example


def test_seed_example_is_the_labelled_dump(seed_doc):
    dump = read_dump(SEED_TXT)
    assert dump.lines == seed_doc.lines
    assert seed_doc.n_units == 24
    assert seed_doc.labels.count("teaser") == 12


def test_seed_example_formats_back_to_its_bytes(seed_doc):
    assert format_tsv(seed_doc, seed_doc.labels).encode("utf-8") == SEED_TSV.read_bytes()


def test_seed_dump_plus_labels_gives_the_labelled_file_text(seed_doc):
    dump = read_dump(SEED_TXT)
    assert format_tsv(dump, seed_doc.labels) == SEED_TSV.read_text("utf-8")


def test_partial_labels_are_read_only_when_asked_for():
    text = "content\tA sentence of the article.\nnoise\tHome | News\nbody\tMore of it.\n"
    with pytest.raises(DataFormatError, match=r"t\.tsv:1: partial label 'content' \(one of body, headline, caption\)"):
        parse_labelled(text, "t.tsv")
    doc = parse_labelled(text, "t.tsv", partial=True)
    assert doc.labels == ("content", "noise", "body")
    with pytest.raises(DataFormatError, match="unknown label 'Content'"):
        parse_labelled("Content\tx\n", "t.tsv", partial=True)
