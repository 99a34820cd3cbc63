"""The labelled research corpus in ../shared/corpus (skipped where it is not available)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from lineclf.io import format_tsv, read_labelled_corpus, read_manifest


@pytest.fixture(scope="module")
def gn1(corpus_dir):
    return read_labelled_corpus([corpus_dir / "gn1"], [corpus_dir / "gn1-manifest.tsv"])


def test_gn1_has_501_documents_all_with_sites(gn1, corpus_dir):
    assert len(gn1) == 501
    assert all(doc.site for doc in gn1)
    manifest = read_manifest(corpus_dir / "gn1-manifest.tsv")
    assert {doc.site for doc in gn1} == set(manifest.values())


def test_web_manifest_gives_every_page_its_site(corpus_dir):
    web = read_labelled_corpus([corpus_dir / "web"], [corpus_dir / "web-manifest.tsv"])
    assert len(web) == 173
    # one page per site (the corpus README), and the site is not the language column
    assert len({doc.site for doc in web}) == 173
    assert not {doc.site for doc in web} & {"en", "de"}
    counts = Counter(label for doc in web for label in doc.labels)
    assert counts == {"chrome": 22399, "body": 7700, "teaser": 4571, "caption": 1061, "headline": 209}


def test_gn1_label_counts_match_its_readme(gn1):
    counts = Counter(label for doc in gn1 for label in doc.labels)
    assert counts == {"chrome": 45766, "body": 6670, "caption": 1245, "headline": 565, "teaser": 362}


def test_gn1_formats_back_to_its_file_bytes(gn1):
    changed = [doc.name for doc in gn1 if format_tsv(doc, doc.labels).encode("utf-8") != Path(doc.name).read_bytes()]
    assert changed == []
