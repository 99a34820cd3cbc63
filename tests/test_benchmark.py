"""scripts/benchmark.py: the C4 rule and the jusText wrapper give one label per
line, and the peers-only benchmark runs on a few corpus pages (skipped where
jusText or the research corpus is not available)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CORPUS, REPO_ROOT, load_script

SCRIPT = REPO_ROOT / "scripts" / "benchmark.py"
#: Pages per corpus and documents per turku language in the corpus run: enough
#: for every fold to hold a page, small enough to take seconds.
FEW = 5


benchmark = load_script("benchmark")

PAGE = [
    "Home | News | Sport | Login",
    "Council approves the new harbour budget",
    (
        "The council approved the budget for the harbour district late on Monday, after a long debate "
        "in which most of the members spoke in favour of the plan and of the new jobs that it should bring "
        "to the people who live and work in the town."
    ),
    "Enable JavaScript to see the comments.",
    "Lorem ipsum dolor sit amet.",
    "var x = {a: 1};",
    "Mayor: “It was the right decision for the town.”",
    "Too short.",
    "© 2024 Example News",
]


@pytest.fixture
def justext_stoplist():
    pytest.importorskip("justext", reason="jusText is a benchmark extra: pip install -e '.[bench]'")
    return benchmark.load_stoplist("English")


def test_c4_rule_labels_each_line():
    assert benchmark.c4_labels(PAGE) == [
        "chrome",  # no terminal mark
        "chrome",  # no terminal mark
        "body",
        "chrome",  # javascript
        "chrome",  # lorem ipsum
        "chrome",  # {
        "body",  # ends in a typographic closing quote
        "chrome",  # two words
        "chrome",
    ]


def test_justext_gives_one_label_per_line(justext_stoplist):
    labels = benchmark.justext_labels(PAGE, justext_stoplist)
    assert len(labels) == len(PAGE)
    assert set(labels) <= {"body", "chrome"}
    # a paragraph over 200 characters, a third of it stopwords, is good to jusText on its own
    assert labels[2] == "body"
    assert labels[0] == "chrome"


def test_justext_keeps_markup_like_text_as_one_line_each(justext_stoplist):
    lines = ["<p>not a tag</p> & co", "a < b > c", "Tab\there", "\u200b"]
    assert len(benchmark.justext_labels(lines, justext_stoplist)) == len(lines)


@pytest.mark.skipif(not (CORPUS / "gn1").is_dir(), reason=f"research corpus not available at {CORPUS}")
def test_peers_only_benchmark_on_a_few_corpus_pages(tmp_path):
    pytest.importorskip("justext", reason="jusText is a benchmark extra: pip install -e '.[bench]'")
    out_json, out_md = tmp_path / "results.json", tmp_path / "results.md"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--corpus", str(CORPUS), "--skip-lineclf",
         "--limit-pages", str(FEW), "--turku-limit", str(FEW), "--json", str(out_json), "--markdown", str(out_md)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == out_md.read_text(encoding="utf-8")
    results = json.loads(out_json.read_text(encoding="utf-8"))
    assert results["corpora"]["web"]["language"] == "English and German"
    for name in ("gn1", "de-news", "web"):
        corpus = results["corpora"][name]
        assert corpus["pages"] == FEW
        assert set(corpus["tools"]) == {"all chrome", "C4 rule", "jusText"}
        for scores in corpus["tools"].values():
            assert scores["line_weighted"]["total"] == corpus["lines"]
            assert scores["character_weighted"]["total"] == corpus["characters"]
    for language in ("de", "en", "es", "fi"):
        turku = results["turku"]["languages"][language]
        assert turku["documents"] == FEW
        assert set(turku["tools"]) == {"jusText", "all content"}
        assert 0 < turku["tools"]["all content"]["content_f1"] <= 1


def test_lineclf_cross_validation_labels_each_page_as_a_batch_and_alone():
    from conftest import synthetic_pages

    from lineclf.evaluation import document_groups

    docs = synthetic_pages()
    params = {"max_iter": 10, "inner_folds": 2, "hash_features": 2**12}
    variants = benchmark.lineclf_cross_validation(docs, document_groups(docs), ["web"] * len(docs), 3, params)
    assert set(variants) == {benchmark.LINECLF, benchmark.LINECLF_ALONE}
    for predictions, seconds in variants.values():
        assert [len(p) for p in predictions] == [d.n_units for d in docs]
        assert seconds["web"] > 0
    plain = benchmark.lineclf_cross_validation(
        docs, document_groups(docs), ["web"] * len(docs), 3, {**params, "site_repetition": False}
    )
    assert set(plain) == {benchmark.LINECLF}
    tuned = benchmark.lineclf_cross_validation(
        docs, document_groups(docs), ["web"] * len(docs), 3, params, tune_label_bias=True
    )
    for predictions, _ in tuned.values():
        assert [len(p) for p in predictions] == [d.n_units for d in docs]
        assert all(set(p) <= set(benchmark.LABELS) for p in predictions)


def test_data_weights_name_a_corpus_and_reach_every_part():
    assert benchmark.parse_data_weight("de-news=2") == ("de-news", 2.0)
    assert benchmark.parse_data_weight("turku-quality=0.5") == ("turku-quality", 0.5)
    for bad in ("de-news", "de-news=0", "de-news=x", "wiki=2"):
        with pytest.raises(Exception, match="NAME=WEIGHT"):
            benchmark.parse_data_weight(bad)
    weights = {"de-news": 2.0, "turku-quality": 0.5}
    assert benchmark.part_weight("de-news", weights) == 2.0
    assert benchmark.part_weight("gn1", weights) == 1.0
    assert benchmark.part_weight(benchmark.TURKU_PART + "fi", weights) == 0.5
    assert benchmark.part_data(benchmark.TURKU_PART + "fi") == "turku-quality"


def test_benchmark_refuses_data_weight_with_a_given_model(tmp_path, capsys):
    model = tmp_path / "m.joblib"
    model.write_bytes(b"")
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--model", str(model), "--data-weight", "de-news=2"])
    assert "--data-weight" in capsys.readouterr().err


def test_cross_validation_folds_side_by_side_give_the_same_labels():
    from conftest import synthetic_pages

    from lineclf.evaluation import document_groups

    docs = synthetic_pages()
    params = {"max_iter": 10, "inner_folds": 2, "hash_features": 2**12}
    groups, parts = document_groups(docs), ["web"] * len(docs)
    one = benchmark.lineclf_cross_validation(docs, groups, parts, 3, params)
    two = benchmark.lineclf_cross_validation(docs, groups, parts, 3, params, jobs=2)
    for variant in one:
        assert [p.tolist() for p in one[variant][0]] == [p.tolist() for p in two[variant][0]]


def test_relabelled_corpus_is_trained_on_its_new_labels_and_scored_on_its_own(monkeypatch):
    from conftest import synthetic_pages

    from lineclf.evaluation import document_groups

    docs = synthetic_pages()
    seen = []
    original = benchmark._cross_validation_fold

    def spy(params, train, *args):
        seen.append({label for doc in train for label in doc.labels})
        return original(params, train, *args)

    monkeypatch.setattr(benchmark, "_cross_validation_fold", spy)
    # every page relabelled: none is left whole to fit a guide model on
    params = {"max_iter": 10, "inner_folds": 2, "hash_features": 2**12, "partial_resolution": "linear"}
    variants = benchmark.lineclf_cross_validation(
        docs, document_groups(docs), ["gn1"] * len(docs), 3, params, relabel={"gn1": {"chrome": "noise"}}
    )
    assert seen and all("noise" in labels and "chrome" not in labels for labels in seen)
    assert all(set(p) <= set(benchmark.LABELS) for p in variants[benchmark.LINECLF][0])


def test_web_pages_take_the_stoplist_of_their_language(tmp_path):
    from lineclf.document import Document

    (tmp_path / "web-manifest.tsv").write_text("a\ten\ta.com\thttps://a/\nb\tde\tb.de\thttps://b/\n", "utf-8")
    docs = [Document.from_lines(["x"], name=str(tmp_path / "web" / f"{n}.tsv")) for n in "ab"]
    assert benchmark.page_stoplists(tmp_path, "web", docs) == ["English", "German"]
    assert benchmark.page_stoplists(tmp_path, "gn1", docs) == ["English", "English"]
    stray = [Document.from_lines(["x"], name=str(tmp_path / "web" / "c.tsv"))]
    with pytest.raises(benchmark.BenchmarkError, match="no language"):
        benchmark.page_stoplists(tmp_path, "web", stray)


def test_cross_validation_also_scores_each_fold_model_cut_to_fewer_trees():
    from conftest import synthetic_pages

    from lineclf.evaluation import document_groups

    docs = synthetic_pages()
    params = {"max_iter": 6, "inner_folds": 2, "hash_features": 2**12, "site_repetition": False}
    groups, parts = document_groups(docs), ["web"] * len(docs)
    variants = benchmark.lineclf_cross_validation(docs, groups, parts, 3, params, tree_iterations=[3])
    assert set(variants) == {benchmark.LINECLF, benchmark.lineclf_cut_name(3)}
    # cutting the 6-iteration fits to 3 labels the pages as fits of 3 iterations do
    fitted = benchmark.lineclf_cross_validation(docs, groups, parts, 3, {**params, "max_iter": 3})
    assert [list(p) for p in variants[benchmark.lineclf_cut_name(3)][0]] == [list(p) for p in fitted[benchmark.LINECLF][0]]
    with pytest.raises(benchmark.BenchmarkError, match="cut to fewer"):
        benchmark.lineclf_cross_validation(docs, groups, parts, 3, params, tree_iterations=[6])
    for bad in ("0", "x"):
        with pytest.raises(SystemExit):
            benchmark.parse_args(["--tree-iterations", bad])
