"""The feature matrix of a batch of pages: every line family, and the
families of each line's neighbours (context).

Character statistics, patterns and cue words are computed for a whole batch
at once (see :mod:`.text`), so a batch of hundreds of small pages costs the
numpy calls of one. A document's features never depend on the others in its
batch (neighbours stop at the document's edges too), so
:func:`batch_features` gives each document exactly the rows that
:func:`document_features` gives it alone (tests check this).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

import numpy as np

from ..document import Document
from .context import DEFAULT_CONTEXT, with_context
from .families import (
    _Batch,
    language_features,
    length_features,
    pattern_features,
    position_features,
    punctuation_features,
    repetition_features,
)
from .structure import shape_features, thread_features

#: Documents are featurised together up to this many characters at a time:
#: the per-character arrays take some tens of bytes per character.
FEATURE_BATCH_CHARS = 1_000_000

LINE_FAMILIES: tuple[Callable, ...] = (
    length_features,
    punctuation_features,
    pattern_features,
    language_features,
    position_features,
    repetition_features,
    thread_features,
    shape_features,
)


def _batch_line_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    if batch.n_lines == 0:
        return np.zeros((0, len(feature_names(()))), dtype=float), feature_names(())
    arrays, names = [], []
    for family in LINE_FAMILIES:
        values, cols = family(batch)
        arrays.append(values)
        names += cols
    return np.hstack(arrays).astype(np.float32), names


def line_features(doc: Document) -> tuple[np.ndarray, list[str]]:
    """All feature families of a document's own lines, without context."""
    return _batch_line_features(_Batch.of([doc]))


def document_features(doc: Document, context: Sequence[int] = DEFAULT_CONTEXT) -> np.ndarray:
    """Each line's features followed by those of its neighbours at ``context`` offsets."""
    values, names = line_features(doc)
    return with_context(values, names, context)[0]


def batch_features(
    documents: Sequence[Document], context: Sequence[int] = DEFAULT_CONTEXT, out: np.ndarray | None = None
) -> np.ndarray:
    """:func:`document_features` of each document, stacked (the same rows,
    computed together, FEATURE_BATCH_CHARS characters at a time). With
    ``out`` (a row per line, a column per feature), they are written there
    and ``out`` is returned: a caller that adds columns spares a copy."""
    documents = list(documents)
    if out is None:
        slices = [_stacked_features(documents[a:b], context) for a, b in _slices(documents)]
        return np.vstack(slices) if slices else np.zeros((0, len(feature_names(context))))
    rows = sum(doc.n_units for doc in documents)
    if out.shape != (rows, len(feature_names(context))):
        raise ValueError(f"out has shape {out.shape}, not {(rows, len(feature_names(context)))}")
    start = 0
    for a, b in _slices(documents):
        end = start + sum(doc.n_units for doc in documents[a:b])
        _stacked_features(documents[a:b], context, out[start:end])
        start = end
    return out


def _slices(documents: Sequence[Document]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of documents of at most FEATURE_BATCH_CHARS characters (or one document)."""
    start, chars = 0, 0
    for end, doc in enumerate(documents):
        size = sum(map(len, doc.units))
        if end > start and chars + size > FEATURE_BATCH_CHARS:
            yield start, end
            start, chars = end, 0
        chars += size
    if start < len(documents):
        yield start, len(documents)


def _stacked_features(documents: Sequence[Document], context: Sequence[int], out: np.ndarray | None = None) -> np.ndarray:
    batch = _Batch.of(documents)
    values, names = _batch_line_features(batch)
    stacked = with_context(values, names, context, batch.doc, out)[0]
    if out is None and any(doc.n_units == 0 for doc in batch.documents):
        # an empty document's rows are float64, and a batch's rows must be
        # each document's rows stacked (which matters only without context,
        # where the others are float32)
        stacked = stacked.astype(np.float64, copy=False)
    return stacked


@lru_cache(maxsize=None)
def _base_names() -> tuple[str, ...]:
    return tuple(line_features(Document.from_lines(["A line."]))[1])


def feature_names(context: Sequence[int] = DEFAULT_CONTEXT) -> list[str]:
    """Column names of :func:`document_features` for the given context."""
    names = list(_base_names())
    if not context:
        return names
    dummy = np.zeros((1, len(names)))
    return with_context(dummy, names, context)[1]


