"""scripts/label_audit.py: how a labelled corpus labels the lines under a
section heading (small corpora written here; the real ones are not needed)."""

from __future__ import annotations

import json

from conftest import load_script, write_bytes

label_audit = load_script("label_audit")

PAGE_A = (
    "chrome\tHome\n\nheadline\tA title\n\nbody\tA sentence of the article.\n\n"
    "chrome\tRelated stories:\n\nteaser\tFirst other story\nteaser\tSecond other story\n"
    "chrome\tImprint\n"
).encode("utf-8")
PAGE_B = "chrome\tMeistgelesene Artikel\nchrome\tEin Titel\n\nbody\tEin Satz.\n".encode("utf-8")
PAGE_C = "body\tNo heading on this page.\n".encode("utf-8")


def test_counts_headings_and_the_lines_under_them(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    write_bytes(corpus / "one", "a.tsv", PAGE_A)
    write_bytes(corpus / "one", "b.tsv", PAGE_B)
    write_bytes(corpus / "one", "c.tsv", PAGE_C)
    out = tmp_path / "audit.json"
    assert label_audit.main(["one", "--corpus", str(corpus), "--following", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text("utf-8"))["corpora"]["one"]
    assert result["pages"] == 3 and result["pages_with_heading"] == 2
    assert result["headings"] == {"body": 0, "headline": 0, "caption": 0, "teaser": 0, "chrome": 2}
    # two lines after "Related stories:" (teasers), two after "Meistgelesene Artikel" (chrome, body)
    assert result["under"] == {"body": 1, "headline": 0, "caption": 0, "teaser": 2, "chrome": 1}
    table = capsys.readouterr().out
    assert "| one | 2 of 3 | 2 / 0 | 1 / 0 / 0 / 2 / 1 | 0.500 |" in table


def test_a_missing_corpus_is_a_one_line_error(tmp_path, capsys):
    assert label_audit.main(["nowhere", "--corpus", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such corpus folder" in err and err.count("\n") == 1
