"""The second pass's trees as plain arrays (lineclf.model.trees), walked in C,
give the boosted model's probabilities, bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier

from lineclf._native import score_trees, walk_trees
from lineclf.model.passes import long_lines, proba_in_label_order as _proba
from lineclf.model.passes import revision_features as _revision_features
from lineclf.model.trees import MAX_SCORED_LEAVES, TreeEnsemble, ensemble_of, split_tables


def _data(n: int, seed: int = 0, missing: bool = False):
    """float32 values beside float64 ones, as layout features beside first-pass probabilities."""
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.normal(size=(n, 6)).astype(np.float32).astype(np.float64), rng.random(size=(n, 4))])
    X[:, 0] = rng.integers(0, 3, size=n)  # few distinct values: many ties with thresholds
    if missing:
        X[rng.random(size=X.shape) < 0.1] = np.nan
    y = (X[:, 1] + X[:, 6] * 2 + rng.normal(scale=0.5, size=n) > 1).astype(int) + (X[:, 7] > 0.7)
    return X, y


def _fitted(X, y, **params):
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, early_stopping=False, random_state=0, **params)
    return model.fit(X, y)


@pytest.mark.parametrize("missing", [False, True])
def test_equals_predict_proba(missing):
    X, y = _data(600, missing=missing)
    model = _fitted(X, y)
    np.testing.assert_array_equal(ensemble_of(model).proba(X), model.predict_proba(X))


def test_values_on_the_thresholds():
    X, y = _data(600)
    model = _fitted(X, y)
    # every threshold of every column as a value, where <= and < differ, and just beside it
    thresholds = model._bin_mapper.bin_thresholds_
    rows = max(len(t) for t in thresholds)
    grid = np.column_stack([np.resize(t, rows) for t in thresholds])
    for values in (grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf)):
        np.testing.assert_array_equal(ensemble_of(model).proba(values), model.predict_proba(values))


def test_binary_and_many_label_models():
    X, y = _data(400, seed=1)
    binary = _fitted(X, y > 0)
    np.testing.assert_allclose(ensemble_of(binary).proba(X), binary.predict_proba(X), rtol=0, atol=1e-15)
    many = _fitted(X, (X[:, 6] * 5).astype(int))
    assert len(many.classes_) == 5
    np.testing.assert_array_equal(ensemble_of(many).proba(X), many.predict_proba(X))


def test_first_iterations_equal_a_shorter_fit():
    X, y = _data(400)
    cut = ensemble_of(_fitted(X, y)).first_iterations(7)
    assert cut.n_iterations == 7
    shorter = HistGradientBoostingClassifier(max_iter=7, max_leaf_nodes=15, early_stopping=False, random_state=0).fit(X, y)
    np.testing.assert_array_equal(cut.proba(X), shorter.predict_proba(X))
    with pytest.raises(ValueError, match="between 1 and 30"):
        ensemble_of(_fitted(X, y)).first_iterations(31)


def _walked(trees: TreeEnsemble, X: np.ndarray) -> np.ndarray:
    """The raw scores by walking each tree from its root, whatever ``trees.raw`` uses."""
    raw = np.empty((len(X), trees.n_scores))
    raw[:] = trees.baseline
    walk_trees(X, X.shape[1], trees.feature, trees.threshold, trees.missing_left, trees.left, trees.right,
               trees.value, trees.roots, raw, trees.n_scores)  # fmt: skip
    return raw


@pytest.mark.parametrize("leaves", [2, 15, MAX_SCORED_LEAVES])
def test_quickscorer_finds_the_leaves_the_walk_finds(leaves):
    """score_trees (from the split tables) and walk_trees agree to the last
    bit, with missing values, and with trees of exactly 64 leaves (every bit
    of the word a leaf). Rows come in every count of the lanes' last block."""
    X, _ = _data(3000, seed=2, missing=True)
    labels = (_data(3000, seed=2)[0][:, 6] * 5).astype(int)  # the same values without the gaps
    model = HistGradientBoostingClassifier(
        max_iter=4, max_leaf_nodes=leaves, min_samples_leaf=5, early_stopping=False, random_state=0
    ).fit(X, labels)
    trees = ensemble_of(model)
    sizes = np.diff(trees.splits.leaf_start)
    assert sizes.max() == leaves
    for rows in (X, X[:1], X[:2], X[:3], X[:5], X[:0]):
        np.testing.assert_array_equal(trees.raw(rows), _walked(trees, rows))
        # the columns in two arrays, split anywhere, as the second pass gives its layout and revision features
        for cut in (0, 1, 5, X.shape[1] - 1, X.shape[1]):
            np.testing.assert_array_equal(trees.raw(rows[:, :cut], rows[:, cut:]), _walked(trees, rows))
    np.testing.assert_array_equal(trees.proba(X), model.predict_proba(X))


def test_larger_trees_are_walked():
    X, y = _data(3000)
    model = HistGradientBoostingClassifier(max_iter=2, max_leaf_nodes=MAX_SCORED_LEAVES + 16, min_samples_leaf=5,
                                           early_stopping=False, random_state=0).fit(X, y)  # fmt: skip
    trees = ensemble_of(model)
    assert trees.splits is None
    np.testing.assert_array_equal(trees.proba(X), model.predict_proba(X))


def _right_first(trees: TreeEnsemble) -> TreeEnsemble:
    """The same trees with their nodes renumbered: each node before its
    subtrees, as scikit-learn writes them, but the right subtree first."""
    order = []
    for root in trees.roots:
        stack = [int(root)]
        while stack:
            node = stack.pop()
            order.append(node)
            if trees.left[node] >= 0:
                stack += [int(trees.left[node]), int(trees.right[node])]  # the right one is popped first
    order = np.array(order)
    new = np.empty_like(order)
    new[order] = np.arange(len(order))
    renumber = lambda child: np.where(child >= 0, new[np.maximum(child, 0)], -1).astype(np.int32)  # noqa: E731
    return TreeEnsemble(
        trees.n_features, trees.n_scores, trees.classes, trees.baseline, trees.feature[order],
        trees.threshold[order], trees.missing_left[order], renumber(trees.left[order]),
        renumber(trees.right[order]), trees.value[order], new[trees.roots].astype(np.int32),
    )  # fmt: skip


def test_nodes_out_of_preorder_are_walked():
    """split_tables reads a node's left subtree as the nodes right after it;
    trees numbered otherwise are walked, with the same scores."""
    X, y = _data(600, missing=True)
    trees = ensemble_of(_fitted(X, y))
    renumbered = _right_first(trees)
    assert trees.splits is not None and renumbered.splits is None and split_tables(renumbered) is None
    np.testing.assert_array_equal(renumbered.raw(X), trees.raw(X))


def test_the_split_tables_are_not_pickled():
    X, y = _data(100)
    trees = ensemble_of(_fitted(X, y))
    assert "splits" not in trees.__getstate__()
    loaded = pickle.loads(pickle.dumps(trees))
    assert loaded.splits is not None
    np.testing.assert_array_equal(loaded.splits.keep, trees.splits.keep)


def test_quickscorer_refuses_tables_it_could_not_read_safely():
    X, y = _data(100)
    trees = ensemble_of(_fitted(X, y))
    tables = trees.splits
    out = np.zeros((len(X), trees.n_scores))

    def score(**changed):
        arrays = {name: getattr(tables, name).copy() for name in tables.__dataclass_fields__}
        x, extra = changed.pop("X", X), changed.pop("extra", np.zeros((len(X), 0)))
        arrays.update(changed)
        score_trees(x, x.shape[1], extra, extra.shape[1], arrays["feature_start"], arrays["threshold"],
                    arrays["missing_left"], arrays["tree"], arrays["keep"], arrays["leaf_start"], arrays["leaf_value"],
                    out, trees.n_scores)  # fmt: skip

    score()

    def changed(name, index, value):
        array = getattr(tables, name).copy()
        array[index] = value
        return array

    with pytest.raises(ValueError, match="tree index out of range"):
        score(tree=changed("tree", 0, len(trees.roots)))
    with pytest.raises(ValueError, match="last leaf"):
        score(keep=changed("keep", 0, 0))
    with pytest.raises(ValueError, match="offsets out of range"):
        score(feature_start=changed("feature_start", -1, len(tables.threshold) + 1))
    with pytest.raises(ValueError, match="offsets out of range"):
        score(leaf_start=changed("leaf_start", -1, len(tables.leaf_value) - 1))
    with pytest.raises(ValueError, match="offsets out of order"):
        score(feature_start=changed("feature_start", 1, len(tables.threshold)))
    busiest = int(np.argmax(np.diff(tables.feature_start)))
    with pytest.raises(ValueError, match="thresholds out of order"):
        score(threshold=changed("threshold", int(tables.feature_start[busiest]), np.inf))
    with pytest.raises(ValueError, match="more than 64"):
        score(leaf_start=np.array([0, len(tables.leaf_value)], dtype=np.int32),
              tree=np.zeros_like(tables.tree))  # fmt: skip
    with pytest.raises(ValueError, match="shapes"):
        score(missing_left=tables.missing_left[:-1].copy())
    with pytest.raises(TypeError, match="bytes"):
        score(tree=tables.tree.astype(np.int64))
    # the extra columns must be of the same rows, and the two together every feature
    score(X=np.ascontiguousarray(X[:, :2]), extra=np.ascontiguousarray(X[:, 2:]))
    with pytest.raises(ValueError, match="shapes"):
        score(X=np.ascontiguousarray(X[:, :2]), extra=np.ascontiguousarray(X[:-1, 2:]))
    with pytest.raises(ValueError, match="shapes"):
        score(X=np.ascontiguousarray(X[:, :2]), extra=np.ascontiguousarray(X[:, 3:]))


def test_pickles_and_refuses_a_different_feature_count():
    X, y = _data(100)
    trees = pickle.loads(pickle.dumps(ensemble_of(_fitted(X, y))))
    np.testing.assert_array_equal(trees.proba(X), _fitted(X, y).predict_proba(X))
    with pytest.raises(ValueError, match="features"):
        trees.proba(X[:, :-1])


def test_the_c_walk_refuses_nodes_it_could_not_walk_safely():
    X, y = _data(100)
    trees = ensemble_of(_fitted(X, y))
    out = np.zeros((len(X), trees.n_scores))

    def walk(**changed):
        arrays = {name: getattr(trees, name).copy() for name in ("feature", "threshold", "missing_left", "left", "right", "value", "roots")}
        arrays.update(changed)
        walk_trees(X, X.shape[1], arrays["feature"], arrays["threshold"], arrays["missing_left"], arrays["left"],
                   arrays["right"], arrays["value"], arrays["roots"], out, trees.n_scores)  # fmt: skip

    walk()
    inner = int(np.flatnonzero(trees.left >= 0)[3])
    for name, value in [("left", inner), ("left", len(trees.left)), ("right", -5), ("feature", X.shape[1])]:
        bad = getattr(trees, name).copy()
        bad[inner] = value  # a cycle, an index past the end, a negative one, a feature past the row
        with pytest.raises(ValueError, match="out of range"):
            walk(**{name: bad})
    with pytest.raises(ValueError, match="root"):
        walk(roots=np.array([len(trees.left)], dtype=np.int32))
    with pytest.raises(ValueError, match="shapes"):
        walk(value=trees.value[:-1].copy())
    with pytest.raises(TypeError, match="bytes"):
        walk(left=trees.left.astype(np.int64))


def test_predict_proba_equals_the_stacked_sklearn_passes(tiny_model, training_docs, seed_doc):
    """LineClassifier.predict_proba (block-wise first pass, trees as arrays) against
    both passes' own predict_proba on stacked matrices, as fit computes them."""
    documents = [*training_docs, seed_doc]
    X, T, offsets = tiny_model.layout(documents)
    first = _proba(tiny_model.linear_model_, tiny_model.linear_input(X, T))
    expected = _proba(tiny_model.tree_model_, np.hstack([X, _revision_features(first, offsets, long_lines(X))]))
    got = np.vstack(tiny_model.predict_proba(documents))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_a_refit_classifier_predicts_with_its_new_trees(tiny_model, training_docs):
    model = clone(tiny_model).fit(training_docs)
    before = model.predict_proba(training_docs)
    labels = [np.roll(np.asarray(doc.labels), 1) for doc in training_docs]
    model.fit(training_docs, labels)
    after = model.predict_proba(training_docs)
    assert not all(np.array_equal(a, b) for a, b in zip(before, after))


def test_trees_with_children_out_of_range_are_refused_not_scored():
    """split_tables leaves a damaged ensemble to the walk, which checks every
    index and refuses it with a ValueError (never an IndexError, never a read
    out of bounds)."""
    X, y = _data(200)
    trees = ensemble_of(_fitted(X, y))
    inner = np.flatnonzero(trees.left >= 0)
    arrays = {name: getattr(trees, name) for name in ("n_features", "n_scores", "classes", "baseline", "feature",
                                                      "threshold", "missing_left", "left", "right", "value", "roots")}  # fmt: skip
    for name, node, child in [("right", inner[-1], len(trees.left)), ("left", inner[-1], len(trees.left)), ("right", inner[0], -3)]:
        bad = getattr(trees, name).copy()
        bad[node] = child
        damaged = TreeEnsemble(**{**arrays, name: bad})
        assert damaged.splits is None
        with pytest.raises(ValueError, match="out of range"):
            damaged.raw(X)
