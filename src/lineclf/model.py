"""The line classifier: a scikit-learn estimator over documents, and its files.

Two passes, as in jusText's classify-then-revise idea:

1. A fast linear model over hashed word n-grams of each line and its scaled
   layout features (length, punctuation, position, cues, and the same of its
   neighbours) gives first label probabilities.
2. A gradient-boosted tree model revises each line's label from its layout
   features and the first pass's probabilities of the line, of the lines
   around it and of the whole page.

The second pass is trained on out-of-fold first-pass probabilities (folds
grouped by site), so it learns how far to trust them on unseen pages rather
than on pages the first pass has memorised.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import joblib
import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from . import __version__
from .document import Document
from .errors import DataFormatError, ModelFileError, UntrustedModelWarning, UsageError
from .batch import SiteCounts
from .features import SITE_FEATURE_NAMES, DEFAULT_CONTEXT, batch_features, densest_run, run_position, shift, site_features
from .io import atomic_writer
from .labels import LABELS, PARTIAL_LABELS
from .linear import linear_proba
from .metrics import document_groups
from .trees import tree_proba

logger = logging.getLogger(__name__)

#: Written into every model file; bumped when the file layout changes.
MODEL_FORMAT = "lineclf-model"
MODEL_PROTOCOL = 2
#: Hash space of the word n-gram features.
DEFAULT_HASH_FEATURES = 2**18
#: Neighbour offsets whose first-pass probabilities the second pass sees.
SECOND_PASS_CONTEXT = (-3, -2, -1, 1, 2, 3)
#: Half-way between ignoring and fully balancing label counts: in site-grouped
#: CV on gn1 + de-news, full balance (1.0), or full balance for the rare labels
#: only, gained teaser recall but cost more body precision.
DEFAULT_CLASS_WEIGHT_POWER = 0.5
DEFAULT_MODEL_NAME = "default.joblib"
#: How much a partially labelled line counts. Fitted on gn1 + de-news +
#: turku-quality (resolved by the whole model), the German example came out
#: 20 of 24 lines right with 0.3 and 21 with 0.15; see the README.
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
        its site in the batch it recurs (see :mod:`lineclf.batch`): the pages
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
        (see :mod:`lineclf.tuning`).
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

    def _vectorizer(self) -> HashingVectorizer:
        return HashingVectorizer(
            n_features=self.hash_features,
            ngram_range=(1, 2),
            alternate_sign=False,
            lowercase=True,
            norm="l2",
        )

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

    def _layout(
        self, documents: Sequence[Document], site_counts: SiteCounts | None = None
    ) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray]:
        """Layout features, hashed text and the unit offset of each document."""
        X = batch_features(documents, self.context)
        if self.site_repetition:
            X = np.hstack([X, self._site_columns(documents, site_counts)])
        return X, self._hashed_text(documents), unit_offsets(documents)

    def _site_columns(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> np.ndarray:
        """Repetition across the batch (``site_counts``, default: of ``documents``)."""
        counts = site_counts if site_counts is not None else SiteCounts.of(documents)
        site = [site_features(doc, counts.pages_of(doc), counts.line_counts(doc))[0] for doc in documents]
        return np.vstack(site) if site else np.zeros((0, len(SITE_FEATURE_NAMES)))

    def _hashed_text(self, documents: Sequence[Document]) -> sparse.csr_matrix:
        texts = [text for doc in documents for text in doc.units]
        # HashingVectorizer cannot transform an empty list
        return self._vectorizer().transform(texts) if texts else sparse.csr_matrix((0, self.hash_features))

    def _linear_input(self, X: np.ndarray, T: sparse.csr_matrix) -> sparse.csr_matrix:
        return sparse.hstack([T, sparse.csr_matrix(self.scaler_.transform(X))], format="csr")

    def _resolve_partial(
        self, L: sparse.csr_matrix, y: np.ndarray, allowed: np.ndarray, line_weight: np.ndarray
    ) -> np.ndarray:
        """Labels for the partially labelled lines (``y`` < 0): of the labels
        each stands for, the one a linear model of the fully labelled lines
        finds most probable."""
        full = y >= 0
        guess = _fit(self._linear_model(), L[full], y[full], self._sample_weight(y[full]) * line_weight[full])
        proba = np.zeros(allowed.shape)
        proba[~full] = _proba(guess, L[~full])
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
            model = _fit(make_model(), X[train], y[train], weight[train])
            proba[test] = _proba(model, X[test])
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
        if labels is None:
            missing = [doc.name for doc in documents if doc.labels is None]
            if missing:
                raise DataFormatError(f"{missing[0]}: document has no labels to learn from")
            labels = [doc.labels for doc in documents]
        y, allowed = _encode(labels)
        if len(y) == 0:
            raise DataFormatError("no labelled lines to learn from")
        partial = y < 0
        if partial.all():
            raise DataFormatError("only partial labels (content, noise): some pages must carry the five labels")
        shift_priors(np.full((1, len(LABELS)), 1.0 / len(LABELS)), self.label_bias)  # refuse a bad one before fitting
        if self.partial_resolution not in PARTIAL_RESOLUTIONS:
            raise ValueError(f"partial_resolution must be one of {', '.join(PARTIAL_RESOLUTIONS)}")
        if groups is None:
            groups = document_groups(documents)
        page_weight = _page_weight(sample_weight, documents)
        line_weight = np.repeat(page_weight, [doc.n_units for doc in documents])
        unit_groups = np.repeat(np.asarray(groups, dtype=object), [doc.n_units for doc in documents])
        unit_groups = np.unique(unit_groups.astype(str), return_inverse=True)[1]

        X, T, offsets = self._layout(documents)
        logger.info("fitting on %d lines of %d documents", len(y), len(documents))

        self.scaler_ = StandardScaler().fit(X)
        L = self._linear_input(X, T)
        if partial.any() and self.partial_resolution == "model":
            y = self._resolve_partial_by_model(documents, list(groups), y, allowed, offsets, page_weight)
        elif partial.any():
            y = self._resolve_partial(L, y, allowed, line_weight)
        weight = self._sample_weight(y) * np.where(partial, self.partial_weight, 1.0) * line_weight
        self.linear_model_ = _fit(self._linear_model(), L, y, weight)
        if self.second_pass:
            first = self._oof(self._linear_model, L, y, unit_groups, weight)
            X = np.hstack([X, _revision_features(first, offsets)])
        self.tree_model_ = _fit(self._tree_model(), X, y, weight)
        self.classes_ = np.array(LABELS)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> list[np.ndarray]:
        """Per document, an ``(n_lines, 5)`` array of label probabilities
        (columns in LABELS order). ``site_counts``: line counts of the whole
        batch the documents belong to (default: of these documents)."""
        check_is_fitted(self, "tree_model_")
        documents = list(documents)
        if not documents:
            return []
        X, T, offsets = self._layout(documents, site_counts)
        if len(X) == 0:
            return [np.zeros((0, len(LABELS))) for _ in documents]
        return self._second_pass(X, self._first_pass(X, T), offsets)

    # _first_pass and _second_pass give what fit's _proba(model, X) of each
    # pass gives, without stacking the hashed text, the scaled features and
    # the revision features (see linear.py and trees.py)

    def _first_pass(self, X: np.ndarray, T: sparse.csr_matrix) -> np.ndarray | None:
        """The linear model's probabilities (LABELS order), or None without a second pass."""
        if not self.second_pass:
            return None
        return _in_label_order(self.linear_model_, linear_proba(self.linear_model_, self.scaler_, T, X))

    def _second_pass(self, X: np.ndarray, first: np.ndarray | None, offsets: np.ndarray) -> list[np.ndarray]:
        """Per document, the trees' probabilities, shifted by ``label_bias``."""
        revision = np.zeros((len(X), 0)) if first is None else _revision_features(first, offsets)
        # the page features are float32 values; the site shares, like the
        # first pass's probabilities, are not (trees.tree_proba takes them apart)
        exact = X.shape[1] - (len(SITE_FEATURE_NAMES) if self.site_repetition else 0)
        wide = np.hstack([X[:, exact:], revision])
        proba = _in_label_order(self.tree_model_, tree_proba(self.tree_model_, X[:, :exact], wide))
        proba = shift_priors(proba, getattr(self, "label_bias", None))  # model files from before label_bias have none
        return [proba[a:b] for a, b in zip(offsets[:-1], offsets[1:])]

    def predict(self, documents: Sequence[Document], site_counts: SiteCounts | None = None) -> list[np.ndarray]:
        """Per document, an array of label names, one per non-blank line."""
        return [self.classes_[p.argmax(axis=1)] for p in self.predict_proba(documents, site_counts)]

    def score(self, documents, labels=None, sample_weight=None) -> float:
        """Line-weighted accuracy over all documents."""
        if labels is None:
            labels = [doc.labels for doc in documents]
        predicted = np.concatenate([np.asarray(p) for p in self.predict(documents)] or [[]])
        expected = np.concatenate([np.asarray(lab) for lab in labels] or [[]])
        return float(np.mean(predicted == expected)) if len(expected) else 0.0


def unit_offsets(documents: Sequence[Document]) -> np.ndarray:
    """Where each document's lines start (and the last ends) in the rows of a batch."""
    sizes = np.array([doc.n_units for doc in documents], dtype=np.int64)
    return np.concatenate(([0], np.cumsum(sizes)))


def shift_priors(proba: np.ndarray, label_bias: Sequence[float] | None) -> np.ndarray:
    """``proba`` (rows in LABELS order) times ``exp(label_bias)``, each row
    renormalised to sum to 1: the same as adding ``label_bias`` to the log
    probabilities. ``None`` returns ``proba`` itself."""
    if label_bias is None:
        return proba
    bias = np.asarray(label_bias, dtype=float)
    if bias.shape != (len(LABELS),) or not np.isfinite(bias).all():
        raise ValueError(f"label_bias must be {len(LABELS)} finite numbers, one per label in LABELS order")
    shifted = proba * np.exp(bias - bias.max())
    return shifted / shifted.sum(axis=1, keepdims=True)


def _most_probable_allowed(y: np.ndarray, allowed: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``y`` with each partially labelled line (``y`` < 0) given the most
    probable (``proba``) of the labels it may have (``allowed``)."""
    partial = y < 0
    resolved = y.copy()
    resolved[partial] = np.where(allowed[partial], proba[partial], -1.0).argmax(axis=1)
    logger.info("gave %d partially labelled lines one of their labels", int(partial.sum()))
    return resolved


def _page_weight(sample_weight, documents: Sequence[Document]) -> np.ndarray:
    """One weight per document (1 when none are given), checked."""
    if sample_weight is None:
        return np.ones(len(documents))
    weight = np.asarray(sample_weight, dtype=float)
    if weight.shape != (len(documents),):
        raise UsageError(f"sample_weight: {weight.size} weights for {len(documents)} documents (one per document)")
    # a zero would leave some inner folds with nothing to learn from; leave the pages out instead
    if not np.isfinite(weight).all() or (weight <= 0).any():
        raise UsageError("sample_weight: weights must be finite and greater than 0")
    return weight


def _label_names(y: np.ndarray) -> list[str]:
    """Label names of label indices (LABELS order)."""
    return [LABELS[i] for i in y]


def _encode(labels) -> tuple[np.ndarray, np.ndarray]:
    """Label indices in LABELS order (-1 for a partial label) and, per line,
    which labels it may have."""
    names = [label for seq in labels for label in seq]
    index = {name: i for i, name in enumerate(LABELS)}
    allowed = np.zeros((len(names), len(LABELS)), dtype=bool)
    y = np.full(len(names), -1, dtype=np.int64)
    for row, name in enumerate(names):
        if name in index:
            y[row] = index[name]
            allowed[row, index[name]] = True
        elif name in PARTIAL_LABELS:
            allowed[row, [index[label] for label in PARTIAL_LABELS[name]]] = True
        else:
            raise DataFormatError(f"unknown label {name!r}; expected one of {', '.join(LABELS)}")
    return y, allowed


def _fit(model, X, y, weight):
    with warnings.catch_warnings():
        # The first pass stops after a fixed number of epochs on purpose (speed);
        # the second pass learns how far to trust its probabilities.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, sample_weight=weight)


def _proba(model, X) -> np.ndarray:
    """Probabilities in LABELS order, whatever labels the model saw in training."""
    return _in_label_order(model, model.predict_proba(X))


def _in_label_order(model, proba: np.ndarray) -> np.ndarray:
    """A model's probabilities (a column per label it saw in training) in LABELS order."""
    out = np.zeros((proba.shape[0], len(LABELS)))
    out[:, model.classes_] = proba
    return out


def _revision_features(proba: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """What the second pass sees of the first: the line's and its neighbours'
    probabilities, the page's label mix, each probability relative to the
    page's highest for that label (a page has one main headline), and where
    the line lies relative to the page's most body-like run of lines."""
    body = LABELS.index("body")
    width = len(LABELS) * (3 + len(SECOND_PASS_CONTEXT)) + 3
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
                ]
            )
        )
    return np.vstack(blocks)


# ---------------------------------------------------------------------- files


def default_model_path() -> Path:
    """The shipped model: inside the installed package, or in models/ of a checkout."""
    packaged = resources.files("lineclf").joinpath("models", DEFAULT_MODEL_NAME)
    if packaged.is_file():
        return Path(str(packaged))
    # an editable install or a plain checkout: the repository's models/ folder
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


#: The shipped model's SHA-256 is recorded beside it, in ``sha256sum`` format.
HASH_SUFFIX = ".sha256"
#: Model files in skops' format, which loads without running code from the file.
SKOPS_SUFFIX = ".skops"
#: The only types a .skops model file may hold beyond those skops trusts
#: itself: lineclf's own classifier, and the gradient-boosted trees' predictor
#: (plain arrays; skops 0.16 does not list it yet).
SKOPS_TRUSTED = (
    "lineclf.model.LineClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
# set once the "loading a model runs code" warning has been given in this process
_TRUST_WARNED = False


def skops_module(path: Path):
    """skops.io, or a ModelFileError saying how to install it."""
    try:
        import skops.io
    except ImportError:
        raise ModelFileError(f"{path}: .skops model files need skops; pip install 'lineclf[skops]'") from None
    return skops.io


def save_model(model: LineClassifier, path: str | Path, metadata: dict | None = None) -> Path:
    """Write a fitted model with its metadata (atomically: temp file, then rename).

    A path ending in ``.skops`` is written in skops' format (needs skops),
    any other as a joblib pickle.
    """
    import sklearn

    check_is_fitted(model, "tree_model_")
    bundle = {
        "format": MODEL_FORMAT,
        "protocol": MODEL_PROTOCOL,
        "lineclf_version": __version__,
        "sklearn_version": sklearn.__version__,
        "labels": list(LABELS),
        "params": model.get_params(),
        "metadata": dict(metadata or {}),
        "estimator": model,
    }
    path = Path(path)
    if path.suffix == SKOPS_SUFFIX:
        from zipfile import ZIP_DEFLATED

        sio = skops_module(path)
        with atomic_writer(path) as handle:
            sio.dump(bundle, handle, compression=ZIP_DEFLATED)
        return path
    with atomic_writer(path) as handle:
        joblib.dump(bundle, handle, compress=3)
    return path


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, as lower-case hex."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_default_model(path: Path) -> None:
    """Check the shipped model against the SHA-256 recorded beside it, before
    anything is unpickled from it."""
    record = path.with_name(path.name + HASH_SUFFIX)
    try:
        fields = record.read_text("utf-8").split()
    except OSError:
        raise ModelFileError(f"{path}: its recorded SHA-256 ({record.name}) is missing; reinstall lineclf") from None
    # sha256sum writes '<hex>  <name>', or '<hex> *<name>' in binary mode
    if len(fields) != 2 or fields[1].lstrip("*") != path.name:
        raise ModelFileError(f"{record}: not a 'sha256sum' line for {path.name}; reinstall lineclf")
    actual = file_sha256(path)
    if actual != fields[0].lower():
        raise ModelFileError(
            f"{path}: SHA-256 {actual} is not the one recorded in {record.name}; the shipped model is damaged or "
            "was replaced: reinstall lineclf (after retraining it, scripts/train_default.sh records the new hash)"
        )


def _is_default_model(path: Path) -> bool:
    try:
        return path.resolve() == default_model_path().resolve()
    except OSError:
        return False


def _warn_untrusted(path: Path) -> None:
    global _TRUST_WARNED
    if _TRUST_WARNED:
        return
    _TRUST_WARNED = True
    warnings.warn(
        # fixed words first, so `-W "ignore:loading model file"` can silence it
        f"loading model file {path} runs code from it: load only model files you trust",
        UntrustedModelWarning,
        stacklevel=3,
    )


def load_bundle(path: str | Path | None = None) -> dict:
    """Load a model file's bundle (estimator and metadata), checking what it is.

    A joblib model file is a pickle: loading it runs code from it, so load only
    files you trust. The shipped model (``path`` None, or its own path) is
    first checked against its recorded SHA-256; any other joblib file gets an
    :class:`UntrustedModelWarning`, once per process. A ``.skops`` file is
    loaded without running code from it, and only if it holds nothing but the
    types skops trusts and :data:`SKOPS_TRUSTED`.
    """
    import sklearn

    default = path is None or _is_default_model(Path(path))
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    skops_file = path.suffix == SKOPS_SUFFIX
    if default:
        verify_default_model(path)
    if skops_file:
        bundle = _load_skops(path)
    else:
        try:
            with open(path, "rb") as handle:
                bundle = joblib.load(handle)
        except Exception as exc:  # joblib/pickle raise many kinds for damaged files
            raise ModelFileError(f"{path}: not a readable model file ({type(exc).__name__}); retrain it or give another --model") from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path}: not a lineclf model file")
    if bundle.get("protocol") != MODEL_PROTOCOL:
        raise ModelFileError(
            f"{path}: model file protocol {bundle.get('protocol')} is not {MODEL_PROTOCOL}; "
            f"it was written by lineclf {bundle.get('lineclf_version')}, retrain it with this version"
        )
    if _minor(bundle.get("sklearn_version", "")) != _minor(sklearn.__version__):
        raise ModelFileError(
            f"{path}: written with scikit-learn {bundle.get('sklearn_version')}, this is {sklearn.__version__}; "
            f"install scikit-learn=={bundle.get('sklearn_version')} or retrain the model"
        )
    if list(bundle.get("labels", [])) != list(LABELS) or not isinstance(bundle.get("estimator"), LineClassifier):
        raise ModelFileError(f"{path}: model file does not hold a lineclf classifier for labels {', '.join(LABELS)}")
    if not default and not skops_file:
        # after the checks: a file that is refused above gets one error line, not two
        _warn_untrusted(path)
    return bundle


def _load_skops(path: Path) -> dict:
    sio = skops_module(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a damaged zip, or no skops file at all
        raise ModelFileError(f"{path}: not a readable .skops model file ({type(exc).__name__}); retrain it or give another --model") from None
    unexpected = sorted(set(untrusted) - set(SKOPS_TRUSTED))
    if unexpected:
        raise ModelFileError(f"{path}: holds types lineclf does not trust ({', '.join(unexpected)}); not loading it")
    try:
        return sio.load(path, trusted=list(SKOPS_TRUSTED))
    except Exception as exc:  # listed types that skops still cannot rebuild: a damaged file
        raise ModelFileError(f"{path}: not a readable .skops model file ({type(exc).__name__}); retrain it or give another --model") from None


def load_model(path: str | Path | None = None) -> LineClassifier:
    """Load a model file (the shipped default model when ``path`` is None)."""
    return load_bundle(path)["estimator"]


def predict_documents(model: LineClassifier, documents: Sequence[Document]):
    """Yield ``(document, labels, probabilities)`` for each document."""
    documents = list(documents)
    for doc, proba in zip(documents, model.predict_proba(documents)):
        yield doc, model.classes_[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=str), proba


__all__ = [
    "LineClassifier",
    "default_model_path",
    "file_sha256",
    "load_bundle",
    "load_model",
    "predict_documents",
    "save_model",
]

