"""scripts/main_text_to_tsv.py: turku-quality's texts as partially labelled files
that `lineclf train` reads (a small turku-style file made here; the real
corpus is not needed)."""

from __future__ import annotations

import json

from conftest import REPO_ROOT, load_script

from lineclf.io import read_labelled_corpus

main_text_to_tsv = load_script("main_text_to_tsv")

TEXTS = [
    {"text": ["Menu | Login", "The council met on Monday and approved the budget.", "  Share this\tpage "], "labels": [0, 1, "0"]},
    {"text": ["A second text with one sentence of content."], "labels": ["1"]},
]


def test_turku_texts_become_partially_labelled_files(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    for language in ("de", "fi"):
        folder = corpus / "turku-quality" / language
        folder.mkdir(parents=True)
        (folder / "train.json").write_text(json.dumps(TEXTS), encoding="utf-8")
    out = tmp_path / "out"
    assert main_text_to_tsv.main([str(out), "--corpus", str(corpus), "--languages", "de,fi"]) == 0
    assert "wrote 4 files" in capsys.readouterr().err
    docs = read_labelled_corpus([out], partial=True)
    assert [d.name.split("/")[-1] for d in docs] == ["de-0000.tsv", "de-0001.tsv", "fi-0000.tsv", "fi-0001.tsv"]
    assert docs[0].labels == ("noise", "content", "noise")
    assert docs[0].units == TEXTS[0]["text"]  # byte for byte, spaces and tab included


def test_refuses_to_write_into_the_repository(capsys):
    assert main_text_to_tsv.main([str(REPO_ROOT / "turku-out")]) == 2
    assert "inside the repository" in capsys.readouterr().err
    assert not (REPO_ROOT / "turku-out").exists()
