"""Model files: writing a fitted classifier with its metadata, and loading
one safely (the shipped model checked against its SHA-256, other joblib
files warned about, .skops files loaded without running code)."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from .. import __version__
from ..document import Document
from ..errors import ModelFileError, UntrustedModelWarning
from ..io.writers import atomic_writer
from ..labels import LABELS, label_names
from .predictor import Predictor

#: Written into every model file; the protocol is bumped when the file layout
#: changes or the features a model was fitted on do (3: thread, shape and
#: region features).
MODEL_FORMAT = "lineclf-model"
#: 4: the file holds the classifier's parameters and its :class:`Predictor`
#: (plain arrays), so labelling loads it without scikit-learn.
MODEL_PROTOCOL = 4
#: 3: the file holds the pickled estimator (read, and turned into a predictor).
READABLE_PROTOCOLS = (3, MODEL_PROTOCOL)
DEFAULT_MODEL_NAME = "default.joblib"


def default_model_path() -> Path:
    """The shipped model: inside the installed package, or in models/ of a checkout."""
    packaged = resources.files("lineclf").joinpath("models", DEFAULT_MODEL_NAME)
    if packaged.is_file():
        return Path(str(packaged))
    # an editable install or a plain checkout: the repository's models/ folder
    return Path(__file__).resolve().parents[3] / "models" / DEFAULT_MODEL_NAME


#: The shipped model's SHA-256 is recorded beside it, in ``sha256sum`` format.
HASH_SUFFIX = ".sha256"
#: Model files in skops' format, which loads without running code from the file.
SKOPS_SUFFIX = ".skops"
#: The only types a .skops model file may hold beyond those skops trusts
#: itself: lineclf's own plain-array classes, and in files of protocol 3
#: lineclf's classifier and the gradient-boosted trees' predictor (plain
#: arrays; skops 0.16 does not list it).
SKOPS_TRUSTED = (
    # a model's passes and its adapters, all plain arrays (protocol 4)
    "lineclf.model.predictor.Predictor",
    "lineclf.model.linear.LinearPass",
    "lineclf.model.trees.TreeEnsemble",
    "lineclf.model.adaptation.SiteAdapter",
    "lineclf.model.adaptation._Tree",
    # the estimator itself, in files of protocol 3
    "lineclf.model.LineClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
# The "loading a model runs code" warning is given once per process, so the
# process is where that fact lives.
_TRUST_WARNED = False


def skops_module(path: Path):
    """skops.io, or a ModelFileError saying how to install it."""
    try:
        import skops.io
    except ImportError:
        raise ModelFileError(f"{path}: .skops model files need skops; pip install 'lineclf[skops]'") from None
    return skops.io


def save_model(model, path: str | Path, metadata: dict | None = None) -> Path:
    """Write a fitted :class:`~lineclf.model.LineClassifier` with its
    metadata (atomically: temp file, then rename): its parameters and its
    :class:`Predictor`, not the scikit-learn estimators it was fitted with.

    A path ending in ``.skops`` is written in skops' format (needs skops),
    any other as a joblib pickle.
    """
    import joblib
    import sklearn

    predictor = model.predictor()  # refuses a model that is not fitted
    bundle = {
        "format": MODEL_FORMAT,
        "protocol": MODEL_PROTOCOL,
        "lineclf_version": __version__,
        # the release that fitted it (a protocol 4 file loads under any)
        "sklearn_version": sklearn.__version__,
        "labels": list(LABELS),
        "params": model.get_params(),
        "metadata": dict(metadata or {}),
        "predictor": predictor,
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
    """Load a model file's bundle (estimator, predictor and metadata),
    checking what it is.

    A joblib model file is a pickle: loading it runs code from it, so load only
    files you trust. The shipped model (``path`` None, or its own path) is
    first checked against its recorded SHA-256; any other joblib file gets an
    :class:`UntrustedModelWarning`, once per process. A ``.skops`` file is
    loaded without running code from it, and only if it holds nothing but the
    types skops trusts and :data:`SKOPS_TRUSTED`.
    """
    bundle, path = _read_bundle(path)
    if "estimator" not in bundle:
        bundle["estimator"] = _estimator(bundle)
    return bundle


def _read_bundle(path: str | Path | None) -> tuple[dict, Path]:
    """The checked bundle of a model file, with its ``predictor``; scikit-learn
    is imported only for a file of protocol 3, which holds the estimator."""
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
        import joblib

        try:
            with open(path, "rb") as handle:
                bundle = joblib.load(handle)
        except Exception as exc:  # joblib/pickle raise many kinds for damaged files
            raise ModelFileError(f"{path}: not a readable model file ({type(exc).__name__}); retrain it or give another --model") from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path}: not a lineclf model file")
    if bundle.get("protocol") not in READABLE_PROTOCOLS:
        raise ModelFileError(
            f"{path}: model file protocol {bundle.get('protocol')} is not {MODEL_PROTOCOL}; "
            f"it was written by lineclf {bundle.get('lineclf_version')}, retrain it with this version"
        )
    if list(bundle.get("labels", [])) != list(LABELS):
        raise ModelFileError(f"{path}: model file does not hold a lineclf classifier for labels {', '.join(LABELS)}")
    if bundle["protocol"] == 3:
        _check_estimator(bundle, path)
    elif not isinstance(bundle.get("predictor"), Predictor) or not isinstance(bundle.get("params"), dict):
        raise ModelFileError(f"{path}: model file does not hold a lineclf classifier for labels {', '.join(LABELS)}")
    if not default and not skops_file:
        # after the checks: a file that is refused above gets one error line, not two
        _warn_untrusted(path)
    return bundle, path


def _check_estimator(bundle: dict, path: Path) -> None:
    """A protocol 3 bundle: a pickled estimator, tied to the scikit-learn
    release that wrote it; its predictor is made from it."""
    import sklearn

    from .classifier import LineClassifier

    if _minor(bundle.get("sklearn_version", "")) != _minor(sklearn.__version__):
        raise ModelFileError(
            f"{path}: written with scikit-learn {bundle.get('sklearn_version')}, this is {sklearn.__version__}; "
            f"install scikit-learn=={bundle.get('sklearn_version')} or retrain the model"
        )
    if not isinstance(bundle.get("estimator"), LineClassifier):
        raise ModelFileError(f"{path}: model file does not hold a lineclf classifier for labels {', '.join(LABELS)}")
    bundle["predictor"] = bundle["estimator"].predictor()


def _estimator(bundle: dict):
    """The classifier of a protocol 4 bundle: its parameters, fitted with its predictor's passes."""
    from .classifier import LineClassifier

    try:
        return LineClassifier.from_predictor(bundle["params"], bundle["predictor"])
    except TypeError:  # parameters this version does not know
        raise ModelFileError(
            f"model file of lineclf {bundle.get('lineclf_version')} has parameters this version does not know; retrain it"
        ) from None


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


def load_model(path: str | Path | None = None):
    """Load a model file as a :class:`~lineclf.model.LineClassifier` (the
    shipped default model when ``path`` is None)."""
    return load_bundle(path)["estimator"]


def load_predictor(path: str | Path | None = None) -> Predictor:
    """Load a model file's :class:`Predictor`, all that labelling needs (the
    shipped default model when ``path`` is None), without importing
    scikit-learn (unless the file is of protocol 3)."""
    return _read_bundle(path)[0]["predictor"]


def as_predictor(model) -> Predictor:
    """The :class:`Predictor` of a model given as a model file's path (None:
    the shipped model), a fitted :class:`~lineclf.model.LineClassifier`, or a predictor."""
    if isinstance(model, Predictor):
        return model
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_predictor(model)
    return model.predictor()


def predict_documents(model, documents: Sequence[Document]):
    """Yield ``(document, labels, probabilities)`` for each document."""
    documents = list(documents)
    for doc, proba in zip(documents, model.predict_proba(documents)):
        yield doc, label_names(proba), proba
