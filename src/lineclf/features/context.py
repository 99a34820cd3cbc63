"""Sequence helpers over one page's (or a batch's) rows: neighbours'
values, window means, and the densest run of long lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Neighbour offsets whose features are appended to each line's own.
DEFAULT_CONTEXT = (-2, -1, 1, 2)
#: What a short line costs when searching the densest run of long lines.
SHORT_LINE_PENALTY = 4.0


def densest_run(is_long: np.ndarray, weight: np.ndarray, penalty: float = SHORT_LINE_PENALTY) -> tuple[int, int]:
    """First and last index of the run of lines richest in long lines
    (maximum-sum subarray: long lines are worth ``weight``, the others cost
    ``penalty``); ``(-1, -1)`` when there is no long line."""
    if not is_long.any():
        return -1, -1
    value = np.where(is_long, weight, -penalty)
    cum = np.concatenate(([0.0], np.cumsum(value)))
    lowest_before = np.minimum.accumulate(cum[:-1])
    end = int(np.argmax(cum[1:] - lowest_before))
    start = int(np.argmin(cum[: end + 1]))
    return start, end


def run_position(n: int, start: int, end: int) -> np.ndarray:
    """For each of ``n`` lines: log distance before the run, log distance after
    it, and whether it lies inside (all zero when there is no run)."""
    return _run_positions(np.arange(n), np.full(n, start), np.full(n, end))


def _run_positions(index: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """:func:`run_position` of lines at ``index``, each with its own run."""
    has_run = start >= 0
    return np.column_stack(
        [
            np.where(has_run, np.log1p(np.maximum(start - index, 0)), 0.0),
            np.where(has_run, np.log1p(np.maximum(index - end, 0)), 0.0),
            (has_run & (index >= start) & (index <= end)).astype(float),
        ]
    )


def shift(values: np.ndarray, offset: int, doc: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``values`` moved by ``offset`` (row i gets row i+offset), zero-filled;
    with ``doc`` (each row's document), only rows of the same document move."""
    if doc is not None:
        index = np.arange(len(values))
        other = index + offset
        ok = (other >= 0) & (other < len(values))
        ok[ok] = doc[other[ok]] == doc[ok]
        out = np.zeros_like(values)
        out[ok] = values[other[ok]]
        return out
    out = np.zeros_like(values)
    n = len(values)
    if offset > 0:
        out[: max(n - offset, 0)] = values[offset:]
    elif offset < 0:
        out[-offset:] = values[: max(n + offset, 0)]
    else:
        out[:] = values
    return out


def with_context(
    values: np.ndarray,
    names: Sequence[str],
    offsets: Sequence[int],
    doc: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Append the rows of neighbours at ``offsets``, plus whether each neighbour
    exists; with ``doc`` (each row's document), neighbours are of the same document.

    The result is float64 when there are offsets (as ``np.hstack`` of the
    values and the existence columns gives), else of the values' type; or
    it is written into ``out`` (rows by the result's columns), and ``out`` returned.
    """
    n, width = values.shape
    out_names = list(names)
    for offset in offsets:
        out_names += [f"{name}@{offset:+d}" for name in names] + [f"exists@{offset:+d}"]
    if out is None:
        out = np.empty((n, len(out_names)), dtype=np.float64 if offsets else values.dtype)
    elif out.shape != (n, len(out_names)):
        raise ValueError(f"out has shape {out.shape}, not {(n, len(out_names))}")
    out[:, :width] = values
    column = width
    for offset in offsets:
        # each block written in place: a neighbour is the row ``offset`` away,
        # or zeros where that row is past the end or of another document
        block = out[:, column : column + width + 1]
        reach = min(abs(offset), n)
        if offset >= 0:
            block[: n - reach, :width] = values[reach:]
            block[: n - reach, width] = 1
            block[n - reach :] = 0
        else:
            block[reach:, :width] = values[: n - reach]
            block[reach:, width] = 1
            block[:reach] = 0
        if doc is not None and reach < n:
            rows = np.arange(n - reach) if offset >= 0 else np.arange(reach, n)
            crossing = rows[doc[rows] != doc[rows + offset]]
            block[crossing] = 0
        column += width + 1
    return out, out_names


def window_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean of each row of one document's ``values`` and the ``radius`` rows
    on either side (zeros beyond the ends)."""
    pad = [(radius, radius)] + [(0, 0)] * (values.ndim - 1)
    cum = np.concatenate((np.zeros((1,) + values.shape[1:]), np.cumsum(np.pad(values, pad), axis=0)))
    return (cum[2 * radius + 1 :] - cum[: -2 * radius - 1]) / (2 * radius + 1)


