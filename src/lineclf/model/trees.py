"""The second pass's gradient-boosted trees as plain arrays, walked in C.

A fitted ``HistGradientBoostingClassifier`` is copied once into a
:class:`TreeEnsemble`: every tree's nodes in parallel arrays (feature,
threshold, where a missing value goes, children, leaf value), the starting
scores and the labels. :meth:`TreeEnsemble.proba` walks all trees for each row
in one C loop (``lineclf._native.walk_trees``), as the estimator's own
predictor walks them on raw float64 values, adds the leaf values onto the
same starting scores in the same order and takes the same softmax (or
sigmoid for two labels): the probabilities are bit for bit those of
``predict_proba``, with neither scikit-learn nor scipy imported.

This module needs numpy only: a model file holds the ensemble, not the
estimator, so labelling does not import scikit-learn (see
:mod:`lineclf.model.files`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._native import walk_trees


@dataclass(frozen=True)
class TreeEnsemble:
    """Boosted trees, iteration by iteration and label by label (tree ``t``
    adds to label column ``t % n_scores``), as parallel node arrays."""

    n_features: int
    #: columns of the raw scores: 1 for two labels (the second's logit), else one per label
    n_scores: int
    classes: np.ndarray
    baseline: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray

    @property
    def n_iterations(self) -> int:
        return len(self.roots) // self.n_scores

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The raw scores of the rows ``X`` (float64, one column per feature)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"the tree model expects {self.n_features} features, got {X.shape[-1]}")
        raw = np.empty((len(X), self.n_scores))
        raw[:] = self.baseline
        # one call: the C loop walks the rows in cache-sized blocks itself
        walk_trees(
            X, self.n_features, self.feature, self.threshold, self.missing_left,
            self.left, self.right, self.value, self.roots, raw, self.n_scores,
        )  # fmt: skip
        return raw

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities, one column per label in ``classes``: the estimator's ``predict_proba``."""
        raw = self.raw(X)
        if self.n_scores == 1:  # as HalfBinomialLoss: expit of the second label's score
            positive = 1 / (1 + np.exp(-raw[:, 0]))
            return np.column_stack([1 - positive, positive])
        # as HalfMultinomialLoss: scikit-learn's softmax, step for step
        raw -= raw.max(axis=1).reshape(-1, 1)
        np.exp(raw, out=raw)
        raw /= raw.sum(axis=1).reshape(-1, 1)
        return raw

    def first_iterations(self, iterations: int) -> "TreeEnsemble":
        """The same ensemble keeping only its first ``iterations`` boosting iterations."""
        if not 1 <= iterations <= self.n_iterations:
            raise ValueError(f"iterations must be between 1 and {self.n_iterations}, the trees' iterations")
        kept = self.roots[: iterations * self.n_scores]
        end = self.roots[len(kept)] if len(kept) < len(self.roots) else len(self.feature)
        nodes = slice(0, int(end))
        return TreeEnsemble(
            self.n_features, self.n_scores, self.classes, self.baseline, self.feature[nodes], self.threshold[nodes],
            self.missing_left[nodes], self.left[nodes], self.right[nodes], self.value[nodes], kept.copy(),
        )  # fmt: skip


def ensemble_of(model) -> TreeEnsemble:
    """A fitted ``HistGradientBoostingClassifier``'s trees (read from its
    attributes; scikit-learn is not imported here)."""
    categorical = getattr(model, "is_categorical_", None)
    if getattr(model, "_preprocessor", None) is not None or (categorical is not None and np.any(categorical)):
        raise ValueError("categorical features are not supported by lineclf's tree walk")
    predictors = [p for stage in model._predictors for p in stage]
    if any(p.nodes["is_categorical"].any() for p in predictors):
        raise ValueError("categorical splits are not supported by lineclf's tree walk")
    sizes = np.array([len(p.nodes) for p in predictors], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    if sizes.sum() >= 2**31:
        raise ValueError("too many tree nodes")
    nodes = np.concatenate([p.nodes for p in predictors])
    leaf = nodes["is_leaf"].astype(bool)
    offset = np.repeat(starts, sizes)
    left = np.where(leaf, -1, nodes["left"].astype(np.int64) + offset).astype(np.int32)
    right = np.where(leaf, -1, nodes["right"].astype(np.int64) + offset).astype(np.int32)
    return TreeEnsemble(
        n_features=int(model.n_features_in_),
        n_scores=int(model.n_trees_per_iteration_),
        classes=np.asarray(model.classes_).copy(),
        baseline=np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1).copy(),
        feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32),
        threshold=np.ascontiguousarray(nodes["num_threshold"], dtype=np.float64),
        missing_left=nodes["missing_go_to_left"].astype(np.uint8),
        left=left,
        right=right,
        value=np.ascontiguousarray(nodes["value"], dtype=np.float64),
        roots=starts.astype(np.int32),
    )
