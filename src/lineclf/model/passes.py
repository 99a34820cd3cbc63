"""The two passes of the line classifier as public building blocks.

A batch of pages is labelled in stages: its layout features (the page's own
feature families with context, then repetition across the batch), its
hashed words, the first pass (a linear model's probabilities) and the second
pass (gradient-boosted trees over the layout features and the first pass's
probabilities of each line, its neighbours and its page). The classifier
chains these; each is here on its own so that a stage can be timed or
inspected by itself (``scripts/speed.py``), with the same results.

What labelling needs imports numpy only; scipy and scikit-learn are imported
inside the functions that training alone calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..document import Document
from ..features import (
    SITE_FEATURE_NAMES,
    SiteCounts,
    batch_features,
    feature_names,
    site_features,
)
from ..errors import DataFormatError, UsageError
from ..labels import LABELS, PARTIAL_LABELS
from .hashing import HashedText, hashed_words
from .linear import LinearPass
from .revision import revision_features
from .trees import TreeEnsemble



def unit_offsets(documents: Sequence[Document]) -> np.ndarray:
    """Where each document's lines start (and the last ends) in the rows of a batch."""
    sizes = np.array([doc.n_units for doc in documents], dtype=np.int64)
    return np.concatenate(([0], np.cumsum(sizes)))


def vectorizer(hash_features: int):
    """The word n-gram hashing of the first pass, as scikit-learn's
    ``HashingVectorizer`` (:func:`hashed_text` gives the same, faster)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=hash_features,
        ngram_range=(1, 2),
        alternate_sign=False,
        lowercase=True,
        norm="l2",
    )


def hashed_text(documents: Sequence[Document], hash_features: int) -> HashedText:
    """Each line's hashed word n-grams (a row per line of the batch): what
    ``vectorizer(hash_features).transform`` gives, bit for bit (as a scipy
    matrix: ``.csr()``), faster."""
    return hashed_words([text for doc in documents for text in doc.units], hash_features)


def batch_input(
    documents: Sequence[Document],
    context: Sequence[int],
    hash_features: int,
    site_repetition: bool,
    site_counts: SiteCounts | None = None,
) -> tuple[np.ndarray, HashedText, np.ndarray]:
    """A batch's layout features (with the site columns when
    ``site_repetition``), hashed text and the unit offset of each document."""
    if site_repetition:
        # the site columns beside the page's own, in one array filled in place
        width = len(feature_names(context))
        X = np.empty((sum(doc.n_units for doc in documents), width + len(SITE_FEATURE_NAMES)))
        batch_features(documents, context, out=X[:, :width])
        X[:, width:] = site_columns(documents, site_counts)
    else:
        X = batch_features(documents, context)
    return X, hashed_text(documents, hash_features), unit_offsets(documents)


def site_columns(documents: Sequence[Document], site_counts: SiteCounts | None = None) -> np.ndarray:
    """Repetition across the batch (``site_counts``, default: of ``documents``)."""
    counts = site_counts if site_counts is not None else SiteCounts.of(documents)
    site = [site_features(doc, counts.pages_of(doc), counts.line_counts(doc))[0] for doc in documents]
    return np.vstack(site) if site else np.zeros((0, len(SITE_FEATURE_NAMES)))


def linear_input(scaler, X: np.ndarray, T: HashedText):
    """The first pass's input as scikit-learn takes it: hashed text beside
    scaled layout features, one scipy matrix."""
    from scipy import sparse

    return sparse.hstack([T.csr(), sparse.csr_matrix(scaler.transform(X))], format="csr")


def first_pass_proba(linear: LinearPass, X: np.ndarray, T: HashedText) -> np.ndarray:
    """The linear model's probabilities (LABELS order): what
    ``proba_in_label_order(linear_model, linear_input(scaler, X, T))`` gives,
    without stacking the hashed text and the scaled features (see :mod:`.linear`)."""
    return in_label_order(linear.classes, linear.proba(T, X))


def second_pass_proba(
    trees: TreeEnsemble,
    X: np.ndarray,
    first: np.ndarray | None,
    offsets: np.ndarray,
    revision: np.ndarray | None = None,
) -> np.ndarray:
    """The trees' probabilities (LABELS order) of the layout features ``X``
    (with the site columns, if any) and the revision
    features of the first pass's probabilities ``first`` (None: the trees
    see the layout alone): what ``proba_in_label_order`` of the stacked
    matrix gives, walked faster (see :mod:`.trees`). ``revision``: those
    revision features when the caller has them already."""
    if revision is None:
        revision = second_pass_revision(X, first, offsets)
    return in_label_order(trees.classes, trees.proba(X, revision))


def second_pass_revision(X: np.ndarray, first: np.ndarray | None, offsets: np.ndarray) -> np.ndarray:
    """The revision features the second pass sees beside ``X`` (none without a first pass)."""
    return np.zeros((len(X), 0)) if first is None else revision_features(first, offsets, long_lines(X))


def shift_priors(proba: np.ndarray, label_bias: Sequence[float] | None) -> np.ndarray:
    """``proba`` (rows in LABELS order) times ``exp(label_bias)``, each row
    renormalised to sum to 1: the same as adding ``label_bias`` to the log
    probabilities. ``None`` returns ``proba`` itself."""
    if label_bias is None:
        return proba
    bias = check_label_bias(label_bias)
    shifted = proba * np.exp(bias - bias.max())
    return shifted / shifted.sum(axis=1, keepdims=True)


def check_label_bias(label_bias: Sequence[float] | None) -> np.ndarray | None:
    """``label_bias`` as an array, or a ValueError when it is not one finite number per label."""
    if label_bias is None:
        return None
    bias = np.asarray(label_bias, dtype=float)
    if bias.shape != (len(LABELS),) or not np.isfinite(bias).all():
        raise ValueError(f"label_bias must be {len(LABELS)} finite numbers, one per label in LABELS order")
    return bias


def split_rows(proba: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """A batch's rows, per document."""
    return [proba[a:b] for a, b in zip(offsets[:-1], offsets[1:])]


def fit_quietly(model, X, y, weight):
    """``model.fit`` with sample weights, without convergence warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # The first pass stops after a fixed number of epochs on purpose (speed);
        # the second pass learns how far to trust its probabilities.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, sample_weight=weight)


def proba_in_label_order(model, X) -> np.ndarray:
    """Probabilities in LABELS order, whatever labels the model saw in training."""
    return in_label_order(model.classes_, model.predict_proba(X))


def in_label_order(classes: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """A model's probabilities (a column per label it saw in training, whose
    indices in LABELS are ``classes``) in LABELS order."""
    out = np.zeros((proba.shape[0], len(LABELS)))
    out[:, classes] = proba
    return out


def long_lines(X: np.ndarray) -> np.ndarray:
    """Which rows of the layout features ``X`` are long lines (their own ``long`` column)."""
    return X[:, feature_names(()).index("long")] > 0.5


def document_labels(documents: Sequence[Document], labels, purpose: str):
    """``labels`` (one sequence per document), or the documents' own when
    None; a document without any is refused, naming it."""
    if labels is not None:
        return labels
    missing = [doc.name for doc in documents if doc.labels is None]
    if missing:
        raise DataFormatError(f"{missing[0]}: document has no labels to {purpose}")
    return [doc.labels for doc in documents]


def page_weights(sample_weight, documents: Sequence[Document]) -> np.ndarray:
    """One weight per document (1 when none are given), checked."""
    if sample_weight is None:
        return np.ones(len(documents))
    weight = np.asarray(sample_weight, dtype=float)
    if weight.shape != (len(documents),):
        raise UsageError(f"sample_weight: {weight.size} weights for {len(documents)} documents (one per document)")
    # a zero would leave some inner folds with nothing to learn from; leave the pages out instead
    if not np.isfinite(weight).all() or (weight <= 0).any():
        raise UsageError("sample_weight: weights must be finite and greater than 0")
    return weight


def encode_labels(labels) -> tuple[np.ndarray, np.ndarray]:
    """Label indices in LABELS order (-1 for a partial label) and, per line,
    which labels it may have."""
    names = [label for seq in labels for label in seq]
    index = {name: i for i, name in enumerate(LABELS)}
    allowed = np.zeros((len(names), len(LABELS)), dtype=bool)
    y = np.full(len(names), -1, dtype=np.int64)
    for row, name in enumerate(names):
        if name in index:
            y[row] = index[name]
            allowed[row, index[name]] = True
        elif name in PARTIAL_LABELS:
            allowed[row, [index[label] for label in PARTIAL_LABELS[name]]] = True
        else:
            raise DataFormatError(f"unknown label {name!r}; expected one of {', '.join(LABELS)}")
    return y, allowed
