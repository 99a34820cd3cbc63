"""Site-grouped cross-validation of a line classifier, and scoring a fitted one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from ..document import Document, document_groups
from ..errors import UsageError
from ..labels import label_names
from .metrics import Report

logger = logging.getLogger(__name__)

#: Folds of the cross-validation that `lineclf train` reports.
DEFAULT_FOLDS = 5


def cross_val_predict(
    estimator,
    documents: Sequence[Document],
    n_splits: int = DEFAULT_FOLDS,
    groups: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    sample_weight: Sequence[float] | None = None,
) -> list[np.ndarray]:
    """Predict each document with a clone of ``estimator`` fitted on the other
    folds; folds never split a group (a site), so scores are for unseen sites.
    ``sample_weight``: one per document, passed to ``fit`` for the training folds."""
    probas, _ = cross_val_proba(estimator, documents, n_splits, groups, progress, sample_weight)
    return most_probable_labels(probas)


def most_probable_labels(probas: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The most probable label of each line, per document (columns in LABELS order)."""
    return [label_names(p) for p in probas]


def cross_val_proba(
    estimator,
    documents: Sequence[Document],
    n_splits: int = DEFAULT_FOLDS,
    groups: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    sample_weight: Sequence[float] | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """As :func:`cross_val_predict`, the label probabilities (LABELS order) of
    each document, and the fold each document was predicted in."""
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    documents = list(documents)
    groups = list(groups) if groups is not None else document_groups(documents)
    n_splits = min(n_splits, len(set(groups)))
    if n_splits < 2:
        raise UsageError("cross-validation needs labelled pages from at least two sites (or files)")
    probas: list[np.ndarray | None] = [None] * len(documents)
    fold_of = np.zeros(len(documents), dtype=np.int64)
    splitter = GroupKFold(n_splits=n_splits)
    for fold, (train, test) in enumerate(splitter.split(documents, groups=groups)):
        logger.info("fold %d/%d: %d training pages, %d test pages", fold + 1, n_splits, len(train), len(test))
        weight = None if sample_weight is None else [sample_weight[i] for i in train]
        model = clone(estimator).fit([documents[i] for i in train], groups=[groups[i] for i in train], sample_weight=weight)
        for i, proba in zip(test, model.predict_proba([documents[i] for i in test])):
            probas[i] = proba
        fold_of[test] = fold
        if progress is not None:
            progress(fold + 1, n_splits)
    return probas, fold_of  # type: ignore[return-value]


def evaluate(model, documents: Sequence[Document]) -> Report:
    """Score a fitted model on labelled documents."""
    documents = list(documents)
    return Report.from_documents(documents, model.predict(documents))
