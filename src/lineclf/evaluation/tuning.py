"""Per-label decision offsets (``LineClassifier.label_bias``) tuned on
cross-validated probabilities.

The trees are trained with label weights, and the labels' shares differ from
corpus to corpus, so the most probable label is not always the best call: in
gn1 most teasers come out as chrome. Adding an offset per label to the log
probabilities moves those decisions. The offsets are chosen by coordinate
ascent over a grid to maximise the mean over the training sources (so that a
small corpus counts as much as a large one) of each source's score: macro-F1
of its fully labelled lines, and content F1 (body, headline or caption
against teaser or chrome) of its partially labelled ones (content, noise), so
that a corpus that only tells main text from noise still has its say on the
offsets that move lines between the two. Chrome's offset stays 0, as only
differences between offsets matter; ``tuned`` limits the offsets tuned to
some labels (the others stay 0).

Scores of tuned offsets are honest only if the offsets never saw the pages
scored: :func:`nested_label_bias` tunes them for each fold on the other folds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..labels import CONTENT_LABELS, LABELS, PARTIAL_LABELS
from .metrics import f1_of_counts

#: The offsets tried for each label (log-probability units).
BIAS_GRID = np.arange(-1.5, 4.01, 0.25)
#: Rounds of coordinate ascent over the labels.
BIAS_SWEEPS = 2
#: The label whose offset stays 0.
BIAS_ANCHOR = "chrome"
# probabilities are clipped here before the log: a tree's 0 must stay comparable
_FLOOR = 1e-9


def tune_label_bias(
    probas: Sequence[np.ndarray],
    labels: Sequence[Sequence[str]],
    sources: Sequence[str] | None = None,
    tuned: Sequence[str] | None = None,
) -> np.ndarray:
    """Offsets (one per label, LABELS order) that maximise the mean over
    ``sources`` (one name per document; default: all one source) of the
    scores of ``argmax(log(proba) + offsets)`` against ``labels`` (see the
    module's docstring). ``tuned``: the labels whose offsets are tuned
    (default: all but the anchor); the others stay 0."""
    scorer = _Scorer(probas, labels, sources)
    bias = np.zeros(len(LABELS))
    for _ in range(BIAS_SWEEPS):
        for j in tuned_label_indices(tuned):
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
    tuned: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each document's labels under offsets tuned on the other folds'
    documents, and the offsets of each fold (in fold order)."""
    folds = np.asarray(folds)
    predicted: list[np.ndarray | None] = [None] * len(probas)
    per_fold = []
    for fold in np.unique(folds):
        train = np.flatnonzero(folds != fold)
        bias = tune_label_bias(
            [probas[i] for i in train],
            [labels[i] for i in train],
            None if sources is None else [sources[i] for i in train],
            tuned,
        )
        per_fold.append(bias)
        for i in np.flatnonzero(folds == fold):
            predicted[i] = _LABEL_ARRAY[biased_argmax(probas[i], bias)] if len(probas[i]) else _LABEL_ARRAY[:0]
    return predicted, per_fold  # type: ignore[return-value]


def tuned_label_indices(tuned: Sequence[str] | None) -> list[int]:
    """Indices (LABELS order) of the labels whose offsets are tuned: ``tuned``,
    or all of them, but never the anchor; an unknown label is a ValueError."""
    names = list(LABELS) if tuned is None else list(tuned)
    unknown = [name for name in names if name not in LABELS]
    if unknown:
        raise ValueError(f"unknown label {unknown[0]!r} to tune; expected some of {', '.join(LABELS)}")
    indices = [LABELS.index(name) for name in LABELS if name in names and name != BIAS_ANCHOR]
    if not indices:
        raise ValueError(f"no label offset to tune ({BIAS_ANCHOR}'s stays 0)")
    return indices


def biased_argmax(proba: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The label index of each row of ``proba`` after the offsets."""
    return (np.log(np.clip(proba, _FLOOR, 1.0)) + bias).argmax(axis=1)


_LABEL_ARRAY = np.asarray(LABELS)
# per label index: whether it is a content label
_IS_CONTENT = np.array([label in CONTENT_LABELS for label in LABELS])


class _Scorer:
    """Mean over sources of the scores of offset decisions (macro-F1 of the
    fully labelled lines, content F1 of the partially labelled ones), with
    each source's lines stacked once."""

    def __init__(self, probas, labels, sources):
        index = {label: i for i, label in enumerate(LABELS)}
        sources = list(sources) if sources is not None else [""] * len(probas)
        # (score function, truth, log probabilities) per scored part of a source
        self.parts = []
        for source in dict.fromkeys(sources):
            docs = [i for i, s in enumerate(sources) if s == source and len(probas[i])]
            if not docs:
                continue
            names = np.concatenate([np.asarray(labels[i], dtype=object) for i in docs])
            unknown = set(names) - set(LABELS) - set(PARTIAL_LABELS)
            if unknown:
                raise ValueError(f"unknown label {sorted(unknown)[0]!r} to tune label offsets on")
            log_proba = np.log(np.clip(np.vstack([probas[i] for i in docs]), _FLOOR, 1.0))
            full = np.isin(names, LABELS)
            if full.any():
                y = np.array([index[name] for name in names[full]], dtype=np.int64)
                self.parts.append((_macro_f1, y, log_proba[full]))
            if not full.all():
                self.parts.append((_content_f1, names[~full] == "content", log_proba[~full]))
        if not self.parts:
            raise ValueError("no labelled lines to tune label offsets on")

    def score(self, bias: np.ndarray) -> float:
        return float(np.mean([score(y, (log_proba + bias).argmax(axis=1)) for score, y, log_proba in self.parts]))


def _content_f1(is_content: np.ndarray, predicted: np.ndarray) -> float:
    """F1 of content lines (truth: a boolean per line) given predicted label indices."""
    predicted_content = _IS_CONTENT[predicted]
    return float(f1_of_counts((is_content & predicted_content).sum(), is_content.sum(), predicted_content.sum()))


def _macro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    n = len(LABELS)
    confusion = np.bincount(y * n + predicted, minlength=n * n).reshape(n, n)
    # as metrics.Report.macro_f1: over the labels that occur in truth or prediction
    true_count, predicted_count = confusion.sum(axis=1), confusion.sum(axis=0)
    f1 = f1_of_counts(np.diag(confusion), true_count, predicted_count)
    return float(f1[(true_count + predicted_count) > 0].mean())
