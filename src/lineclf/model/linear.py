"""The first pass as plain arrays: its probabilities without building its input matrix.

The first pass is an ``SGDClassifier`` (log loss) over each line's hashed
text beside its scaled layout features. Its ``predict_proba`` wants both as
one sparse matrix, and scaling, turning the dense block sparse and stacking
cost several times what the product itself costs. A :class:`LinearPass`
holds the fitted weights, intercepts and scaling, and computes the same
decision function block by block: the hashed text times its weights in C
(``lineclf._native.csr_dot``, summed in scipy's order), the scaled layout
block times its own, then the probabilities as scikit-learn does for that
loss (one-vs-rest sigmoids, normalised over the labels).

The dense block is summed in another order than the sparse product sums it,
so the scores may differ in their last bits (about 1e-12 of scores in the
hundreds); tests hold the probabilities to 1e-12 of ``predict_proba``. This
module needs numpy only (see :mod:`lineclf.model.trees`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._native import csr_dot, expit
from .hashing import HashedText


@dataclass(frozen=True)
class LinearPass:
    """A fitted one-vs-rest logistic model over hashed text and scaled layout features."""

    classes: np.ndarray
    #: (n_scores, n_text + n_layout), as SGDClassifier.coef_
    coef: np.ndarray
    intercept: np.ndarray
    n_text: int
    #: the layout features' scaling (None: not centred / not scaled)
    mean: np.ndarray | None
    scale: np.ndarray | None
    # the weights as the products want them: (n_features, n_scores), C-ordered
    _text_weights: np.ndarray = field(init=False, repr=False, compare=False)
    _layout_weights: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_text_weights", np.ascontiguousarray(self.coef[:, : self.n_text].T, dtype=np.float64))
        object.__setattr__(self, "_layout_weights", np.ascontiguousarray(self.coef[:, self.n_text :].T))

    # the derived weights are not stored in model files
    def __getstate__(self):
        return {name: getattr(self, name) for name in ("classes", "coef", "intercept", "n_text", "mean", "scale")}

    def __setstate__(self, state):
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.__post_init__()

    def proba(self, text: HashedText, layout: np.ndarray) -> np.ndarray:
        """Probabilities (a column per label in ``classes``) of the rows of
        hashed ``text`` beside the unscaled ``layout`` features."""
        n_layout = self.coef.shape[1] - self.n_text
        if text.n_features != self.n_text or layout.shape[1] != n_layout:
            raise ValueError(
                f"the first pass expects {self.coef.shape[1]} features, got {text.n_features + layout.shape[1]}"
            )
        scaled = self.scaled(layout)
        if not np.isfinite(scaled).all():  # refused by predict_proba's input checks too
            raise ValueError("the first pass's input holds NaN or infinity")
        scores = np.zeros((len(layout), self.coef.shape[0]))
        csr_dot(text.indptr, text.indices, text.data, self._text_weights, scores, self.n_text, self.coef.shape[0])
        scores += scaled @ self._layout_weights
        scores += self.intercept
        return _ovr_proba(scores)

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """``StandardScaler.transform(values)`` without its input checks: the
        same steps, in place on a copy (float32 features stay float32, as there)."""
        out = np.array(values, dtype=values.dtype if values.dtype in (np.float32, np.float64) else np.float64)
        if self.mean is not None:
            out -= self.mean.astype(out.dtype)
        if self.scale is not None:
            out /= self.scale.astype(out.dtype)
        return out


def linear_pass_of(model, scaler, n_text: int) -> LinearPass:
    """A fitted ``SGDClassifier`` (log loss) and the ``StandardScaler`` of its
    layout features, as a :class:`LinearPass` (read from their attributes)."""
    if model.loss != "log_loss":
        raise ValueError(f"the first pass must have log_loss, not {model.loss!r}")
    return LinearPass(
        classes=np.asarray(model.classes_).copy(),
        coef=np.asarray(model.coef_, dtype=np.float64),
        intercept=np.asarray(model.intercept_, dtype=np.float64).copy(),
        n_text=n_text,
        mean=np.asarray(scaler.mean_).copy() if scaler.with_mean else None,
        scale=np.asarray(scaler.scale_).copy() if scaler.with_std else None,
    )


def _ovr_proba(scores: np.ndarray) -> np.ndarray:
    """Probabilities from one-vs-rest scores, as ``LinearClassifierMixin._predict_proba_lr``."""
    if scores.shape[1] == 1:  # two labels: one score, for the second
        positive = np.ascontiguousarray(scores[:, 0])
        expit(positive)
        return np.stack([1 - positive, positive], axis=1)
    expit(scores)
    prob = scores
    prob_sum = prob.sum(axis=1)
    all_zero = prob_sum == 0
    if all_zero.any():
        # every label's sigmoid underflowed: uniform probabilities
        prob[all_zero, :] = 1
        prob_sum[all_zero] = prob.shape[1]
    prob /= prob_sum.reshape(-1, 1)
    return prob
