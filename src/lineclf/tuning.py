"""Per-label decision offsets (``LineClassifier.label_bias``) tuned on
cross-validated probabilities.

The trees are trained with label weights, and the labels' shares differ from
corpus to corpus, so the most probable label is not always the best call: in
gn1 most teasers come out as chrome. Adding an offset per label to the log
probabilities moves those decisions. The offsets are chosen to maximise
macro-F1 (averaged over the training sources, so that a small corpus counts as
much as a large one) by coordinate ascent over a grid; chrome's offset stays 0,
as only differences between offsets matter.

Scores of tuned offsets are honest only if the offsets never saw the pages
scored: :func:`nested_label_bias` tunes them for each fold on the other folds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .labels import LABELS

#: The offsets tried for each label (log-probability units).
BIAS_GRID = np.arange(-1.5, 4.01, 0.25)
#: Rounds of coordinate ascent over the labels.
BIAS_SWEEPS = 2
#: The label whose offset stays 0.
BIAS_ANCHOR = "chrome"
# probabilities are clipped here before the log: a tree's 0 must stay comparable
_FLOOR = 1e-9


def tune_label_bias(
    probas: Sequence[np.ndarray], labels: Sequence[Sequence[str]], sources: Sequence[str] | None = None
) -> np.ndarray:
    """Offsets (one per label, LABELS order) that maximise the mean over
    ``sources`` (one name per document; default: all one source) of the
    macro-F1 of ``argmax(log(proba) + offsets)`` against ``labels``."""
    scorer = _Scorer(probas, labels, sources)
    bias = np.zeros(len(LABELS))
    anchor = LABELS.index(BIAS_ANCHOR)
    for _ in range(BIAS_SWEEPS):
        for j in range(len(LABELS)):
            if j == anchor:
                continue
            scores = []
            for value in BIAS_GRID:
                trial = bias.copy()
                trial[j] = value
                scores.append(scorer.score(trial))
            # the first best value: ties go to the smaller offset
            bias[j] = BIAS_GRID[int(np.argmax(scores))]
    return bias


def nested_label_bias(
    probas: Sequence[np.ndarray],
    labels: Sequence[Sequence[str]],
    folds: np.ndarray,
    sources: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each document's labels under offsets tuned on the other folds'
    documents, and the offsets of each fold (in fold order)."""
    folds = np.asarray(folds)
    names = np.asarray(LABELS)
    predicted: list[np.ndarray | None] = [None] * len(probas)
    per_fold = []
    for fold in np.unique(folds):
        train = np.flatnonzero(folds != fold)
        bias = tune_label_bias(
            [probas[i] for i in train], [labels[i] for i in train], None if sources is None else [sources[i] for i in train]
        )
        per_fold.append(bias)
        for i in np.flatnonzero(folds == fold):
            predicted[i] = names[biased_argmax(probas[i], bias)] if len(probas[i]) else np.array([], dtype=names.dtype)
    return predicted, per_fold  # type: ignore[return-value]


def biased_argmax(proba: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The label index of each row of ``proba`` after the offsets."""
    return (np.log(np.clip(proba, _FLOOR, 1.0)) + bias).argmax(axis=1)


class _Scorer:
    """Mean macro-F1 over sources of offset decisions, with each source's
    lines stacked once."""

    def __init__(self, probas, labels, sources):
        index = {label: i for i, label in enumerate(LABELS)}
        sources = list(sources) if sources is not None else [""] * len(probas)
        self.parts = []
        for source in dict.fromkeys(sources):
            docs = [i for i, s in enumerate(sources) if s == source and len(probas[i])]
            if not docs:
                continue
            y = np.concatenate([[index[label] for label in labels[i]] for i in docs]).astype(np.int64)
            log_proba = np.log(np.clip(np.vstack([probas[i] for i in docs]), _FLOOR, 1.0))
            self.parts.append((y, log_proba))
        if not self.parts:
            raise ValueError("no labelled lines to tune label offsets on")

    def score(self, bias: np.ndarray) -> float:
        return float(np.mean([_macro_f1(y, (log_proba + bias).argmax(axis=1)) for y, log_proba in self.parts]))


def _macro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    n = len(LABELS)
    confusion = np.bincount(y * n + predicted, minlength=n * n).reshape(n, n)
    # as metrics.Report.macro_f1: over the labels that occur in truth or prediction
    counted = confusion.sum(axis=0) + confusion.sum(axis=1)
    f1 = 2 * np.diag(confusion) / np.maximum(counted, 1)
    return float(f1[counted > 0].mean())
