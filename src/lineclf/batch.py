"""Statistics over a batch of pages, for features that look across pages.

Not used by the model yet: a page's chrome (menus, footers, "most read"
headings) recurs on every page of its site, which a batch can count but a
single page cannot show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from .document import Document


def _key(text: str) -> str:
    # the same line may carry different surrounding whitespace on two pages
    return text.strip()


def site_line_counts(documents: Sequence[Document], key: Callable[[str], str] = _key) -> list[np.ndarray]:
    """For each document, for each of its units (non-blank lines), on how many
    pages of the batch the line occurs: pages of the document's site when it
    has one (``Document.site``, e.g. the host of its URL), else all pages of
    the batch. A page counts once however often it holds the line, so a
    single page gives 1 for every line. Lines are compared by ``key`` (by
    default with surrounding whitespace stripped).
    """
    pages = [set(map(key, doc.units)) for doc in documents]
    overall: Counter[str] = Counter()
    by_site: dict[str, Counter[str]] = {}
    for doc, lines in zip(documents, pages):
        overall.update(lines)
        if doc.site is not None:
            by_site.setdefault(doc.site, Counter()).update(lines)
    counts = []
    for doc in documents:
        table = overall if doc.site is None else by_site[doc.site]
        counts.append(np.fromiter((table[key(text)] for text in doc.units), dtype=np.int64, count=doc.n_units))
    return counts
