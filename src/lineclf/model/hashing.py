"""Each line's hashed word n-grams, the first pass's text input.

:func:`hashed_words` gives what scikit-learn's ``HashingVectorizer``
(``ngram_range=(1, 2)``, ``alternate_sign=False``, ``norm="l2"``, lower-cased)
gives, bit for bit (``tests/test_hashed_text.py`` checks it): C finds the
words (the runs of two or more word characters, as the vectorizer's token
pattern finds them) and hashes them and their pairs
(``lineclf._native.hash_lines``). The rows come as a :class:`HashedText`,
plain CSR arrays; training turns them into a scipy matrix
(:meth:`HashedText.csr`), labelling multiplies them directly and imports
neither scipy nor scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._native import hash_lines


@dataclass(frozen=True)
class HashedText:
    """Rows of hashed n-gram weights in CSR form (int64 ``indptr``, int32
    ``indices`` sorted within each row, float64 ``data``)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_features: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.indptr) - 1, self.n_features)

    def csr(self):
        """The rows as a ``scipy.sparse.csr_matrix``."""
        from scipy import sparse

        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def hashed_words(texts: Sequence[str], n_features: int) -> HashedText:
    """The lines' hashed words and pairs of neighbouring words, each row l2-normalised."""
    # lower-casing the batch at once is lower-casing each line, as a line
    # break is neither cased nor case-ignorable; a line holding one is the exception
    lowered = "\n".join(texts).lower().split("\n") if texts else []
    if len(lowered) != len(texts):
        lowered = [text.lower() for text in texts]
    # HashingVectorizer's token_pattern, (?u)\b\w\w+\b: the runs of two or more word characters
    indptr, indices, data = hash_lines(lowered, n_features)
    return HashedText(
        np.frombuffer(indptr, dtype=np.int64),
        np.frombuffer(indices, dtype=np.int32),
        np.frombuffer(data, dtype=np.float64),
        n_features,
    )
