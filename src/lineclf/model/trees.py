"""The second pass's gradient-boosted trees as plain arrays, walked in C.

A fitted ``HistGradientBoostingClassifier`` is copied once into a
:class:`TreeEnsemble`: every tree's nodes in parallel arrays (feature,
threshold, where a missing value goes, children, leaf value), the starting
scores and the labels. :meth:`TreeEnsemble.proba` finds each row's leaf in
every tree as the estimator's own predictor does on raw float64 values, adds
the leaf values onto the same starting scores in the same order and takes
the same softmax (or sigmoid for two labels): the probabilities are bit for
bit those of ``predict_proba``, with neither scikit-learn nor scipy imported.

The leaves are found in C, by QuickScorer (``lineclf._native.score_trees``,
from :class:`SplitTables`) when every tree has at most 64 leaves, as the
recipe's have: each feature's splits, sorted by threshold, are read once for
a few rows at a time, with no branch that depends on which way a row goes.
That is about twice as fast on the shipped model as walking each tree from
its root (``walk_trees``), which larger trees still take.

This module needs numpy only: a model file holds the ensemble, not the
estimator, so labelling does not import scikit-learn (see
:mod:`lineclf.model.files`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._native import score_trees, walk_trees

#: QuickScorer keeps a tree's leaves as the bits of one 64-bit word.
MAX_SCORED_LEAVES = 64


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
    #: the splits by feature, for QuickScorer (None: a tree is too large, or
    #: its nodes are not in the order scikit-learn writes them)
    splits: "SplitTables | None" = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "splits", split_tables(self))

    # the split tables are derived, and not stored in model files
    def __getstate__(self):
        return {name: value for name, value in self.__dict__.items() if name != "splits"}

    def __setstate__(self, state):
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.__post_init__()

    @property
    def n_iterations(self) -> int:
        return len(self.roots) // self.n_scores

    def raw(self, X: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """The raw scores of the rows ``X`` (float64, one column per feature),
        or of ``X`` and ``extra`` side by side (QuickScorer reads both where
        they are, sparing a copy of the two stacked)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        extra = np.zeros((len(X), 0)) if extra is None else np.ascontiguousarray(extra, dtype=np.float64)
        if X.ndim != 2 or extra.ndim != 2 or len(extra) != len(X) or X.shape[1] + extra.shape[1] != self.n_features:
            raise ValueError(f"the tree model expects {self.n_features} features, got {X.shape[-1] + extra.shape[-1]}")
        raw = np.empty((len(X), self.n_scores))
        raw[:] = self.baseline
        # one call either way: the C loops take the rows in cache-sized blocks themselves
        if self.splits is not None:
            tables = self.splits
            score_trees(
                X, X.shape[1], extra, extra.shape[1], tables.feature_start, tables.threshold, tables.missing_left,
                tables.tree, tables.keep, tables.leaf_start, tables.leaf_value, raw, self.n_scores,
            )  # fmt: skip
        else:
            walk_trees(
                np.hstack([X, extra]) if extra.shape[1] else X, self.n_features, self.feature, self.threshold,
                self.missing_left, self.left, self.right, self.value, self.roots, raw, self.n_scores,
            )  # fmt: skip
        return raw

    def proba(self, X: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """Probabilities, one column per label in ``classes``: the estimator's
        ``predict_proba`` (of ``X`` and ``extra`` side by side: :meth:`raw`)."""
        raw = self.raw(X, extra)
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


@dataclass(frozen=True)
class SplitTables:
    """A :class:`TreeEnsemble` as QuickScorer reads it (see ``score_trees``):
    every inner node (split) as parallel arrays sorted by feature, then by
    threshold, and every tree's leaves numbered from the left."""

    #: the splits of feature f are feature_start[f]:feature_start[f + 1]
    feature_start: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    tree: np.ndarray
    #: the leaves of its tree a split keeps when a row goes right: all but
    #: those of its left subtree
    keep: np.ndarray
    #: the leaves of tree t, from the left, are leaf_value[leaf_start[t]:leaf_start[t + 1]]
    leaf_start: np.ndarray
    leaf_value: np.ndarray


def split_tables(trees: TreeEnsemble) -> SplitTables | None:
    """QuickScorer's tables of ``trees``, or None when a tree has more than
    MAX_SCORED_LEAVES leaves or its nodes are not in pre-order (each node
    before its subtrees, the left subtree first), the order scikit-learn's
    grower writes them in. In pre-order a node's left subtree is the nodes
    from the one after it up to its right child, so its leaves are a run of
    the tree's leaves counted from the left."""
    n = len(trees.feature)
    node = np.arange(n)
    roots = trees.roots.astype(np.int64)
    inner = trees.left >= 0
    left, right = trees.left.astype(np.int64), trees.right.astype(np.int64)
    if len(roots) == 0 or roots[0] != 0 or np.any(np.diff(roots) <= 0) or np.any(left[inner] != node[inner] + 1):
        return None
    if np.any((right[inner] <= left[inner]) | (right[inner] >= n)):
        return None  # children out of range: the walk checks them, and refuses
    # one past the last node of each node's subtree, from the leaves up
    end = np.where(inner, -1, node + 1)
    pending = np.flatnonzero(inner)
    while len(pending):
        ready = end[right[pending]] >= 0
        if not ready.any():
            return None
        end[pending[ready]] = end[right[pending[ready]]]
        pending = pending[~ready]
    tree_ends = np.append(roots[1:], n)
    if np.any(right[inner] != end[node[inner] + 1]) or np.any(end[roots] != tree_ends):
        return None
    leaf = ~inner
    leaves_before = np.cumsum(leaf) - leaf
    leaf_start = np.append(leaves_before[roots], leaf.sum())
    if np.any(np.diff(leaf_start) > MAX_SCORED_LEAVES):
        return None
    tree_of = np.repeat(np.arange(len(roots)), tree_ends - roots)
    splits = node[inner]
    first = (leaves_before[splits + 1] - leaf_start[tree_of[splits]]).astype(np.uint64)
    count = (leaves_before[right[splits]] - leaves_before[splits + 1]).astype(np.uint64)
    # a left subtree holds fewer leaves than its tree, so fewer than 64: no shift overflows
    cleared = ((np.uint64(1) << count) - np.uint64(1)) << first
    order = np.lexsort((trees.threshold[splits], trees.feature[splits]))
    splits = splits[order]
    return SplitTables(
        feature_start=np.searchsorted(trees.feature[splits], np.arange(trees.n_features + 1)).astype(np.int64),
        threshold=np.ascontiguousarray(trees.threshold[splits]),
        missing_left=np.ascontiguousarray(trees.missing_left[splits]),
        tree=tree_of[splits].astype(np.int32),
        keep=~cleared[order],
        leaf_start=leaf_start.astype(np.int32),
        leaf_value=np.ascontiguousarray(trees.value[leaf]),
    )


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
