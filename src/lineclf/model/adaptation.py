"""Adapting a fitted model to a site from a few corrected pages, without its
training data.

A :class:`SiteAdapter` is gradient boosting that starts where the model
ends: small regression trees fitted, round by round, to what the model's
probabilities still get wrong on the corrected pages (Friedman's multiclass
gradient boosting with Newton leaf values, as in scikit-learn's
GradientBoostingClassifier, started from the model's log-probabilities as
LightGBM's ``init_score`` starts one). The trees see what the second pass
sees (each line's layout features, its site counts and the revision features
of the first pass) and the model's own log-probabilities, so a few pages
teach them this site's menus, teasers or comment threads while every other
line keeps the model's label wherever they have nothing to say.

:func:`adapt_model` returns a copy of the model with the adapter attached
(``adapters_``); ``LineClassifier.revise`` applies it before ``label_bias``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ..document import Document
from ..errors import DataFormatError
from ..features import SiteCounts
from ..labels import LABELS
from .passes import document_labels, encode_labels, page_weights, second_pass_proba, second_pass_revision

logger = logging.getLogger(__name__)

#: Boosting rounds (one small tree per label each).
DEFAULT_ADAPT_ROUNDS = 10
DEFAULT_ADAPT_LEARNING_RATE = 0.1
#: Leaves per tree: a few rules per round, not a second model.
DEFAULT_ADAPT_LEAVES = 4
#: Lines a leaf needs, so that one odd line does not make a rule.
DEFAULT_ADAPT_MIN_LEAF = 10
#: Log-probabilities are floored here, so that a probability of 0 stays a number.
_LOG_FLOOR = 1e-6


@dataclass
class _Tree:
    """A fitted regression tree as plain arrays (walked by :meth:`predict`)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def predict(self, Z: np.ndarray) -> np.ndarray:
        node = np.zeros(len(Z), dtype=np.int64)
        rows = np.arange(len(Z))
        active = self.left[node] >= 0
        while active.any():
            r, n = rows[active], node[active]
            go_left = Z[r, self.feature[n]] <= self.threshold[n]
            node[r] = np.where(go_left, self.left[n], self.right[n])
            active = self.left[node] >= 0
        return self.value[node]


@dataclass
class SiteAdapter:
    """Additive log-probability corrections learned from corrected pages."""

    rounds: list[list[_Tree]]
    learning_rate: float

    def decision(self, Z: np.ndarray) -> np.ndarray:
        """The correction to add to the model's log-probabilities (LABELS order)."""
        out = np.zeros((len(Z), len(LABELS)))
        for trees in self.rounds:
            for k, tree in enumerate(trees):
                out[:, k] += self.learning_rate * tree.predict(Z)
        return out

    @classmethod
    def fit(
        cls,
        Z: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray,
        start: np.ndarray,
        rounds: int = DEFAULT_ADAPT_ROUNDS,
        learning_rate: float = DEFAULT_ADAPT_LEARNING_RATE,
        leaves: int = DEFAULT_ADAPT_LEAVES,
        min_leaf: int = DEFAULT_ADAPT_MIN_LEAF,
        random_state: int = 0,
    ) -> "SiteAdapter":
        """Boost from the log-probabilities ``start`` towards the labels ``y``
        (indices in LABELS order) of the rows ``Z``, weighted by ``weight``."""
        from sklearn.tree import DecisionTreeRegressor

        n_labels = len(LABELS)
        onehot = np.eye(n_labels)[y]
        scores = start.copy()
        fitted: list[list[_Tree]] = []
        for _ in range(rounds):
            proba = _softmax(scores)
            trees = []
            for k in range(n_labels):
                residual = onehot[:, k] - proba[:, k]
                regressor = DecisionTreeRegressor(
                    max_leaf_nodes=leaves, min_samples_leaf=min_leaf, random_state=random_state
                ).fit(Z, residual, sample_weight=weight)
                tree = _newton_tree(regressor, Z, residual, weight, n_labels)
                scores[:, k] += learning_rate * tree.predict(Z)
                trees.append(tree)
            fitted.append(trees)
        return cls(fitted, learning_rate)


def _newton_tree(regressor, Z, residual, weight, n_labels: int) -> _Tree:
    """The regressor's tree with each leaf's value a Newton step of the
    multinomial log-loss: (K-1)/K * sum(w r) / sum(w |r| (1-|r|))."""
    inner = regressor.tree_
    leaf = regressor.apply(Z)
    numerator = np.bincount(leaf, weights=weight * residual, minlength=inner.node_count)
    denominator = np.bincount(leaf, weights=weight * np.abs(residual) * (1 - np.abs(residual)), minlength=inner.node_count)
    value = np.where(denominator > 1e-12, (n_labels - 1) / n_labels * numerator / np.maximum(denominator, 1e-12), 0.0)
    return _Tree(
        inner.feature.astype(np.int64).copy(),
        inner.threshold.copy(),
        inner.children_left.astype(np.int64).copy(),
        inner.children_right.astype(np.int64).copy(),
        value,
    )


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def adapter_input(trees, X: np.ndarray, first: np.ndarray | None, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What an adapter sees of a batch (the second pass's input and the
    model's log-probabilities beside it) and those log-probabilities, which
    it starts from: the model's own (its :class:`~.trees.TreeEnsemble`
    ``trees``), before any adapter or ``label_bias``."""
    revision = second_pass_revision(X, first, offsets)
    proba = second_pass_proba(trees, X, first, offsets, revision)
    scores = np.log(np.maximum(proba, _LOG_FLOOR))
    return np.hstack([X, revision, scores]), scores


def adapted_proba(adapters: Sequence[SiteAdapter], Z: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The probabilities of the model's log-probabilities ``scores`` corrected by each adapter in turn."""
    for adapter in adapters:
        scores = scores + adapter.decision(Z)
    return _softmax(scores)


def adapt_model(
    model,
    documents: Sequence[Document],
    labels=None,
    sample_weight=None,
    rounds: int = DEFAULT_ADAPT_ROUNDS,
    learning_rate: float = DEFAULT_ADAPT_LEARNING_RATE,
    leaves: int = DEFAULT_ADAPT_LEAVES,
    min_leaf: int = DEFAULT_ADAPT_MIN_LEAF,
):
    """A copy of the fitted ``model`` adapted to the labelled ``documents``
    (a site's corrected pages): a :class:`SiteAdapter` boosted from the
    model's probabilities on them, attached after any earlier ones. The
    model itself is left as it was; its training data is not needed.
    ``sample_weight``: one weight per document (default 1)."""
    documents = list(documents)
    labels = document_labels(documents, labels, "adapt to")
    y, _ = encode_labels(labels)
    if len(y) == 0:
        raise DataFormatError("no labelled lines to adapt to")
    if (y < 0).any():
        partial = next(label for seq in labels for label in seq if label not in LABELS)
        raise DataFormatError(f"adapting needs lines with one of the five labels ({', '.join(LABELS)}), not {partial!r}")
    page_weight = page_weights(sample_weight, documents)
    predictor = model.predictor()
    X, T, offsets = predictor.layout(documents, SiteCounts.of(documents))
    first = predictor.first_pass(X, T)
    Z, scores = adapter_input(predictor.trees, X, first, offsets)
    for earlier in getattr(model, "adapters_", []):
        scores = scores + earlier.decision(Z)
    weight = model._sample_weight(y) * np.repeat(page_weight, [doc.n_units for doc in documents])
    adapter = SiteAdapter.fit(Z, y, weight, scores, rounds, learning_rate, leaves, min_leaf, model.random_state)
    adapted = copy.deepcopy(model)
    adapted.adapters_ = [*getattr(model, "adapters_", []), adapter]
    logger.info("adapted on %d lines of %d pages (%d rounds)", len(y), len(documents), rounds)
    return adapted
