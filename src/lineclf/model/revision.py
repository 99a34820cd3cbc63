"""What the second pass sees of the first: the revision features of a batch.

Each page's rows are what that page alone gives: its lines' and their
neighbours' probabilities, the page's label mix and highest probabilities,
where each line lies relative to the page's most body-like run of lines and
in its main content. They are computed for a whole batch at once. The
running sums (a page's densest run, its windows, the share of its body
probability before a line) are taken with the batch's pages laid side by
side in a padded array, one page a row, so that each page's sums add the
same numbers in the same order as the page alone: a running sum over the
whole batch would round differently. The page sums numpy takes pairwise are
taken page by page.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..features.context import SHORT_LINE_PENALTY, _run_positions
from ..labels import LABELS

#: Neighbour offsets whose first-pass probabilities the second pass sees.
SECOND_PASS_CONTEXT = (-3, -2, -1, 1, 2, 3)
#: Lines on either side over which the second pass averages the first's body probability.
REGION_RADIUS = 8
#: Distances (in lines) to the nearest long line are capped here.
REGION_REACH = 50
#: Columns of :func:`region_features`.
REGION_COLUMNS = 8
#: Pages laid side by side take at most this many cells (padding included),
#: unless one page alone is longer.
PADDED_CELLS = 1 << 20

_BODY, _HEADLINE = LABELS.index("body"), LABELS.index("headline")


class _Pages:
    """Consecutive non-empty pages of a batch, side by side: row r of a
    padded array is page r, column j its line j (past its end: padding)."""

    def __init__(self, start: np.ndarray, length: np.ndarray):
        self.start, self.length = start, length
        self.n = length[:, None]
        self.index = np.arange(int(length.max()))[None, :]
        self.valid = self.index < self.n
        # past a page's end, its last row (every cell then reads the page's own rows)
        self.rows = start[:, None] + np.minimum(self.index, self.n - 1)

    def padded(self, values: np.ndarray, fill=0.0) -> np.ndarray:
        """The batch rows' ``values`` laid out, ``fill`` past each page's end."""
        return np.where(self.valid, values[self.rows], fill)

    def rows_of(self, padded: np.ndarray) -> np.ndarray:
        """A padded array's cells back in the batch's row order."""
        return padded[self.valid]


def _chunks(length: np.ndarray) -> Iterator[slice]:
    """Runs of consecutive pages whose padded layout holds at most PADDED_CELLS cells (or one page)."""
    first, longest = 0, 0
    for page, n in enumerate(length.tolist()):
        if page > first and max(longest, n) * (page + 1 - first) > PADDED_CELLS:
            yield slice(first, page)
            first, longest = page, 0
        longest = max(longest, n)
    if first < len(length):
        yield slice(first, len(length))


def revision_features(proba: np.ndarray, offsets: np.ndarray, is_long: np.ndarray) -> np.ndarray:
    """What the second pass sees of the first: the line's and its neighbours'
    probabilities, the page's label mix, each probability relative to the
    page's highest for that label (a page has one main headline), where the
    line lies relative to the page's most body-like run of lines
    (:func:`~lineclf.features.densest_run`), and its place in the main
    content (:func:`region_features`; ``is_long``: which lines are long).
    ``offsets``: where each page's rows start, and the last ends."""
    k = len(LABELS)
    n = len(proba)
    width = k * (3 + len(SECOND_PASS_CONTEXT)) + 3 + REGION_COLUMNS
    out = np.empty((n, width))
    offsets = np.asarray(offsets, dtype=np.int64)
    length = np.diff(offsets)
    pages = np.flatnonzero(length)
    if n == 0 or not len(pages):
        return out[:0]
    start, length = offsets[:-1][pages], length[pages]
    page_of_row = np.repeat(np.arange(len(pages)), length)
    out[:, :k] = proba
    column = k
    for offset in SECOND_PASS_CONTEXT:
        # the line ``offset`` away on the same page, or zeros
        block = out[:, column : column + k]
        reach = min(abs(offset), n)
        rows = np.arange(n - reach) if offset >= 0 else np.arange(reach, n)
        if offset >= 0:
            block[: n - reach], block[n - reach :] = proba[reach:], 0.0
        else:
            block[reach:], block[:reach] = proba[: n - reach], 0.0
        block[rows[page_of_row[rows] != page_of_row[rows + offset]]] = 0.0
        column += k
    # a page's mean as numpy takes it (a sum over rows, divided), and its body sum (pairwise)
    means, body_sums = np.empty((len(pages), k)), np.empty(len(pages))
    for page, (a, b) in enumerate(zip(start.tolist(), (start + length).tolist())):
        means[page] = proba[a:b].mean(axis=0)
        body_sums[page] = proba[a:b, _BODY].sum()
    out[:, column : column + k] = means[page_of_row]
    highest = np.maximum.reduceat(proba, start, axis=0)
    out[:, column + k : column + 2 * k] = proba / np.maximum(highest, 1e-9)[page_of_row]
    column += 2 * k
    for chunk in _chunks(length):
        layout = _Pages(start[chunk], length[chunk])
        rows = slice(int(layout.start[0]), int(layout.start[-1] + layout.length[-1]))
        out[rows, column : column + 3] = _run_columns(layout, proba)
        out[rows, column + 3 :] = region_features(layout, proba, is_long, body_sums[chunk])
    return out


def _run_columns(pages: _Pages, proba: np.ndarray) -> np.ndarray:
    """Each line's place relative to its page's densest run of lines likely
    body (:func:`~lineclf.features.densest_run` of each page, side by side)."""
    body = pages.padded(proba[:, _BODY])
    likely = (body > 0.5) & pages.valid
    value = np.where(likely, body, -SHORT_LINE_PENALTY)
    cum = np.hstack([np.zeros((len(body), 1)), np.cumsum(value, axis=1)])
    gain = cum[:, 1:] - np.minimum.accumulate(cum[:, :-1], axis=1)
    gain[~pages.valid] = -np.inf
    end = np.argmax(gain, axis=1)
    before_end = np.arange(cum.shape[1])[None, :] <= end[:, None]
    run_start = np.argmin(np.where(before_end, cum, np.inf), axis=1)
    has_run = likely.any(axis=1)
    run_start, end = np.where(has_run, run_start, -1), np.where(has_run, end, -1)
    index = pages.rows_of(np.broadcast_to(pages.index, pages.valid.shape))
    page = pages.rows_of(np.broadcast_to(np.arange(len(body))[:, None], pages.valid.shape))
    return _run_positions(index, run_start[page], end[page])


def region_features(pages: _Pages, proba: np.ndarray, is_long: np.ndarray, body_sums: np.ndarray) -> np.ndarray:
    """Where each line of each page lies in its main content, from the first
    pass's probabilities: the body probability of the nearest long line
    before and after it (a list between two paragraphs is inside the
    article, a list after its last one is not) and how far those are, the
    body probability around it, the share of the page's body probability
    (``body_sums``, one per page) before it, and its signed distance from
    the page's most headline-like line."""
    n, index = pages.n, pages.index
    p = pages.padded(proba[:, _BODY])
    long = pages.padded(is_long, False)
    # the nearest long line strictly before and strictly after each line
    last_long = np.maximum.accumulate(np.where(long, index, -1), axis=1)
    before_at = np.hstack([np.full((len(p), 1), -1), last_long[:, :-1]])
    next_long = np.minimum.accumulate(np.where(long, index, n)[:, ::-1], axis=1)[:, ::-1]
    after_at = np.hstack([next_long[:, 1:], n])
    has_before, has_after = before_at >= 0, after_at < n
    before = np.where(has_before, np.take_along_axis(p, np.maximum(before_at, 0), axis=1), 0.0)
    after = np.where(has_after, np.take_along_axis(p, np.minimum(after_at, n - 1), axis=1), 0.0)
    signed = index - np.argmax(pages.padded(proba[:, _HEADLINE], -np.inf), axis=1)[:, None]
    window = 2 * REGION_RADIUS + 1
    padded = np.hstack([np.zeros((len(p), REGION_RADIUS)), p, np.zeros((len(p), REGION_RADIUS))])
    sums = np.hstack([np.zeros((len(p), 1)), np.cumsum(padded, axis=1)])
    columns = [
        before,
        after,
        np.minimum(before, after),
        np.log1p(np.where(has_before, index - before_at, REGION_REACH).clip(0, REGION_REACH)),
        np.log1p(np.where(has_after, after_at - index, REGION_REACH).clip(0, REGION_REACH)),
        (sums[:, window:] - sums[:, :-window]) / window,
        (np.cumsum(p, axis=1) - p) / np.maximum(body_sums, 1e-9)[:, None],
        np.sign(signed) * np.log1p(np.abs(signed)),
    ]
    return np.column_stack([pages.rows_of(c) for c in columns])
