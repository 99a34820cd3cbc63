"""The revision features of a batch (lineclf.model.revision) against what
each page alone gives, computed page by page as lineclf did before: equal bit
for bit, padding, chunks and all."""

from __future__ import annotations

import numpy as np
import pytest

from lineclf.features import densest_run, run_position, shift, window_mean
from lineclf.labels import LABELS
from lineclf.model import revision
from lineclf.model.revision import REGION_RADIUS, REGION_REACH, SECOND_PASS_CONTEXT, revision_features


def page_region(part: np.ndarray, is_long: np.ndarray) -> np.ndarray:
    """The region features of one page alone."""
    body, headline = LABELS.index("body"), LABELS.index("headline")
    n = len(part)
    index = np.arange(n)
    p = part[:, body]
    before_at = np.concatenate(([-1], np.maximum.accumulate(np.where(is_long, index, -1))[:-1]))
    after_at = np.concatenate((np.minimum.accumulate(np.where(is_long, index, n)[::-1])[::-1][1:], [n]))
    has_before, has_after = before_at >= 0, after_at < n
    before = np.where(has_before, p[np.maximum(before_at, 0)], 0.0)
    after = np.where(has_after, p[np.minimum(after_at, n - 1)], 0.0)
    signed = index - int(np.argmax(part[:, headline]))
    return np.column_stack(
        [
            before,
            after,
            np.minimum(before, after),
            np.log1p(np.where(has_before, index - before_at, REGION_REACH).clip(0, REGION_REACH)),
            np.log1p(np.where(has_after, after_at - index, REGION_REACH).clip(0, REGION_REACH)),
            window_mean(p, REGION_RADIUS),
            (np.cumsum(p) - p) / max(p.sum(), 1e-9),
            np.sign(signed) * np.log1p(np.abs(signed)),
        ]
    )


def page_by_page(proba: np.ndarray, offsets: np.ndarray, is_long: np.ndarray) -> np.ndarray:
    """The revision features, each page alone, stacked."""
    body = LABELS.index("body")
    width = len(LABELS) * (3 + len(SECOND_PASS_CONTEXT)) + 3 + revision.REGION_COLUMNS
    blocks = [np.zeros((0, width))]
    for a, b in zip(offsets[:-1], offsets[1:]):
        part = proba[a:b]
        if len(part) == 0:
            continue
        start, end = densest_run(part[:, body] > 0.5, part[:, body])
        blocks.append(
            np.hstack(
                [part]
                + [shift(part, k) for k in SECOND_PASS_CONTEXT]
                + [
                    np.broadcast_to(part.mean(axis=0), part.shape),
                    part / np.maximum(part.max(axis=0), 1e-9),
                    run_position(len(part), start, end),
                    page_region(part, is_long[a:b]),
                ]
            )
        )
    return np.vstack(blocks)


def batch(seed: int, lengths: list[int], coarse: bool = False):
    """Probabilities of pages of these lengths (``coarse``: rounded to a
    tenth, so that maxima, runs and argmaxes tie), which lines are long, offsets."""
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    proba = rng.dirichlet(np.full(len(LABELS), 0.4), size=n)
    if coarse:
        proba = np.round(proba, 1)
    is_long = rng.random(n) < rng.choice([0.0, 0.1, 0.5, 1.0])
    return proba, np.concatenate(([0], np.cumsum(lengths))).astype(np.int64), is_long


LENGTHS = [
    [1],
    [3, 0, 0, 5],
    [0, 0],
    [40, 1, 1, 300, 2],
    [0, 17, 0],
    [7] * 30,
    [1000],
    [2, 150, 3, 0, 60, 1, 1, 1, 25],
]


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("coarse", [False, True])
@pytest.mark.parametrize("cells", [revision.PADDED_CELLS, 50, 1])
def test_the_batch_gives_each_page_what_it_gives_alone(lengths, coarse, cells, monkeypatch):
    monkeypatch.setattr(revision, "PADDED_CELLS", cells)  # chunks of every size, a page longer than one
    for seed in range(4):
        proba, offsets, is_long = batch(seed, lengths, coarse)
        got, expected = revision_features(proba, offsets, is_long), page_by_page(proba, offsets, is_long)
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_pages_without_likely_body_or_long_lines():
    """No line likely body: no densest run (-1, -1); no long line: no region around it."""
    proba = np.zeros((6, len(LABELS)))
    proba[:, LABELS.index("chrome")] = 1.0
    offsets = np.array([0, 2, 6])
    got = revision_features(proba, offsets, np.zeros(6, dtype=bool))
    np.testing.assert_array_equal(got, page_by_page(proba, offsets, np.zeros(6, dtype=bool)))
    assert got.shape[0] == 6
    # a page whose body probabilities sum to next to nothing: its share before each line
    proba[:3, LABELS.index("body")] = 1e-8
    np.testing.assert_array_equal(revision_features(proba, offsets, np.ones(6, dtype=bool)), page_by_page(proba, offsets, np.ones(6, dtype=bool)))


def test_chunks_cover_every_page_once_within_the_cells(monkeypatch):
    monkeypatch.setattr(revision, "PADDED_CELLS", 100)
    lengths = np.array([5, 1, 300, 2, 2, 2, 80, 1])
    chunks = list(revision._chunks(lengths))
    assert [i for c in chunks for i in range(c.start, c.stop)] == list(range(len(lengths)))
    for c in chunks:
        part = lengths[c]
        assert len(part) == 1 or part.max() * len(part) <= 100
