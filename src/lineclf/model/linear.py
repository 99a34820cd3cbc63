"""The first pass's probabilities, without building its input matrix.

The first pass is an ``SGDClassifier`` (log loss) over each line's hashed
text beside its scaled layout features. Its ``predict_proba`` wants both as
one sparse matrix, and scaling, turning the dense block sparse and stacking
cost several times what the product itself costs. :func:`linear_proba`
computes the same decision function block by block, the sparse text block
and the dense layout block each times its own weights, and then the
probabilities as scikit-learn does for that loss (one-vs-rest sigmoids,
normalised over the labels).

The dense block is summed in another order than the sparse product sums it,
so the scores may differ in their last bits (about 1e-12 of scores in the
hundreds); tests hold the probabilities to 1e-12 of ``predict_proba``.
"""

from __future__ import annotations

import weakref

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler

# per fitted model: its weights split into the text and the layout block,
# each (n_features, n_labels) and C-contiguous, as the products want them
# (the sparse product would otherwise copy all 2**18 x 5 weights per call)
_WEIGHTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def linear_proba(model: SGDClassifier, scaler: StandardScaler, text: sparse.csr_matrix, layout: np.ndarray) -> np.ndarray:
    """``model.predict_proba(hstack([text, scaler.transform(layout)]))``, to about 1e-12."""
    if model.loss != "log_loss":
        raise ValueError(f"the first pass must have log_loss, not {model.loss!r}")
    n_text = text.shape[1]
    if n_text + layout.shape[1] != model.coef_.shape[1]:
        raise ValueError(f"the first pass expects {model.coef_.shape[1]} features, got {n_text + layout.shape[1]}")
    scaled = _scaled(scaler, layout)
    if not np.isfinite(scaled).all():  # refused by predict_proba's input checks too
        raise ValueError("the first pass's input holds NaN or infinity")
    text_weights, layout_weights = _weights(model, n_text)
    scores = text @ text_weights + scaled @ layout_weights + model.intercept_
    return _ovr_proba(scores)


def _weights(model: SGDClassifier, n_text: int) -> tuple[np.ndarray, np.ndarray]:
    cached = _WEIGHTS.get(model)
    # a refit gives the model new coefficient arrays
    if cached is None or cached[0] is not model.coef_ or cached[1] != n_text:
        coef = model.coef_
        cached = (coef, n_text, np.ascontiguousarray(coef[:, :n_text].T), np.ascontiguousarray(coef[:, n_text:].T))
        _WEIGHTS[model] = cached
    return cached[2], cached[3]


def _scaled(scaler: StandardScaler, values: np.ndarray) -> np.ndarray:
    """``scaler.transform(values)`` without its input checks: the same steps,
    in place on a copy (float32 features stay float32, as there)."""
    out = np.array(values, dtype=values.dtype if values.dtype in (np.float32, np.float64) else np.float64)
    if scaler.with_mean:
        out -= scaler.mean_.astype(out.dtype)
    if scaler.with_std:
        out /= scaler.scale_.astype(out.dtype)
    return out


def _ovr_proba(scores: np.ndarray) -> np.ndarray:
    """Probabilities from one-vs-rest scores, as ``LinearClassifierMixin._predict_proba_lr``."""
    if scores.shape[1] == 1:  # two labels: one score, for the second
        positive = expit(scores[:, 0])
        return np.stack([1 - positive, positive], axis=1)
    prob = expit(scores, out=scores)
    prob_sum = prob.sum(axis=1)
    all_zero = prob_sum == 0
    if all_zero.any():
        # every label's sigmoid underflowed: uniform probabilities
        prob[all_zero, :] = 1
        prob_sum[all_zero] = prob.shape[1]
    prob /= prob_sum.reshape(-1, 1)
    return prob
