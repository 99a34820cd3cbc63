"""What a fitted line classifier needs to label pages, and nothing more.

A :class:`Predictor` holds a fitted :class:`~lineclf.model.LineClassifier`'s
passes as plain arrays (:class:`~.linear.LinearPass`,
:class:`~.trees.TreeEnsemble`, any site adapters) with the settings that
shape its input. ``LineClassifier.predict_proba`` is
``Predictor.predict_proba``; a model file holds a predictor, so labelling
loads and runs it with numpy and lineclf's C loops only, without importing
scikit-learn or scipy (about a second of start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..document import Document
from ..features import SiteCounts
from ..labels import LABELS, label_names
from .adaptation import SiteAdapter, adapted_proba, adapter_input
from .hashing import HashedText
from .linear import LinearPass
from .passes import batch_input, first_pass_proba, second_pass_proba, shift_priors, split_rows
from .trees import TreeEnsemble


@dataclass(frozen=True)
class Predictor:
    """A fitted classifier's passes and the settings of their input (see
    ``LineClassifier`` for each setting)."""

    context: tuple[int, ...]
    hash_features: int
    site_repetition: bool
    #: the first pass (None: the trees see the layout features alone)
    linear: LinearPass | None
    trees: TreeEnsemble
    adapters: tuple[SiteAdapter, ...] = ()
    label_bias: tuple[float, ...] | None = None

    def layout(
        self, documents: Sequence[Document], site_counts: SiteCounts | None = None
    ) -> tuple[np.ndarray, HashedText, np.ndarray]:
        """Layout features, hashed text and the unit offset of each document:
        the input of :meth:`first_pass` and :meth:`revise`."""
        return batch_input(documents, self.context, self.hash_features, self.site_repetition, site_counts)

    def first_pass(self, X: np.ndarray, T: HashedText) -> np.ndarray | None:
        """The linear model's probabilities (LABELS order) of a batch's layout
        features and hashed text, or None without a first pass."""
        return None if self.linear is None else first_pass_proba(self.linear, X, T)

    def revise(self, X: np.ndarray, first: np.ndarray | None, offsets: np.ndarray) -> list[np.ndarray]:
        """The second pass: per document, the trees' probabilities of a
        batch's layout features and first-pass probabilities, corrected by
        the site adapters when there are any, shifted by ``label_bias``."""
        if self.adapters:
            proba = adapted_proba(self.adapters, *adapter_input(self.trees, X, first, offsets))
        else:
            proba = second_pass_proba(self.trees, X, first, offsets)
        return split_rows(shift_priors(proba, self.label_bias), offsets)

    def predict_proba(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> list[np.ndarray]:
        """Per document, an ``(n_lines, 5)`` array of label probabilities
        (columns in LABELS order). ``site_counts``: line counts of the whole
        batch the documents belong to (default: of these documents)."""
        documents = list(documents)
        if not documents:
            return []
        X, T, offsets = self.layout(documents, site_counts)
        if len(X) == 0:
            return [np.zeros((0, len(LABELS))) for _ in documents]
        return self.revise(X, self.first_pass(X, T), offsets)

    def predict(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> list[np.ndarray]:
        """Per document, an array of label names, one per non-blank line."""
        return [label_names(p) for p in self.predict_proba(documents, site_counts)]
