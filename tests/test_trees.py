"""The second pass's trees walked by lineclf.model.trees give the boosted model's probabilities, bit for bit."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from lineclf.model.passes import proba_in_label_order as _proba
from lineclf.model.passes import long_lines, revision_features as _revision_features
from lineclf.model.trees import tree_proba


def _data(n: int, seed: int = 0, missing: bool = False):
    """float32 values beside float64 ones, as layout features beside first-pass probabilities."""
    rng = np.random.default_rng(seed)
    exact = rng.normal(size=(n, 6)).astype(np.float32).astype(np.float64)
    exact[:, 0] = rng.integers(0, 3, size=n)  # few distinct values: many ties with thresholds
    wide = rng.random(size=(n, 4))
    if missing:
        wide[rng.random(size=wide.shape) < 0.1] = np.nan
    y = (exact[:, 1] + wide[:, 0] * 2 + rng.normal(scale=0.5, size=n) > 1).astype(int) + (wide[:, 1] > 0.7)
    return exact, wide, y


def _fitted(exact, wide, y, **params):
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, early_stopping=False, random_state=0, **params)
    return model.fit(np.hstack([exact, wide]), y)


def test_equals_predict_proba():
    exact, wide, y = _data(600)
    model = _fitted(exact, wide, y)
    np.testing.assert_array_equal(tree_proba(model, exact, wide), model.predict_proba(np.hstack([exact, wide])))


def test_values_on_the_thresholds():
    exact, wide, y = _data(600)
    model = _fitted(exact, wide, y)
    # every bin threshold of every column as a value, where <= and < differ
    thresholds = model._bin_mapper.bin_thresholds_
    rows = max(len(t) for t in thresholds)
    grid = np.column_stack([np.resize(t, rows) for t in thresholds])
    grid_exact, grid_wide = grid[:, :6].astype(np.float32).astype(np.float64), grid[:, 6:]
    expected = model.predict_proba(np.hstack([grid_exact, grid_wide]))
    np.testing.assert_array_equal(tree_proba(model, grid_exact, grid_wide), expected)


def test_binary_and_binned_only_models():
    exact, wide, y = _data(400, seed=1)
    binary = _fitted(exact, wide, y > 0)
    np.testing.assert_array_equal(tree_proba(binary, exact, wide), binary.predict_proba(np.hstack([exact, wide])))
    no_exact = _fitted(exact[:, :0], wide, y)
    np.testing.assert_array_equal(tree_proba(no_exact, exact[:, :0], wide), no_exact.predict_proba(wide))


@pytest.mark.parametrize("case", ["missing", "not float32"])
def test_inputs_the_copy_cannot_take_go_to_the_estimator(case):
    exact, wide, y = _data(400, missing=case == "missing")
    model = _fitted(exact, wide, y)
    if case == "not float32":
        exact = exact + 1e-12
    np.testing.assert_array_equal(tree_proba(model, exact, wide), model.predict_proba(np.hstack([exact, wide])))


def test_a_refit_model_uses_its_new_trees():
    exact, wide, y = _data(400)
    model = _fitted(exact, wide, y)
    tree_proba(model, exact, wide)
    model.fit(np.hstack([exact, wide]), np.roll(y, 7))
    np.testing.assert_array_equal(tree_proba(model, exact, wide), model.predict_proba(np.hstack([exact, wide])))


def test_refuses_a_different_feature_count():
    exact, wide, y = _data(100)
    model = _fitted(exact, wide, y)
    with pytest.raises(ValueError, match="features"):
        tree_proba(model, exact, wide[:, :-1])


def test_predict_proba_equals_the_stacked_sklearn_passes(tiny_model, training_docs, seed_doc):
    """LineClassifier.predict_proba (block-wise first pass, copied trees) against
    both passes' own predict_proba on stacked matrices, as fit computes them."""
    documents = [*training_docs, seed_doc]
    X, T, offsets = tiny_model.layout(documents)
    first = _proba(tiny_model.linear_model_, tiny_model.linear_input(X, T))
    expected = _proba(tiny_model.tree_model_, np.hstack([X, _revision_features(first, offsets, long_lines(X))]))
    got = np.vstack(tiny_model.predict_proba(documents))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_predict_proba_walks_the_copied_trees_with_site_shares(tiny_model, training_docs, monkeypatch):
    """The site shares (float64) go with the binned columns: the estimator's own
    predict_proba, the slow fallback, is not called."""
    assert tiny_model.site_repetition

    def fallback(X):
        raise AssertionError("fell back to HistGradientBoostingClassifier.predict_proba")

    model = clone(tiny_model).fit(training_docs)
    expected = model.predict_proba(training_docs)
    monkeypatch.setattr(model.tree_model_, "predict_proba", fallback)
    for got, want in zip(model.predict_proba(training_docs), expected):
        assert np.array_equal(got, want)
