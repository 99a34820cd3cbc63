"""Training a model from labelled files: cross-validated scores, then a fit on
everything, saved with its metadata."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.base import clone

from .document import document_groups
from .errors import DataFormatError, LineclfError, UsageError
from .evaluation import Report, cross_val_proba, most_probable_labels
from .evaluation.tuning import BIAS_GRID, nested_label_bias, tune_label_bias, tuned_label_indices
from .io import atomic_writer, check_output_path, read_labelled_corpus
from .labels import LABELS, PARTIAL_LABELS
from .model import SKOPS_SUFFIX, LineClassifier, save_model, skops_module

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    model: LineClassifier
    reports: dict[str, Report]
    folds: int
    grouped_by: str
    #: Labelled pages trained on.
    pages: int = 0
    #: Labelled files left out (``on_error="skip"``): (name, why).
    skipped: list[tuple[str, LineclfError]] = field(default_factory=list)
    #: The tuned label offsets (``tune_label_bias``), by label.
    label_bias: dict[str, float] | None = None


def train_model(
    data: Sequence[str | Path],
    model_path: str | Path,
    manifests: Sequence[str | Path] = (),
    folds: int = 5,
    estimator: LineClassifier | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_error: str = "stop",
    data_weights: Mapping[str, float] | None = None,
    tune_label_bias: bool = False,
    bias_labels: Sequence[str] | None = None,
    relabel: Mapping[str, Mapping[str, str]] | None = None,
) -> TrainResult:
    """Cross-validate ``estimator`` on the labelled files under ``data``, fit it
    on all of them and save it to ``model_path`` with the scores as metadata.

    Reports cover all pages together and, when several DATA are given, each
    one on its own (predicted by models that never saw its fold's sites).
    Labelled files may hold partial labels (content, noise: see
    ``LineClassifier.fit``); their pages are trained on but not scored.
    A bad labelled file stops everything before any training, unless
    ``on_error="skip"``: then it is left out and listed in the result.
    ``data_weights`` maps a DATA item (its folder or file name, or the path as
    given) to how much each of its lines counts in training (default 1).
    ``tune_label_bias``: tune the model's ``label_bias`` on the cross-validated
    probabilities (see :mod:`lineclf.evaluation.tuning`: each DATA item is a source,
    scored by macro-F1 of its fully labelled pages and content F1 of its
    partially labelled ones); the reported scores are then those of offsets
    tuned on the other folds. ``bias_labels``: the labels whose offsets are
    tuned (default all; chrome's always stays 0). ``relabel`` maps a DATA
    item to {label: what its lines of that label are trained as}, a label or a
    partial label (e.g. gn1's chrome as noise, teaser or chrome, where its
    annotators marked teasers chrome); scores still compare with the labels as
    the files have them.
    """
    if tune_label_bias and folds < 2:
        raise UsageError("tuning the label bias needs cross-validation: at least 2 folds")
    if bias_labels is not None:
        if not tune_label_bias:
            raise UsageError("--bias-labels needs --tune-label-bias")
        check_bias_labels(bias_labels)
    if on_error not in ("stop", "skip"):
        raise UsageError(f"unknown on-error mode {on_error!r}; expected one of stop, skip")
    # a model that cannot be saved should not cost a training run first
    check_output_path(model_path)
    if Path(model_path).suffix == SKOPS_SUFFIX:
        skops_module(Path(model_path))
    estimator = estimator if estimator is not None else LineClassifier()
    skipped: list[tuple[str, LineclfError]] | None = [] if on_error == "skip" else None
    sources: dict[str, list] = {}
    names = [Path(item).name or str(item) for item in data]
    for name, item in zip(names, data):
        # a folder name stands for its data unless two DATA share it
        key = name if names.count(name) == 1 else str(item)
        sources[key] = read_labelled_corpus([item], manifests, skipped=skipped, partial=True)
    paths = dict(zip(map(str, data), sources))
    weights = _source_weights(data_weights or {}, sources, paths)
    relabelled = _source_relabelling(relabel or {}, sources, paths)
    documents = [doc for docs in sources.values() for doc in docs]
    training = [relabel_document(doc, relabelled.get(key, {})) for key, docs in sources.items() for doc in docs]
    sample_weight = [weights[key] for key, docs in sources.items() for _ in docs]
    if skipped and not documents:
        raise DataFormatError(f"no labelled file could be read ({len(skipped)} skipped); the first: {skipped[0][1]}")
    groups = document_groups(documents)
    grouped_by = "site" if any(doc.site for doc in documents) else "file"

    reports: dict[str, Report] = {}
    n_folds = 0
    bias_record: dict | None = None
    if folds:
        if tune_label_bias:
            # the offsets are tuned on the probabilities of the model without any
            estimator = clone(estimator).set_params(label_bias=None)
        probas, fold_of = cross_val_proba(
            estimator, training, n_splits=folds, groups=groups, progress=progress, sample_weight=sample_weight
        )
        predictions = most_probable_labels(probas)
        n_folds = min(folds, len(set(groups)))
        if tune_label_bias:
            predictions, bias_record = _tune_bias(documents, probas, fold_of, predictions, sources, bias_labels)
            estimator = estimator.set_params(label_bias=tuple(bias_record["label_bias"].values()))
        scored = [(doc, p) for doc, p in zip(documents, predictions) if _fully_labelled(doc)]
        if scored:
            reports["all"] = Report.from_documents(*zip(*scored))
        if len(sources) > 1:
            start = 0
            for name, docs in sources.items():
                if all(map(_fully_labelled, docs)):
                    reports[name] = Report.from_documents(docs, predictions[start : start + len(docs)])
                else:
                    logger.info("%s: partially labelled pages are trained on, not scored", name)
                start += len(docs)
    logger.info("fitting the final model on %d pages", len(documents))
    model = estimator.fit(training, groups=groups, sample_weight=sample_weight)
    metadata = {
        "trained_on": {
            name: {
                "pages": len(docs),
                "lines": sum(d.n_units for d in docs),
                "weight": weights[name],
                **({"relabelled": dict(relabelled[name])} if relabelled.get(name) else {}),
            }
            for name, docs in sources.items()
        },
        "cross_validation": {"folds": n_folds, "grouped_by": grouped_by, "scores": {k: r.to_dict() for k, r in reports.items()}},
    }
    if bias_record is not None:
        metadata["label_bias_tuning"] = bias_record
    save_model(model, model_path, metadata)
    return TrainResult(
        model, reports, n_folds, grouped_by, len(documents), skipped or [], bias_record and bias_record["label_bias"]
    )


def check_bias_labels(bias_labels: Sequence[str]) -> list[str]:
    """The labels of ``--bias-labels`` as a list, or a UsageError naming the
    bad one (unknown, or only chrome's offset, which stays 0)."""
    try:
        tuned_label_indices(bias_labels)
    except ValueError as error:
        raise UsageError(f"--bias-labels: {error}") from None
    return list(bias_labels)


def parse_bias_labels(text: str) -> list[str]:
    """``--bias-labels LABEL,...`` (of train and the benchmark) as a checked list."""
    return check_bias_labels([label.strip() for label in text.split(",")])


def _tune_bias(
    documents, probas, fold_of, untuned, sources: Mapping[str, list], bias_labels: Sequence[str] | None = None
) -> tuple[list, dict]:
    """Labels of each page under label offsets tuned on the other folds, and
    what was tuned: the offsets of all folds together (the model's), those of
    each fold, and the scores without offsets. Every page takes part in the
    tuning, the partially labelled ones too (scored by content F1)."""
    source_of = [name for name, docs in sources.items() for _ in docs]
    full = [i for i, doc in enumerate(documents) if _fully_labelled(doc)]
    if not full:
        raise DataFormatError("tuning the label bias needs pages whose lines all carry one of the five labels")
    labels = [doc.labels for doc in documents]
    predictions, per_fold = nested_label_bias(probas, labels, fold_of, source_of, bias_labels)
    bias = tune_label_bias(probas, labels, source_of, bias_labels)
    untuned_scores = {"all": Report.from_documents([documents[i] for i in full], [untuned[i] for i in full])}
    for name in dict.fromkeys(source_of[i] for i in full):
        docs = [i for i in full if source_of[i] == name]
        untuned_scores[name] = Report.from_documents([documents[i] for i in docs], [untuned[i] for i in docs])
    logger.info("label bias %s", {label: round(float(b), 2) for label, b in zip(LABELS, bias)})
    record = {
        "label_bias": {label: float(b) for label, b in zip(LABELS, bias)},
        "tuned_labels": [LABELS[j] for j in tuned_label_indices(bias_labels)],
        "per_fold": [{label: float(b) for label, b in zip(LABELS, fold)} for fold in per_fold],
        "grid": [float(BIAS_GRID[0]), float(BIAS_GRID[-1]), float(BIAS_GRID[1] - BIAS_GRID[0])],
        "untuned_scores": {name: report.to_dict() for name, report in untuned_scores.items()},
    }
    return predictions, record


def parse_data_weight(item: str) -> tuple[str, float]:
    """``DATA=WEIGHT`` (of ``--data-weight``) as (name, weight); the last ``=``
    splits, so a name may hold one."""
    name, sep, value = item.rpartition("=")
    try:
        weight = float(value)
    except ValueError:
        weight = None
    if not sep or not name or weight is None:
        raise UsageError(f"--data-weight {item!r}: expected DATA=WEIGHT, e.g. de-news=2")
    return name, weight


def _source_weights(data_weights: Mapping[str, float], sources: Mapping[str, list], paths: Mapping[str, str]) -> dict[str, float]:
    """Each source's weight; a name that is no DATA item is refused rather
    than ignored (a typo would silently train another model)."""
    weights = dict.fromkeys(sources, 1.0)
    for name, weight in data_weights.items():
        key = name if name in sources else paths.get(name)
        if key is None:
            raise UsageError(f"data weight for {name!r}: no such DATA (expected one of {', '.join(sources)})")
        if not (0 < weight < float("inf")):
            raise UsageError(f"data weight for {name!r} must be a finite number greater than 0, not {weight}")
        weights[key] = float(weight)
    return weights


def parse_relabel(item: str) -> tuple[str, str, str]:
    """``DATA:LABEL=NEW`` (of ``--relabel``) as (data, label, new): DATA's
    LABEL lines are trained as NEW, one of the five labels or a partial label."""
    data, sep, rest = item.rpartition(":")
    label, eq, new = rest.partition("=")
    if not sep or not eq or not data:
        raise UsageError(f"--relabel {item!r}: expected DATA:LABEL=NEW, e.g. gn1:chrome=noise")
    if label not in LABELS:
        raise UsageError(f"--relabel {item!r}: {label!r} is not one of {', '.join(LABELS)}")
    if new not in LABELS and new not in PARTIAL_LABELS:
        raise UsageError(
            f"--relabel {item!r}: {new!r} is neither a label nor a partial label ({', '.join(PARTIAL_LABELS)})"
        )
    return data, label, new


def relabel_document(doc, mapping: Mapping[str, str]):
    """``doc`` with its labels mapped by ``mapping`` (label -> what it is trained as)."""
    if not mapping:
        return doc
    return doc.with_labels([mapping.get(label, label) for label in doc.labels])


def _source_relabelling(
    relabel: Mapping[str, Mapping[str, str]], sources: Mapping[str, list], paths: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Each source's label mapping; a name that is no DATA item is refused."""
    out: dict[str, dict[str, str]] = {}
    for name, mapping in relabel.items():
        key = name if name in sources else paths.get(name)
        if key is None:
            raise UsageError(f"--relabel for {name!r}: no such DATA (expected one of {', '.join(sources)})")
        out.setdefault(key, {}).update(mapping)
    return out


def _fully_labelled(doc) -> bool:
    return all(label in LABELS for label in doc.labels)


def write_json(path: str | Path, payload) -> None:
    """Write JSON atomically (temp file, then rename)."""
    with atomic_writer(path) as handle:
        handle.write((json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------- starting from a model

#: ``--base default`` names the shipped model.
DEFAULT_BASE = "default"
#: With ``--retrain``, how much each line of the pages the base was not
#: trained on counts, unless --data-weight says: a few corrected pages among
#: the base's hundreds must count for something.
DEFAULT_RETRAIN_WEIGHT = 10.0


@dataclass
class AdaptResult:
    model: LineClassifier
    #: Held-out scores of the base and of the adapted model ("base", "adapted"), when cross-validated.
    reports: dict[str, Report]
    folds: int
    pages: int = 0
    skipped: list[tuple[str, LineclfError]] = field(default_factory=list)


def base_model_path(base: str | Path) -> Path | None:
    """The model file ``--base`` names (None: the shipped model)."""
    return None if str(base) == DEFAULT_BASE else Path(base)


def adapt_from_base(
    data: Sequence[str | Path],
    model_path: str | Path,
    base: str | Path = DEFAULT_BASE,
    manifests: Sequence[str | Path] = (),
    folds: int = 5,
    on_error: str = "stop",
) -> AdaptResult:
    """Adapt the model ``base`` to the labelled pages under ``data`` (a
    site's corrected pages) with :func:`~lineclf.model.adapt_model`, and save
    it to ``model_path``; the base's training data is not needed.

    With ``folds`` >= 2, each fold's pages (folds by page, as the pages come
    from the sites the model is adapted to) are labelled by the base and by
    the base adapted to the other folds' pages: the reports say what the
    adaptation buys on pages it has not seen."""
    from sklearn.model_selection import KFold

    from .model import adapt_model, load_bundle

    if on_error not in ("stop", "skip"):
        raise UsageError(f"unknown on-error mode {on_error!r}; expected one of stop, skip")
    check_output_path(model_path)
    if Path(model_path).suffix == SKOPS_SUFFIX:
        skops_module(Path(model_path))
    bundle = load_bundle(base_model_path(base))
    model = bundle["estimator"]
    skipped: list[tuple[str, LineclfError]] | None = [] if on_error == "skip" else None
    documents = read_labelled_corpus(data, manifests, skipped=skipped, partial=True)
    for doc in documents:
        partial = next((label for label in doc.labels if label in PARTIAL_LABELS), None)
        if partial is not None:
            raise DataFormatError(f"{doc.name}: partial label {partial!r}: adapting needs one of the five labels on every line")
    if not documents:
        raise DataFormatError("no labelled pages to adapt to" + (f" ({len(skipped)} skipped)" if skipped else ""))
    reports: dict[str, Report] = {}
    n_folds = min(folds, len(documents))
    if n_folds >= 2:
        base_labels: list = [None] * len(documents)
        adapted_labels: list = [None] * len(documents)
        for train, test in KFold(n_splits=n_folds).split(documents):
            adapted = adapt_model(model, [documents[i] for i in train])
            pages = [documents[i] for i in test]
            for i, base_pred, adapted_pred in zip(test, model.predict(pages), adapted.predict(pages)):
                base_labels[i], adapted_labels[i] = base_pred, adapted_pred
        reports = {
            "base": Report.from_documents(documents, base_labels),
            "adapted": Report.from_documents(documents, adapted_labels),
        }
    adapted = adapt_model(model, documents)
    metadata = dict(bundle.get("metadata") or {})
    metadata["adapted"] = [
        *metadata.get("adapted", []),
        {
            "from": str(base),
            "pages": len(documents),
            "lines": sum(doc.n_units for doc in documents),
            "cross_validation": {"folds": n_folds if reports else 0, "grouped_by": "file", "scores": {k: r.to_dict() for k, r in reports.items()}},
        },
    ]
    save_model(adapted, model_path, metadata)
    return AdaptResult(adapted, reports, n_folds if reports else 0, len(documents), skipped or [])


def base_recipe(base: str | Path, data: Sequence[str | Path]) -> tuple[LineClassifier, dict[str, float], dict[str, dict[str, str]]]:
    """What ``--base B --retrain`` trains with: B's parameters (unfitted), and
    for each DATA item named as one of B's training sources its weight and
    relabelling; every other DATA item (the user's pages) gets
    :data:`DEFAULT_RETRAIN_WEIGHT`. A base that none of DATA's names match
    is refused: retraining it needs its training data."""
    from .model import load_bundle

    bundle = load_bundle(base_model_path(base))
    trained_on = (bundle.get("metadata") or {}).get("trained_on") or {}
    names = [Path(item).name or str(item) for item in data]
    if not any(name in trained_on for name in names):
        listed = ", ".join(trained_on) or "nothing recorded"
        raise UsageError(
            f"--retrain needs the base model's training data among DATA (it was trained on: {listed}); "
            "without it, leave out --retrain to adapt the base to your pages"
        )
    weights: dict[str, float] = {}
    relabel: dict[str, dict[str, str]] = {}
    for name in names:
        source = trained_on.get(name)
        if source is None:
            weights[name] = DEFAULT_RETRAIN_WEIGHT
            continue
        weights[name] = float(source.get("weight", 1.0))
        if source.get("relabelled"):
            relabel[name] = dict(source["relabelled"])
    return clone(bundle["estimator"]), weights, relabel
