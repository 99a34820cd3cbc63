"""Repetition across a batch of pages: how often each line recurs on the
other pages of its site.

A page's chrome (menus, footers, "most read" headings) recurs on every page
of its site, which a batch can count but a single page cannot show. The
counts are kept as sorted 64-bit hashes of (site, line) pairs, so that a
batch of millions of lines costs a few bytes a line, and two counts made
apart (on two workers, or on two parts of a stream) can be merged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._native import line_hashes
from ..document import Document
from .context import window_mean

#: Page keys are gathered this many at a time before they are merged into
#: the sorted counts (bounds the memory of counting a long stream).
MERGE_EVERY_KEYS = 1 << 20
# menus come in blocks: a line among recurring lines is chrome even when it changes
SITE_SHARE_RADIUS = 2
#: Columns of :func:`site_features`, which the model appends after the page's own.
SITE_FEATURE_NAMES = ("site_log_pages", "site_share", "site_share_near", "site_log_repeats")
_EMPTY_KEYS = np.zeros(0, dtype=np.uint64)
_EMPTY_COUNTS = np.zeros(0, dtype=np.int64)


def _hashes(site: str | None, texts: Sequence[str]) -> np.ndarray:
    """Stable 64-bit hashes of (site, line) pairs, hashed in C
    (``lineclf._native.line_hashes``: MurmurHash3). Python's own ``hash`` of
    a str differs between processes, and counts are made and used in several.
    What makes two lines "the same" across pages: surrounding whitespace
    differs between renderings of one menu, so it is left out of the hash."""
    prefix = b"\x00" if site is None else b"\x01" + site.encode("utf-8", "surrogatepass") + b"\x00"
    return np.frombuffer(line_hashes(prefix, texts), dtype=np.uint64)


@dataclass(frozen=True)
class SiteCounts:
    """On how many pages of each site each line occurs.

    Pages are grouped by ``Document.site`` (the host of the page's URL when
    known); pages without a site form one group, the batch's unknown site.
    A page counts once however often it holds a line.
    """

    keys: np.ndarray = field(default_factory=lambda: _EMPTY_KEYS)
    counts: np.ndarray = field(default_factory=lambda: _EMPTY_COUNTS)
    site_pages: dict[str | None, int] = field(default_factory=dict)

    @classmethod
    def of(cls, documents: Iterable[Document]) -> "SiteCounts":
        """Count the lines of a batch of pages (any iterable, read once)."""
        counts = cls()
        pending: list[np.ndarray] = []
        pending_keys = 0
        pages: Counter[str | None] = Counter()
        for doc in documents:
            pages[doc.site] += 1
            keys = np.unique(_hashes(doc.site, doc.units))
            pending.append(keys)
            pending_keys += len(keys)
            if pending_keys >= MERGE_EVERY_KEYS:
                counts = counts._add(pending)
                pending, pending_keys = [], 0
        counts = counts._add(pending)
        return cls(counts.keys, counts.counts, dict(pages))

    def _add(self, page_keys: list[np.ndarray]) -> "SiteCounts":
        """These counts and one page more for each array of a page's (unique) keys."""
        if not page_keys:
            return self
        added = np.concatenate(page_keys)
        keys, counts = _summed([self.keys, added], [self.counts, np.ones(len(added), dtype=np.int64)])
        return SiteCounts(keys, counts, self.site_pages)

    def merge(self, other: "SiteCounts") -> "SiteCounts":
        """The counts of both batches together (they must not share pages)."""
        keys, counts = _summed([self.keys, other.keys], [self.counts, other.counts])
        pages = Counter(self.site_pages)
        pages.update(other.site_pages)
        return SiteCounts(keys, counts, dict(pages))

    def _find(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each hash, where it is (or would be) in ``keys``, and whether it is there."""
        where = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        return where, self.keys[where] == hashes

    def restricted_to(self, documents: Sequence[Document]) -> "SiteCounts":
        """The counts of just the lines (and sites) of ``documents``: what a
        worker labelling them needs of a whole batch's counts."""
        if len(self.keys) == 0:
            return SiteCounts(site_pages={doc.site: self.pages_of(doc) for doc in documents})
        hashes = np.unique(np.concatenate([_EMPTY_KEYS, *(_hashes(doc.site, doc.units) for doc in documents)]))
        where, found = self._find(hashes)
        kept = where[found]
        return SiteCounts(self.keys[kept], self.counts[kept], {doc.site: self.pages_of(doc) for doc in documents})

    def pages_of(self, doc: Document) -> int:
        """Pages of the document's site in the batch (at least 1: the page itself)."""
        return max(self.site_pages.get(doc.site, 0), 1)

    def line_counts(self, doc: Document) -> np.ndarray:
        """For each unit of ``doc``, on how many pages of its site it occurs
        (at least 1: the page itself, even if it was not counted)."""
        if doc.n_units == 0 or len(self.keys) == 0:
            return np.ones(doc.n_units, dtype=np.int64)
        where, found = self._find(_hashes(doc.site, doc.units))
        return np.maximum(np.where(found, self.counts[where], 0), 1)


def _summed(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and the sum of the counts of each."""
    unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return unique, np.bincount(inverse.reshape(-1), weights=np.concatenate(counts)).astype(np.int64)


def site_features(doc: Document, site_pages: int, line_counts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Repetition across the batch: how many pages of the page's site the batch
    holds, and on what share of the site's other pages each line (and the lines
    around it) recurs. A page labelled alone has no other pages: every share is 0."""
    pages = max(int(site_pages), 1)
    share = ((np.asarray(line_counts, dtype=float) - 1) / max(pages - 1, 1)).clip(0, 1)
    cols = [
        np.full(doc.n_units, np.log(pages)),
        share,
        window_mean(share, SITE_SHARE_RADIUS),
        np.log1p(np.maximum(np.asarray(line_counts, dtype=float) - 1, 0)),
    ]
    return np.column_stack(cols), list(SITE_FEATURE_NAMES)
