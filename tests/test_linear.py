"""The first pass as arrays (lineclf.model.linear) gives scikit-learn's probabilities."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler

from lineclf.model.hashing import HashedText
from lineclf.model.linear import linear_pass_of

#: The blocks are summed in another order than sklearn's sparse product sums them.
TOLERANCE = 1e-12


def _data(n: int, labels: int, seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    text = sparse.random(n, 64, density=0.1, format="csr", random_state=seed)
    layout = rng.normal(3.0, 2.0, size=(n, 7)).astype(dtype)
    layout[:, 0] = 0.0  # exact zeros, which the stacked sparse matrix leaves out
    y = rng.integers(0, labels, size=n)
    return text, layout, y


def _hashed(text) -> HashedText:
    return HashedText(text.indptr.astype(np.int64), text.indices.astype(np.int32), text.data.astype(np.float64), text.shape[1])


def _fitted(text, layout, y, seed: int = 0):
    scaler = StandardScaler().fit(layout)
    stacked = sparse.hstack([text, sparse.csr_matrix(scaler.transform(layout))], format="csr")
    model = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=20, tol=None, random_state=seed).fit(stacked, y)
    return model, scaler


def _sklearn(model, scaler, text, layout):
    return model.predict_proba(sparse.hstack([text, sparse.csr_matrix(scaler.transform(layout))], format="csr"))


@pytest.mark.parametrize("labels", [2, 3, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_equals_sklearn_predict_proba(labels, dtype):
    text, layout, y = _data(300, labels, dtype=dtype)
    model, scaler = _fitted(text, layout, y)
    expected = _sklearn(model, scaler, text, layout)
    got = linear_pass_of(model, scaler, text.shape[1]).proba(_hashed(text), layout)
    assert got.shape == expected.shape == (300, labels)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_equals_sklearn_on_the_tiny_model(tiny_model, training_docs):
    X, T, _ = tiny_model.layout(training_docs)
    expected = tiny_model.linear_model_.predict_proba(tiny_model.linear_input(X, T))
    np.testing.assert_allclose(tiny_model.linear_pass_.proba(T, X), expected, rtol=0, atol=TOLERANCE)


def test_underflowing_scores_give_uniform_probabilities():
    text, layout, y = _data(20, 3)
    model, scaler = _fitted(text, layout, y)
    model.intercept_ = np.full(3, -1e4)  # every sigmoid is 0
    got = linear_pass_of(model, scaler, 64).proba(_hashed(text), layout)
    np.testing.assert_array_equal(got, _sklearn(model, scaler, text, layout))
    assert (got == 1 / 3).all()


def test_pickles_without_its_derived_weights():
    text, layout, y = _data(50, 3)
    linear = linear_pass_of(*_fitted(text, layout, y), 64)
    assert "_text_weights" not in linear.__getstate__()
    again = pickle.loads(pickle.dumps(linear))
    np.testing.assert_array_equal(again.proba(_hashed(text), layout), linear.proba(_hashed(text), layout))


def test_refuses_a_different_feature_count():
    text, layout, y = _data(50, 3)
    linear = linear_pass_of(*_fitted(text, layout, y), 64)
    with pytest.raises(ValueError, match="features"):
        linear.proba(_hashed(text), layout[:, :-1])


def test_refuses_missing_values_as_predict_proba_does():
    text, layout, y = _data(50, 3)
    model, scaler = _fitted(text, layout, y)
    layout[3, 2] = np.nan
    with pytest.raises(ValueError):
        _sklearn(model, scaler, text, layout)
    with pytest.raises(ValueError, match="NaN"):
        linear_pass_of(model, scaler, 64).proba(_hashed(text), layout)
