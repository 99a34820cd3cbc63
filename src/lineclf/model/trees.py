"""The second pass's gradient-boosted trees, walked faster with the same results.

``HistGradientBoostingClassifier.predict_proba`` walks each of its trees (200
iterations x 5 labels in the shipped model) in a call of its own from Python,
over float64 rows, with a NaN test at every node. :func:`tree_proba` copies the
trees once per model into scikit-learn's plain decision-tree structure
(``sklearn.tree._tree.Tree``) and walks all of them in one C loop, the one
``GradientBoostingClassifier`` predicts with
(``sklearn.ensemble._gradient_boosting.predict_stages``), over float32 rows,
about three times as fast.

That loop compares a float32 feature with a float64 threshold, which is exact
for the layout features (they are float32 values, see
``lineclf.features.line_features``), but not for the first pass's float64
probabilities. Those are replaced by their bin under the model's own binning
(value <= threshold[b] exactly when bin(value) <= b), the comparison the
boosted trees themselves make on binned data; the nodes on those columns then
compare bins. The leaf values are added in the same order onto the same
starting values, so the raw scores, and the probabilities, are bit for bit
those of ``predict_proba``.

Both are scikit-learn internals of the 1.9 series, which the model files are
tied to anyway (``lineclf.model.load_bundle``). Inputs the copy cannot take exactly
(missing values, layout values that are not float32, categorical splits) go to
the estimator's own ``predict_proba``; tests check both give the same.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._gradient_boosting import predict_stages
from sklearn.tree._tree import NODE_DTYPE, TREE_LEAF, TREE_UNDEFINED, Tree

#: Rows walked per call of the C loop: beyond a few thousand rows of a few
#: hundred float32 features, the rows no longer stay in the CPU's cache while
#: the loop walks them once per tree (a few thousand rows are equally fast).
ROWS_PER_CALL = 4_096


class _Stage:
    """What ``predict_stages`` reads of each of its estimators: a ``tree_``."""

    __slots__ = ("tree_",)

    def __init__(self, tree: Tree):
        self.tree_ = tree


@dataclass(frozen=True)
class _CompiledTrees:
    """A boosted model's trees as ``Tree`` objects (iterations x labels), for
    rows whose first ``n_exact`` columns are float32 values and whose other
    columns are bins."""

    stages: np.ndarray
    n_exact: int
    bin_thresholds: tuple[np.ndarray, ...]


# per fitted model: its trees (to notice a refit) and a copy per split of its columns
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tree_proba(model: HistGradientBoostingClassifier, exact: np.ndarray, wide: np.ndarray) -> np.ndarray:
    """``model.predict_proba(np.hstack([exact, wide]))``, bit for bit, faster.

    ``exact`` holds values that float32 represents exactly (the layout
    features), ``wide`` any float64 values (the first pass's probabilities).
    """
    n_exact = exact.shape[1]
    compiled = _compiled(model, n_exact, wide.shape[1])
    rows = _rows(compiled, exact, wide) if compiled is not None else None
    if rows is None:
        return model.predict_proba(np.hstack([exact, wide]))
    # as HistGradientBoostingClassifier._raw_predict starts them: Fortran order, the baseline
    raw = np.zeros((len(rows), model.n_trees_per_iteration_), dtype=model._baseline_prediction.dtype, order="F")
    raw += model._baseline_prediction
    for start in range(0, len(rows), ROWS_PER_CALL):
        predict_stages(compiled.stages, rows[start : start + ROWS_PER_CALL], 1.0, raw[start : start + ROWS_PER_CALL])
    return model._loss.predict_proba(raw)


def _rows(compiled: _CompiledTrees, exact: np.ndarray, wide: np.ndarray) -> np.ndarray | None:
    """The float32 rows the copied trees walk, or None when they would not
    give exactly the estimator's results (missing or non-float32 values)."""
    exact32 = exact.astype(np.float32)
    # also False for NaN, which the copied trees do not send where the estimator does
    if not np.array_equal(exact32, exact) or np.isnan(wide).any():
        return None
    rows = np.empty((len(exact), exact.shape[1] + wide.shape[1]), dtype=np.float32)
    rows[:, : compiled.n_exact] = exact32
    for j, thresholds in enumerate(compiled.bin_thresholds):
        # the bin of the estimator's binning: thresholds[b - 1] < value <= thresholds[b]
        rows[:, compiled.n_exact + j] = np.searchsorted(thresholds, wide[:, j], side="left")
    return rows


def _compiled(model: HistGradientBoostingClassifier, n_exact: int, n_wide: int) -> _CompiledTrees | None:
    if model.n_features_in_ != n_exact + n_wide:
        raise ValueError(f"the tree model expects {model.n_features_in_} features, got {n_exact + n_wide}")
    cached = _COMPILED.get(model)
    # a refit gives the model new trees
    if cached is None or cached[0] is not model._predictors:
        cached = _COMPILED[model] = (model._predictors, {})
    per_split = cached[1]
    if n_exact not in per_split:
        per_split[n_exact] = _compile(model, n_exact)
    return per_split[n_exact]


def _compile(model: HistGradientBoostingClassifier, n_exact: int) -> _CompiledTrees | None:
    """Copy the model's trees, or None when it has splits the copy cannot make."""
    categorical = getattr(model, "is_categorical_", None)
    if model._preprocessor is not None or (categorical is not None and np.any(categorical)):
        return None
    predictors = model._predictors
    if any(p.nodes["is_categorical"].any() for stage in predictors for p in stage):
        return None
    n_features = model.n_features_in_
    stages = np.empty((len(predictors), model.n_trees_per_iteration_), dtype=object)
    for i, stage in enumerate(predictors):
        for k, predictor in enumerate(stage):
            stages[i, k] = _Stage(_as_tree(predictor.nodes, n_features, n_exact))
    thresholds = tuple(model._bin_mapper.bin_thresholds_[n_exact:])
    return _CompiledTrees(stages, n_exact, thresholds)


def _as_tree(nodes: np.ndarray, n_features: int, n_exact: int) -> Tree:
    """One boosted tree's nodes as a ``Tree`` (its pickled form: nodes and values)."""
    leaf = nodes["is_leaf"].astype(bool)
    feature = nodes["feature_idx"].astype(np.intp)
    left, right = nodes["left"].astype(np.intp), nodes["right"].astype(np.intp)
    inner = ~leaf
    # the C loop follows these indices unchecked: a bad one would crash, not raise
    if not ((left[inner] > 0) & (left[inner] < len(nodes)) & (right[inner] > 0) & (right[inner] < len(nodes))).all():
        raise ValueError("boosted tree with a child index out of range")
    if not ((feature[inner] >= 0) & (feature[inner] < n_features)).all():
        raise ValueError("boosted tree with a feature index out of range")
    out = np.zeros(len(nodes), dtype=NODE_DTYPE)
    out["left_child"] = np.where(leaf, TREE_LEAF, left)
    out["right_child"] = np.where(leaf, TREE_LEAF, right)
    out["feature"] = np.where(leaf, TREE_UNDEFINED, feature)
    # the estimator goes left when value <= num_threshold, or, on binned data,
    # bin <= bin_threshold (its last bin, where num_threshold is inf, too)
    threshold = np.where(feature >= n_exact, nodes["bin_threshold"].astype(np.float64), nodes["num_threshold"])
    out["threshold"] = np.where(leaf, TREE_UNDEFINED, threshold)
    out["missing_go_to_left"] = nodes["missing_go_to_left"]
    tree = Tree(n_features, np.ones(1, dtype=np.intp), 1)
    tree.__setstate__(
        {
            "max_depth": int(nodes["depth"].max()),
            "node_count": len(nodes),
            "nodes": out,
            "values": np.ascontiguousarray(nodes["value"], dtype=np.float64).reshape(-1, 1, 1),
        }
    )
    return tree
