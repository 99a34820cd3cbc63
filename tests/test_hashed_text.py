"""The first pass's hashed words (lineclf.model.passes.hashed_text) are
scikit-learn's HashingVectorizer's, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lineclf.document import Document
from lineclf.model.passes import hashed_text, vectorizer

#: Small, so that hashed n-grams collide and their counts add up.
N_FEATURES = 2**6

# Words, separators and case oddities: Greek capital sigma (whose lower case
# depends on what follows), "İ" (two characters in lower case), the long s,
# underscores and digits (word characters), combining marks, emoji, tabs; the
# words are found in C, so characters of every UTF-8 length.
_PIECES = st.sampled_from(
    ["Home", "the", "THE", "a", "I", "ΟΔΟΣ", "Σ", "ΣΑΣ", " Σ.", "İstanbul", "ſtraße", "snake_case", "x2", "42", "é", "e\u0301",
     "\U0001F600", "\u00a0", " ", "\t", "-", ".", "'", "Straße", "ǅ", "\u2028", "\r", "a b",
     # word characters of two, three and four UTF-8 bytes, and a lone surrogate (as surrogateescape reads a bad byte)
     "ßö", "中文", "\U0001D7D9", "\U00020000x", "\udcff"]
)
_LINES = st.lists(st.lists(_PIECES, max_size=10).map("".join), min_size=1, max_size=12)


def _assert_same(lines: list[str]) -> None:
    page = Document.from_lines(lines)
    ours = hashed_text([page], N_FEATURES).csr()
    if not page.units:
        assert ours.shape == (0, N_FEATURES)
        return
    theirs = vectorizer(N_FEATURES).transform(list(page.units))
    assert type(ours) is type(theirs)
    for attribute in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(ours, attribute), getattr(theirs, attribute))
    assert ours.shape == theirs.shape


@settings(max_examples=300, deadline=None)
@given(lines=_LINES)
def test_hashed_text_is_the_vectorizers(lines):
    _assert_same(lines)


def test_hashed_text_of_a_batch_of_pages_is_the_vectorizers_of_all_their_lines():
    pages = [Document.from_lines(["Most read", "The cat sat on the mat."]), Document.from_lines(["ΟΔΟΣ ΟΔΟΣ", "", "x"])]
    ours = hashed_text(pages, N_FEATURES).csr()
    theirs = vectorizer(N_FEATURES).transform([text for page in pages for text in page.units])
    assert (ours != theirs).nnz == 0 and ours.shape == theirs.shape
    assert hashed_text([], N_FEATURES).shape == (0, N_FEATURES)
