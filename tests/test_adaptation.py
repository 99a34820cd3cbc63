"""Adapting a fitted model to a site's corrected pages (lineclf.adapt_model,
`lineclf train --base`)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from conftest import SEED_TSV, assert_clean_error, run_cli, synthetic_page, tiny_estimator, write_labelled_dir
from lineclf import adapt_model
from lineclf.document import Document
from lineclf.errors import DataFormatError
from lineclf.model import SiteAdapter, load_bundle, load_model, save_model
from lineclf.model.adaptation import _softmax


def site_pages(n: int = 6) -> list[Document]:
    """Pages of one made-up site whose menu lines the tiny model has never seen
    labelled: every "Section ..." line is chrome there, every "Read more"
    line a teaser."""
    pages = []
    for i in range(n):
        lines = [
            f"Section {i} news", "Section sport", "Section weather",
            f"A headline about topic {i}",
            f"The first paragraph of story {i} tells what happened, at some length, as stories do.",
            "It goes on for another sentence that adds the detail.",
            f"Read more: another story number {i + 1}", f"Read more: yet another story {i + 2}",
        ]
        labels = ["chrome", "chrome", "chrome", "headline", "body", "body", "teaser", "teaser"]
        pages.append(Document.from_lines(lines, name=f"site-{i}.tsv", labels=labels, site="example.org"))
    return pages


def accuracy(model, docs) -> float:
    predicted = np.concatenate(model.predict(docs))
    return float(np.mean(predicted == np.concatenate([d.labels for d in docs])))


def test_adapting_learns_the_site_and_leaves_the_base_untouched(tiny_model):
    pages = site_pages()
    before = [p.copy() for p in tiny_model.predict_proba(pages[3:])]
    adapted = adapt_model(tiny_model, pages[:3])
    assert accuracy(adapted, pages[3:]) == 1.0
    assert accuracy(tiny_model, pages[3:]) < 1.0, "the test needs a site the base gets wrong"
    # the base is as it was
    assert not getattr(tiny_model, "adapters_", [])
    for old, new in zip(before, tiny_model.predict_proba(pages[3:])):
        np.testing.assert_array_equal(old, new)
    assert len(adapted.adapters_) == 1 and isinstance(adapted.adapters_[0], SiteAdapter)


def test_an_adapter_with_nothing_to_correct_keeps_the_base_labels(tiny_model, training_docs):
    # on the base's own training pages the base is (nearly) right: the adapter must not undo it
    adapted = adapt_model(tiny_model, training_docs[:3])
    for doc in training_docs[3:]:
        base, new = tiny_model.predict([doc])[0], adapted.predict([doc])[0]
        assert np.mean(base == new) >= 0.9


def test_adapting_twice_stacks_adapters_and_refitting_drops_them(tiny_model, training_docs):
    pages = site_pages()
    once = adapt_model(tiny_model, pages[:1])
    twice = adapt_model(once, pages[1:3])
    assert len(twice.adapters_) == 2 and len(once.adapters_) == 1
    # the second adapter starts where the first ends, and moves the probabilities further
    assert accuracy(twice, pages[3:]) >= accuracy(once, pages[3:]) > accuracy(tiny_model, pages[3:])
    for a, b in zip(once.predict_proba(pages[3:]), twice.predict_proba(pages[3:])):
        assert not np.allclose(a, b)
    refitted = pickle.loads(pickle.dumps(twice)).fit(training_docs)
    assert refitted.adapters_ == []


def test_adapted_model_pickles_clones_and_saves(tmp_path, tiny_model):
    pages = site_pages()
    adapted = adapt_model(tiny_model, pages[:2])
    expected = adapted.predict_proba(pages[2:])
    for copy in (pickle.loads(pickle.dumps(adapted)),):
        for a, b in zip(expected, copy.predict_proba(pages[2:])):
            np.testing.assert_array_equal(a, b)
    # clone gives the unfitted estimator with the same parameters, as for any model
    assert clone(adapted).get_params() == tiny_model.get_params()
    pytest.importorskip("skops")
    save_model(adapted, tmp_path / "adapted.skops")
    loaded = load_model(tmp_path / "adapted.skops")
    for a, b in zip(expected, loaded.predict_proba(pages[2:])):
        np.testing.assert_allclose(a, b)


def test_adapting_refuses_partial_or_missing_labels(tiny_model):
    page = site_pages(1)[0]
    with pytest.raises(DataFormatError, match="not 'noise'"):
        adapt_model(tiny_model, [page.with_labels(["noise"] * page.n_units)])
    with pytest.raises(DataFormatError, match="no labels"):
        adapt_model(tiny_model, [Document.from_lines(["just text"], name="x")])


def test_softmax_rows_sum_to_one():
    scores = np.array([[1000.0, 0, 0, 0, 0], [-5, -5, -5, -5, -5]])
    proba = _softmax(scores)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert proba[0, 0] == pytest.approx(1)


# --------------------------------------------------------------------------- the command


def test_train_base_adapts_and_reports_held_out_pages(tmp_path, model_file):
    pages = write_labelled_dir(tmp_path / "mine", site_pages())
    out = tmp_path / "adapted.joblib"
    result = run_cli("train", tmp_path / "mine", "--base", model_file, "--model", out, "--folds", "3", "--json", tmp_path / "s.json")
    assert result.exit_code == 0, result.output
    assert "held-out pages (3 folds by page): the base model" in result.stderr
    assert "adapted to the other folds" in result.stderr
    bundle = load_bundle(out)
    record = bundle["metadata"]["adapted"][-1]
    assert record["pages"] == len(pages) and record["from"] == str(model_file)
    scores = record["cross_validation"]["scores"]
    assert scores["adapted"]["macro_f1"] > scores["base"]["macro_f1"]
    assert bundle["metadata"]["purpose"] == "tests"  # the base's own metadata is kept
    predicted = run_cli("predict", "--model", out, tmp_path / "mine" / "site-0.tsv")
    assert predicted.exit_code == 0


def test_train_base_refuses_options_it_cannot_use(tmp_path, model_file):
    write_labelled_dir(tmp_path / "mine", site_pages(2))
    result = run_cli("train", tmp_path / "mine", "--base", model_file, "-m", tmp_path / "m.joblib", "--data-weight", "mine=2")
    assert "takes no --data-weight" in assert_clean_error(result, 2)
    result = run_cli("train", tmp_path / "mine", "--retrain", "-m", tmp_path / "m.joblib")
    assert "--retrain needs --base" in assert_clean_error(result, 2)
    # the tiny model records no training data: retraining it cannot find any
    result = run_cli("train", tmp_path / "mine", "--base", model_file, "--retrain", "-m", tmp_path / "m.joblib")
    assert "needs the base model's training data among DATA" in assert_clean_error(result, 2)
    assert not (tmp_path / "m.joblib").exists()


def test_train_base_refuses_partial_labels_naming_the_file(tmp_path, model_file):
    page = site_pages(1)[0]
    write_labelled_dir(tmp_path / "mine", [page.with_labels(["noise"] + list(page.labels[1:]))])
    result = run_cli("train", tmp_path / "mine", "--base", model_file, "-m", tmp_path / "m.joblib")
    message = assert_clean_error(result, 1)
    assert message.endswith("site-0.tsv: partial label 'noise': adapting needs one of the five labels on every line")
    assert not (tmp_path / "m.joblib").exists()


def test_train_base_retrain_uses_the_base_recipe(tmp_path, training_docs):
    # a base that records what it was trained on, as `lineclf train` does
    write_labelled_dir(tmp_path / "theirs", training_docs)
    base_file = tmp_path / "base.joblib"
    result = run_cli("train", tmp_path / "theirs", "-m", base_file, "--folds", "0")
    assert result.exit_code == 0, result.output
    write_labelled_dir(tmp_path / "mine", site_pages(3))
    out = tmp_path / "retrained.joblib"
    result = run_cli("train", tmp_path / "theirs", tmp_path / "mine", "--base", base_file, "--retrain", "-m", out, "--folds", "0")
    assert result.exit_code == 0, result.output
    trained_on = load_bundle(out)["metadata"]["trained_on"]
    assert trained_on["theirs"]["weight"] == 1.0 and trained_on["mine"]["weight"] == 10.0


def test_tiny_estimator_is_what_the_base_fixture_uses(tiny_model):
    # the adaptation tests above rely on the session's tiny model being a plain fit
    assert tiny_model.get_params() == tiny_estimator().get_params()
    assert synthetic_page(0, "x").labels is not None and SEED_TSV.is_file()


# --------------------------------------------------------------------------- the k-pages benchmark


def test_k_pages_benchmark_scores_the_same_unseen_pages_for_every_k(tiny_model):
    from conftest import load_script

    script = load_script("adaptation")
    pages = site_pages(9)
    orders = script.site_orders(pages, 3)
    assert len(orders) == 3
    for corrected, scored in orders:
        assert len(corrected) == max(script.KS) and len(scored) == 4
        assert not {d.name for d in corrected} & {d.name for d in scored}
    # another order, other pages corrected; the same order each run (seeded)
    assert [d.name for d in orders[0][0]] != [d.name for d in orders[1][0]]
    assert [d.name for d in script.site_orders(pages, 1)[0][0]] == [d.name for d in orders[0][0]]
    result = script.measure_site(tiny_model, pages, 2, {})
    assert set(result) == {str(k) for k in script.KS}
    assert result["5"]["macro_f1"] > result["0"]["macro_f1"]
