"""The line classifier: a scikit-learn estimator over documents.

Two passes, as in jusText's classify-then-revise idea:

1. A fast linear model over hashed word n-grams of each line and its scaled
   layout features (length, punctuation, position, cues, and the same of its
   neighbours) gives first label probabilities.
2. A gradient-boosted tree model revises each line's label from its layout
   features and the first pass's probabilities of the line, of the lines
   around it and of the whole page.

The second pass is trained on out-of-fold first-pass probabilities (folds
grouped by site), so it learns how far to trust them on unseen pages rather
than on pages the first pass has memorised. The stages themselves are in
:mod:`.passes`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..document import Document, document_groups
from ..errors import DataFormatError
from ..features import DEFAULT_CONTEXT, SiteCounts
from ..labels import LABELS, label_names
from .hashing import HashedText
from .linear import linear_pass_of
from .passes import (
    batch_input,
    document_labels,
    encode_labels,
    page_weights,
    check_label_bias,
    fit_quietly,
    linear_input,
    long_lines,
    proba_in_label_order,
    revision_features,
)
from .predictor import Predictor
from .trees import ensemble_of

logger = logging.getLogger(__name__)

#: Hash space of the word n-gram features.
DEFAULT_HASH_FEATURES = 2**18
#: Half-way between ignoring and fully balancing label counts: full balance
#: buys recall of the rare labels (teasers) with precision of the body.
DEFAULT_CLASS_WEIGHT_POWER = 0.5
#: How much a partially labelled line counts against a fully labelled one:
#: little, as its label is a guess among those it stands for (the model card
#: says how it was chosen).
DEFAULT_PARTIAL_WEIGHT = 0.15
#: How partial labels are resolved to one of the labels they stand for:
#: "linear" (a linear model of the fully labelled lines, fast) or "model"
#: (the whole two-pass model fitted on the fully labelled pages, which
#: doubles the fitting time).
PARTIAL_RESOLUTIONS = ("linear", "model")
DEFAULT_PARTIAL_RESOLUTION = "model"


class LineClassifier(ClassifierMixin, BaseEstimator):
    """Label each non-blank line of a document.

    ``fit`` takes a list of :class:`Document` and one label sequence per
    document (taken from the documents' own ``labels`` when omitted);
    ``predict`` and ``predict_proba`` return one array per document.

    Parameters
    ----------
    context : neighbour offsets whose features each line also sees.
    hash_features : size of the hashed word n-gram space.
    alpha : regularisation of the first-pass linear model.
    max_iter, learning_rate, max_leaf_nodes, l2_regularization :
        of the gradient-boosted tree models.
    class_weight_power : labels are weighted by (largest count / count) to this
        power: 0 ignores imbalance, 1 fully balances the labels. A float, or
        one power per label in LABELS order.
    second_pass : whether the tree model sees first-pass probabilities (else
        it works from layout features alone).
    inner_folds : folds for the out-of-fold first-pass probabilities.
    site_repetition : whether each line also sees on how many other pages of
        its site in the batch it recurs (see :mod:`lineclf.features.site`): the pages
        given to ``fit``, and to ``predict_proba`` (or the ``site_counts`` of
        a whole batch passed to it). A page labelled alone counts as a site
        of one page.
    partial_weight : how much a line with a partial label (content, noise)
        counts in training, against 1 for a line with one of the five labels.
    partial_resolution : which model picks, for each partially labelled
        line, the most probable of the labels it stands for: "linear" (a
        linear model of the fully labelled lines) or "model" (this whole
        two-pass model fitted on the fully labelled pages first).
    label_bias : log-probability offsets, one per label in LABELS order,
        added to the model's probabilities (which are then renormalised)
        before the most probable label is taken: a prior shift that moves
        decisions towards (positive) or away from (negative) a label. None,
        the default, leaves the probabilities as the trees give them. Tuned on
        cross-validated probabilities by `lineclf train --tune-label-bias`
        (see :mod:`lineclf.evaluation.tuning`).
    random_state : seed of the tree models.
    """

    def __init__(
        self,
        context: tuple[int, ...] = DEFAULT_CONTEXT,
        hash_features: int = DEFAULT_HASH_FEATURES,
        alpha: float = 2e-5,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        l2_regularization: float = 1.0,
        class_weight_power: float | tuple[float, ...] = DEFAULT_CLASS_WEIGHT_POWER,
        second_pass: bool = True,
        inner_folds: int = 3,
        site_repetition: bool = True,
        partial_weight: float = DEFAULT_PARTIAL_WEIGHT,
        partial_resolution: str = DEFAULT_PARTIAL_RESOLUTION,
        label_bias: tuple[float, ...] | None = None,
        random_state: int = 0,
    ):
        self.context = context
        self.hash_features = hash_features
        self.alpha = alpha
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.class_weight_power = class_weight_power
        self.second_pass = second_pass
        self.inner_folds = inner_folds
        self.site_repetition = site_repetition
        self.partial_weight = partial_weight
        self.partial_resolution = partial_resolution
        self.label_bias = label_bias
        self.random_state = random_state

    # ------------------------------------------------------------------ building blocks

    def _linear_model(self) -> SGDClassifier:
        return SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=50, tol=1e-3, random_state=self.random_state)

    def _tree_model(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _sample_weight(self, y: np.ndarray) -> np.ndarray:
        counts = np.bincount(y, minlength=len(LABELS)).astype(float)
        weight = (counts.max() / np.maximum(counts, 1)) ** np.asarray(self.class_weight_power, dtype=float)
        return weight[y]

    def layout(
        self, documents: Sequence[Document], site_counts: SiteCounts | None = None
    ) -> tuple[np.ndarray, HashedText, np.ndarray]:
        """Layout features, hashed text and the unit offset of each document:
        the input of :meth:`first_pass` and :meth:`revise`."""
        return batch_input(documents, self.context, self.hash_features, self.site_repetition, site_counts)

    def linear_input(self, X: np.ndarray, T: HashedText) -> sparse.csr_matrix:
        """The first pass's input (hashed text beside the scaled layout features)."""
        return linear_input(self.scaler_, X, T)

    def _resolve_partial(
        self, L: sparse.csr_matrix, y: np.ndarray, allowed: np.ndarray, line_weight: np.ndarray
    ) -> np.ndarray:
        """Labels for the partially labelled lines (``y`` < 0): of the labels
        each stands for, the one a linear model of the fully labelled lines
        finds most probable."""
        full = y >= 0
        guess = fit_quietly(self._linear_model(), L[full], y[full], self._sample_weight(y[full]) * line_weight[full])
        proba = np.zeros(allowed.shape)
        proba[~full] = proba_in_label_order(guess, L[~full])
        return _most_probable_allowed(y, allowed, proba)

    def _resolve_partial_by_model(
        self,
        documents: list[Document],
        groups,
        y: np.ndarray,
        allowed: np.ndarray,
        offsets: np.ndarray,
        page_weight: np.ndarray,
    ) -> np.ndarray:
        """As ``_resolve_partial``, with this whole model fitted on the pages
        whose lines all carry one of the five labels, labelling the others in
        the same batch (so with the same site counts)."""
        partial_page = np.array([(y[a:b] < 0).any() for a, b in zip(offsets[:-1], offsets[1:])], dtype=bool)
        full_pages = np.flatnonzero(~partial_page)
        if len(full_pages) == 0:
            raise DataFormatError("partial labels need some pages whose lines all carry one of the five labels")
        # the guide's own probabilities, unshifted: label_bias is a decision rule for predictions
        guide = clone(self).set_params(label_bias=None).fit(
            [documents[i] for i in full_pages],
            [_label_names(y[offsets[i] : offsets[i + 1]]) for i in full_pages],
            [groups[i] for i in full_pages],
            page_weight[full_pages],
        )
        pages = np.flatnonzero(partial_page)
        proba = np.zeros(allowed.shape)
        for i, page_proba in zip(pages, guide.predict_proba([documents[i] for i in pages], SiteCounts.of(documents))):
            proba[offsets[i] : offsets[i + 1]] = page_proba
        return _most_probable_allowed(y, allowed, proba)

    def _oof(
        self,
        make_model: Callable[[], BaseEstimator],
        X,
        y: np.ndarray,
        groups: np.ndarray,
        weight: np.ndarray,
    ) -> np.ndarray:
        """Out-of-fold probabilities of a fresh model per fold (grouped folds)."""
        n_splits = min(self.inner_folds, len(np.unique(groups)))
        proba = np.zeros((len(y), len(LABELS)))
        if n_splits < 2:
            return proba + 1.0 / len(LABELS)
        for train, test in GroupKFold(n_splits=n_splits).split(X, y, groups):
            model = fit_quietly(make_model(), X[train], y[train], weight[train])
            proba[test] = proba_in_label_order(model, X[test])
        return proba

    # ------------------------------------------------------------------ estimator API

    def fit(self, documents: Sequence[Document], labels=None, groups=None, sample_weight=None) -> "LineClassifier":
        """Learn from labelled documents. ``groups`` (one per document, e.g. the
        site) keeps related pages in the same inner fold; by default each
        document's site, or its name. ``sample_weight`` (one positive number
        per document, default 1) scales how much each of a document's
        lines counts, on top of the label weights: e.g. to let a smaller
        corpus weigh more against a larger one.

        Labels may be partial (``labels.PARTIAL_LABELS``: content, noise):
        each such line gets the most probable of the labels it stands for (by
        the model ``partial_resolution`` names) and then counts
        ``partial_weight`` times as much as a fully labelled one."""
        documents = list(documents)
        labels = document_labels(documents, labels, "learn from")
        self._check_params()
        y, allowed = encode_labels(labels)
        if len(y) == 0:
            raise DataFormatError("no labelled lines to learn from")
        partial = y < 0
        if partial.all():
            raise DataFormatError("only partial labels (content, noise): some pages must carry the five labels")
        if groups is None:
            groups = document_groups(documents)
        page_weight = page_weights(sample_weight, documents)
        line_weight = np.repeat(page_weight, [doc.n_units for doc in documents])
        unit_groups = np.repeat(np.asarray(groups, dtype=object), [doc.n_units for doc in documents])
        unit_groups = np.unique(unit_groups.astype(str), return_inverse=True)[1]

        X, T, offsets = self.layout(documents)
        logger.info("fitting on %d lines of %d documents", len(y), len(documents))

        self.scaler_ = StandardScaler().fit(X)
        L = self.linear_input(X, T)
        if partial.any() and self.partial_resolution == "model":
            y = self._resolve_partial_by_model(documents, list(groups), y, allowed, offsets, page_weight)
        elif partial.any():
            y = self._resolve_partial(L, y, allowed, line_weight)
        weight = self._sample_weight(y) * np.where(partial, self.partial_weight, 1.0) * line_weight
        self.linear_model_ = fit_quietly(self._linear_model(), L, y, weight)
        if self.second_pass:
            first = self._oof(self._linear_model, L, y, unit_groups, weight)
            X = np.hstack([X, revision_features(first, offsets, long_lines(X))])
        self.tree_model_ = fit_quietly(self._tree_model(), X, y, weight)
        # the passes as plain arrays: what predicting uses, and what model files hold
        self.linear_pass_ = linear_pass_of(self.linear_model_, self.scaler_, T.n_features)
        self.trees_ = ensemble_of(self.tree_model_)
        self.adapters_ = []  # a refitted model keeps no adapter of its former self
        self.classes_ = np.array(LABELS)
        return self

    def __setstate__(self, state):
        # a model pickled before its passes were kept as arrays (model file protocol 3)
        if "tree_model_" in state and "trees_" not in state:
            n_text = state["linear_model_"].coef_.shape[1] - len(state["scaler_"].mean_)
            state["linear_pass_"] = linear_pass_of(state["linear_model_"], state["scaler_"], n_text)
            state["trees_"] = ensemble_of(state["tree_model_"])
        super().__setstate__(state)

    @classmethod
    def from_predictor(cls, params: dict, predictor: Predictor) -> "LineClassifier":
        """A classifier with ``params``, fitted with ``predictor``'s passes (as a
        model file holds it: without the scikit-learn estimators it was fitted with)."""
        model = cls(**params)
        model.linear_pass_ = predictor.linear
        model.trees_ = predictor.trees
        model.adapters_ = list(predictor.adapters)
        model.classes_ = np.array(LABELS)
        return model

    def predictor(self) -> Predictor:
        """The fitted passes and the settings that shape their input: what
        :meth:`predict_proba` runs, and what a model file holds."""
        check_is_fitted(self, "trees_")
        return Predictor(
            context=tuple(self.context),
            hash_features=self.hash_features,
            site_repetition=self.site_repetition,
            linear=self.linear_pass_ if self.second_pass else None,
            trees=self.trees_,
            adapters=tuple(getattr(self, "adapters_", ())),
            # model files from before label_bias have none
            label_bias=None if getattr(self, "label_bias", None) is None else tuple(self.label_bias),
        )

    def _check_params(self) -> None:
        """Refuse parameters that fitting cannot use, before any work."""
        check_label_bias(self.label_bias)
        if self.partial_resolution not in PARTIAL_RESOLUTIONS:
            raise ValueError(f"partial_resolution must be one of {', '.join(PARTIAL_RESOLUTIONS)}")

    def predict_proba(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> list[np.ndarray]:
        """Per document, an ``(n_lines, 5)`` array of label probabilities
        (columns in LABELS order). ``site_counts``: line counts of the whole
        batch the documents belong to (default: of these documents)."""
        return self.predictor().predict_proba(documents, site_counts)

    def first_pass(self, X: np.ndarray, T: HashedText) -> np.ndarray | None:
        """The linear model's probabilities (LABELS order) of a batch's layout
        features and hashed text, or None without a second pass."""
        return self.predictor().first_pass(X, T)

    def revise(self, X: np.ndarray, first: np.ndarray | None, offsets: np.ndarray) -> list[np.ndarray]:
        """The second pass: per document, the trees' probabilities of a
        batch's layout features and first-pass probabilities, corrected by
        the site adapters of :func:`~lineclf.model.adaptation.adapt_model`
        when it has any, shifted by ``label_bias``."""
        return self.predictor().revise(X, first, offsets)

    def with_tree_iterations(self, iterations: int) -> "LineClassifier":
        """A copy whose second pass keeps only the first ``iterations``
        boosting iterations of its trees (``max_iter`` says so), to weigh
        speed against accuracy without refitting.

        Boosting adds one iteration's trees at a time and stops early only
        when asked (this model never asks), so the copy is what fitting with
        ``max_iter=iterations`` gives, when no line is partially labelled:
        otherwise the model that resolves partial labels
        (``partial_resolution="model"``) has its own number of iterations.
        """
        import copy

        check_is_fitted(self, "trees_")
        if getattr(self, "adapters_", None):
            raise ValueError("a model adapted to a site cannot drop trees: its adapters correct the trees' output")
        model = copy.copy(self)
        model.trees_ = self.trees_.first_iterations(iterations)
        model.max_iter = iterations
        if hasattr(self, "tree_model_"):  # a model fitted in this process keeps the estimator too
            cut = copy.deepcopy(self.tree_model_)
            cut._predictors = cut._predictors[:iterations]  # n_iter_ counts them
            cut.max_iter = iterations  # no scores to cut: without early stopping the trees keep none
            model.tree_model_ = cut
        return model

    def predict(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> list[np.ndarray]:
        """Per document, an array of label names, one per non-blank line."""
        return [label_names(p) for p in self.predict_proba(documents, site_counts)]

    def score(self, documents, labels=None, sample_weight=None) -> float:
        """Line-weighted accuracy over all documents; ``sample_weight`` (one
        per document, as in :meth:`fit`) weighs each of a document's lines."""
        documents = list(documents)
        if labels is None:
            labels = [doc.labels for doc in documents]
        predicted = np.concatenate([np.asarray(p) for p in self.predict(documents)] or [[]])
        expected = np.concatenate([np.asarray(lab) for lab in labels] or [[]])
        if not len(expected):
            return 0.0
        if sample_weight is None:
            return float(np.mean(predicted == expected))
        weight = np.repeat(page_weights(sample_weight, documents), [len(lab) for lab in labels])
        return float(np.average(predicted == expected, weights=weight))


# Model files (pickles, .skops) name the class by where it is imported from.
LineClassifier.__module__ = "lineclf.model"


def _most_probable_allowed(y: np.ndarray, allowed: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``y`` with each partially labelled line (``y`` < 0) given the most
    probable (``proba``) of the labels it may have (``allowed``)."""
    partial = y < 0
    resolved = y.copy()
    resolved[partial] = np.where(allowed[partial], proba[partial], -1.0).argmax(axis=1)
    logger.info("gave %d partially labelled lines one of their labels", int(partial.sum()))
    return resolved


def _label_names(y: np.ndarray) -> list[str]:
    """Label names of label indices (LABELS order)."""
    return [LABELS[i] for i in y]
