"""Label offsets tuned on cross-validated probabilities (lineclf.evaluation.tuning) and
`train --tune-label-bias`."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import synthetic_pages, tiny_estimator, write_labelled_dir
from lineclf.errors import UsageError
from lineclf.labels import LABELS
from lineclf.model import load_bundle, load_model
from lineclf.training import train_model
from lineclf.evaluation.tuning import BIAS_GRID, biased_argmax, nested_label_bias, tune_label_bias

TEASER, CHROME = LABELS.index("teaser"), LABELS.index("chrome")


def _under_called_teasers(n_pages: int = 6, seed: int = 0):
    """Pages whose teaser lines get teaser 0.3 / chrome 0.7 and whose chrome
    lines get teaser 0.05 / chrome 0.95: the argmax calls every teaser chrome,
    an offset of log(0.7/0.3) < b < log(0.95/0.05) on teaser gets all right."""
    rng = np.random.default_rng(seed)
    probas, labels = [], []
    for _ in range(n_pages):
        truth = rng.choice(["teaser", "chrome", "body"], size=40, p=[0.2, 0.6, 0.2])
        proba = np.zeros((len(truth), len(LABELS)))
        proba[truth == "teaser", TEASER], proba[truth == "teaser", CHROME] = 0.3, 0.7
        proba[truth == "chrome", TEASER], proba[truth == "chrome", CHROME] = 0.05, 0.95
        proba[truth == "body", 0] = 1.0
        probas.append(proba)
        labels.append(list(truth))
    return probas, labels


def test_tuning_finds_the_offset_that_calls_teasers_right():
    probas, labels = _under_called_teasers()
    assert not any((np.asarray(LABELS)[p.argmax(axis=1)] == "teaser").any() for p in probas)
    bias = tune_label_bias(probas, labels)
    assert bias[CHROME] == 0
    assert np.log(0.7 / 0.3) < bias[TEASER] - bias[CHROME] < np.log(0.95 / 0.05)
    for proba, truth in zip(probas, labels):
        assert list(np.asarray(LABELS)[biased_argmax(proba, bias)]) == truth


def test_tuning_leaves_right_calls_alone():
    probas, labels = _under_called_teasers()
    right = [np.eye(len(LABELS))[[LABELS.index(label) for label in truth]] for truth in labels]
    bias = tune_label_bias(right, labels)
    for proba, truth in zip(right, labels):
        assert list(np.asarray(LABELS)[biased_argmax(proba, bias)]) == truth
    assert bias.min() >= BIAS_GRID[0] and bias.max() <= BIAS_GRID[-1]


def test_nested_tuning_labels_each_fold_with_the_other_folds_offsets():
    probas, labels = _under_called_teasers(n_pages=6)
    folds = np.array([0, 0, 1, 1, 2, 2])
    predicted, per_fold = nested_label_bias(probas, labels, folds)
    assert len(per_fold) == 3
    for i, (proba, fold) in enumerate(zip(probas, folds)):
        expected = tune_label_bias([probas[j] for j in np.flatnonzero(folds != fold)], [labels[j] for j in np.flatnonzero(folds != fold)])
        assert np.array_equal(per_fold[fold], expected)
        assert list(predicted[i]) == list(np.asarray(LABELS)[biased_argmax(proba, expected)])


def test_the_objective_is_the_mean_of_each_sources_macro_f1():
    """Each source counts the same, whatever its size, and macro-F1 is the
    one metrics.Report gives."""
    from lineclf.evaluation import Report
    from lineclf.evaluation.tuning import _Scorer

    probas, labels = _under_called_teasers(n_pages=5, seed=1)
    rng = np.random.default_rng(2)
    probas = [rng.dirichlet(np.ones(len(LABELS)), size=len(p)) for p in probas]
    sources = ["big", "big", "big", "big", "small"]
    scorer = _Scorer(probas, labels, sources)
    names = np.asarray(LABELS)
    for bias in (np.zeros(len(LABELS)), np.array([0.5, -1.0, 0.25, 2.0, 0.0])):
        expected = np.mean([
            Report.from_labels(
                [l for i in docs for l in labels[i]], [l for i in docs for l in names[biased_argmax(probas[i], bias)]]
            ).macro_f1
            for docs in ([0, 1, 2, 3], [4])
        ])
        assert scorer.score(bias) == pytest.approx(expected)


def test_train_model_tunes_and_saves_the_label_bias(tmp_path):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "first", pages[:3])
    write_labelled_dir(tmp_path / "second", pages[3:])
    path = tmp_path / "m.joblib"
    result = train_model(
        [tmp_path / "first", tmp_path / "second"], path, folds=3, estimator=tiny_estimator(), tune_label_bias=True
    )
    tuning = load_bundle(path)["metadata"]["label_bias_tuning"]
    assert result.label_bias == tuning["label_bias"] and list(tuning["label_bias"]) == list(LABELS)
    assert load_model(path).label_bias == tuple(tuning["label_bias"].values())
    assert len(tuning["per_fold"]) == 3
    assert set(tuning["untuned_scores"]) == {"all", "first", "second"}
    assert result.reports["all"].confusion.sum() == sum(d.n_units for d in pages)


def test_tuning_the_label_bias_needs_folds(tmp_path):
    write_labelled_dir(tmp_path / "data", synthetic_pages())
    with pytest.raises(UsageError, match="at least 2 folds"):
        train_model([tmp_path / "data"], tmp_path / "m.joblib", folds=0, tune_label_bias=True)


def test_partially_labelled_lines_are_scored_by_content_f1():
    """A source of content/noise lines counts with its content F1: an offset
    that only moves lines between body and chrome is tuned by it alone."""
    from lineclf.evaluation.tuning import _Scorer

    body, chrome = LABELS.index("body"), LABELS.index("chrome")
    truth = ["content"] * 30 + ["noise"] * 30
    proba = np.zeros((60, len(LABELS)))
    # content lines: body 0.4 / chrome 0.6 (called noise); noise lines: body 0.1 / chrome 0.9
    proba[:30, body], proba[:30, chrome] = 0.4, 0.6
    proba[30:, body], proba[30:, chrome] = 0.1, 0.9
    scorer = _Scorer([proba], [truth], ["turku"])
    assert scorer.score(np.zeros(len(LABELS))) == 0.0
    bias = tune_label_bias([proba], [truth], ["turku"])
    assert np.log(0.6 / 0.4) < bias[body] < np.log(0.9 / 0.1)
    assert scorer.score(bias) == 1.0


def test_a_source_with_both_kinds_of_labels_has_both_scores():
    from lineclf.evaluation.tuning import _Scorer

    probas, labels = _under_called_teasers(n_pages=2)
    mixed = [list(labels[0]), ["content" if label == "body" else "noise" for label in labels[1]]]
    scorer = _Scorer(probas, mixed, ["one", "one"])
    assert len(scorer.parts) == 2


def test_only_the_labels_asked_for_are_tuned():
    probas, labels = _under_called_teasers()
    bias = tune_label_bias(probas, labels, tuned=["body", "headline", "caption"])
    assert bias[TEASER] == 0 and bias[CHROME] == 0
    # the teaser offset was what these pages needed
    assert tune_label_bias(probas, labels, tuned=["teaser"])[TEASER] > 0
    with pytest.raises(ValueError, match="unknown label 'teasers'"):
        tune_label_bias(probas, labels, tuned=["teasers"])
    with pytest.raises(ValueError, match="no label offset to tune"):
        tune_label_bias(probas, labels, tuned=["chrome"])


def test_train_model_tunes_only_the_bias_labels_with_the_partial_pages(tmp_path):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "full", pages[:4])
    partial = [p.with_labels(["content" if l in ("body", "headline", "caption") else "noise" for l in p.labels]) for p in pages[4:]]
    write_labelled_dir(tmp_path / "partial", partial)
    path = tmp_path / "m.joblib"
    result = train_model(
        [tmp_path / "full", tmp_path / "partial"], path, folds=2, estimator=tiny_estimator(),
        tune_label_bias=True, bias_labels=["body", "caption"],
    )
    tuning = load_bundle(path)["metadata"]["label_bias_tuning"]
    assert tuning["tuned_labels"] == ["body", "caption"]
    assert result.label_bias["headline"] == result.label_bias["teaser"] == result.label_bias["chrome"] == 0
    with pytest.raises(UsageError, match="--bias-labels: unknown label 'bodies'"):
        train_model([tmp_path / "full"], path, folds=2, tune_label_bias=True, bias_labels=["bodies"])
    with pytest.raises(UsageError, match="needs --tune-label-bias"):
        train_model([tmp_path / "full"], path, folds=2, bias_labels=["body"])
