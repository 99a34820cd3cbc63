"""Labelling documents with bounded memory: a page within the limits in one
call of the model, an oversized page in pieces, and many pages in calls of a
few thousand lines each.

The model labels each page on its own, so how pages are grouped into calls
changes the speed, never the labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..document import Document, is_blank
from ..features import SiteCounts
from ..labels import LABELS, label_names
from ..model.predictor import Predictor

# Limits on what the model sees of one dump at once: far beyond real pages
# (the training pages have at most 1,281 lines and 7,514 characters in a
# line), they keep a 10 MB line or a million-line file from taking minutes
# and gigabytes (features cost a few kB per line).
#: A longer line is classified from its first this-many characters (its text is still written whole).
MAX_LINE_CHARS = 100_000
#: A longer dump is classified in consecutive pieces of at most this many lines ...
PIECE_LINES = 10_000
#: ... and at most this many characters (as the model sees them).
PIECE_CHARS = 2_000_000
#: Pages within those limits are labelled together, in one call of the model
#: per this many lines (and CALL_CHARS characters) at most. A call has fixed
#: costs (the numpy and regex calls of its features, the trees' set-up) that
#: dominate one call per page; past a few thousand lines a call gains little
#: more (the trees walk rows in cache-sized blocks anyway, see
#: ``lineclf._native``) and holds more memory.
CALL_LINES = 2_000
CALL_CHARS = PIECE_CHARS


def predict_document(
    model: Predictor,
    doc: Document,
    max_line_chars: int = MAX_LINE_CHARS,
    piece_lines: int = PIECE_LINES,
    piece_chars: int = PIECE_CHARS,
    site_counts: SiteCounts | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities (one row per non-blank line) of one document.

    A document within the limits (every real page) is labelled whole, exactly
    as ``model.predict_proba([doc])`` does. A larger one is labelled in
    consecutive pieces of at most ``piece_lines`` lines and ``piece_chars``
    characters, cut after a blank line where one is near, with each line
    longer than ``max_line_chars`` seen only up to that length: memory and
    time then stay bounded whatever the input. ``site_counts``: line counts
    of the batch the document belongs to (see :mod:`lineclf.features.site`).
    """
    lengths = np.fromiter(map(len, doc.lines), dtype=np.int64, count=len(doc.lines))
    clip = bool(lengths.max(initial=0) > max_line_chars)
    if len(lengths) <= piece_lines and lengths.sum() <= piece_chars and not clip:
        (proba,) = model.predict_proba([doc], site_counts)
    else:
        seen = np.minimum(lengths, max_line_chars) + 1
        parts = [
            model.predict_proba([_model_view(doc, start, end, max_line_chars, clip)], site_counts)[0]
            for start, end in _pieces(seen, doc, piece_lines, piece_chars)
        ]
        proba = np.vstack(parts) if parts else np.zeros((0, len(LABELS)))
    return label_names(proba), proba


def _pieces(seen: np.ndarray, doc: Document, piece_lines: int, piece_chars: int) -> Iterator[tuple[int, int]]:
    """Consecutive line ranges within the limits (a single line may exceed
    ``piece_chars``: it is already clipped)."""
    ends = np.cumsum(seen)
    n, start = len(seen), 0
    while start < n:
        before = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, before + piece_chars, side="right"))
        end = min(max(end, start + 1), start + piece_lines, n)
        if end < n:
            # cut after a blank line in the last quarter, so blocks stay together
            for k in range(end - 1, start + (end - start) * 3 // 4, -1):
                if is_blank(doc.lines[k]):
                    end = k + 1
                    break
        yield start, end
        start = end


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    clipped = text[:limit]
    # a non-blank line must stay non-blank, or the line would lose its label
    return clipped if is_blank(text) or not is_blank(clipped) else text.lstrip()[:limit]


def _model_view(doc: Document, start: int, end: int, max_line_chars: int, clip: bool) -> Document:
    lines = doc.lines[start:end]
    return Document(
        name=doc.name,
        lines=tuple(_clip(text, max_line_chars) for text in lines) if clip else lines,
        line_ends=doc.line_ends[start:end],
        site=doc.site,
    )


def _too_big(doc: Document, max_line_chars: int, piece_lines: int, piece_chars: int) -> bool:
    return len(doc.lines) > piece_lines or _chars(doc) > piece_chars or any(len(t) > max_line_chars for t in doc.lines)


def _chars(doc: Document) -> int:
    return sum(map(len, doc.lines))


def predict_many(
    model: Predictor,
    documents: Sequence[Document],
    max_line_chars: int = MAX_LINE_CHARS,
    piece_lines: int = PIECE_LINES,
    piece_chars: int = PIECE_CHARS,
    site_counts: SiteCounts | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Labels and probabilities of each document, as :func:`predict_document`
    gives them, with consecutive ordinary pages labelled together in one call
    of the model (at most CALL_LINES lines and CALL_CHARS characters a
    call). The model labels each page on its own, so this changes the speed,
    not the result; an oversized page is labelled alone, in pieces.

    Repetition across pages (a model with ``site_repetition``) is counted over
    ``site_counts``, a whole batch's counts, or else over ``documents``."""
    if site_counts is None and model.site_repetition:
        site_counts = SiteCounts.of(documents)
    results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(documents)
    for group, alone in model_calls(documents, max_line_chars, piece_lines, piece_chars):
        if alone:
            results[group[0]] = predict_document(model, documents[group[0]], max_line_chars, piece_lines, piece_chars, site_counts)
            continue
        for i, proba in zip(group, model.predict_proba([documents[i] for i in group], site_counts)):
            results[i] = (label_names(proba), proba)
    return results  # type: ignore[return-value]


def model_calls(
    documents: Sequence[Document],
    max_line_chars: int = MAX_LINE_CHARS,
    piece_lines: int = PIECE_LINES,
    piece_chars: int = PIECE_CHARS,
) -> Iterator[tuple[list[int], bool]]:
    """The pages :func:`predict_many` labels in one call of the model: runs of
    consecutive ordinary pages (at most CALL_LINES lines and CALL_CHARS
    characters), as ``(indices, False)``, and each oversized page alone, as
    ``([index], True)``."""
    group: list[int] = []
    lines = chars = 0
    for i, doc in enumerate(documents):
        if _too_big(doc, max_line_chars, piece_lines, piece_chars):
            if group:
                yield group, False
                group, lines, chars = [], 0, 0
            yield [i], True
            continue
        size, width = len(doc.lines), _chars(doc)
        if group and (lines + size > CALL_LINES or chars + width > CALL_CHARS):
            yield group, False
            group, lines, chars = [], 0, 0
        group.append(i)
        lines, chars = lines + size, chars + width
    if group:
        yield group, False
