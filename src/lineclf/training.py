"""Training a model from labelled files: cross-validated scores, then a fit on
everything, saved with its metadata."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .io import atomic_writer, read_labelled_corpus
from .metrics import Report, cross_val_predict, document_groups
from .model import LineClassifier, save_model

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    model: LineClassifier
    reports: dict[str, Report]
    folds: int
    grouped_by: str


def train_model(
    data: Sequence[str | Path],
    model_path: str | Path,
    manifests: Sequence[str | Path] = (),
    folds: int = 5,
    estimator: LineClassifier | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Cross-validate ``estimator`` on the labelled files under ``data``, fit it
    on all of them and save it to ``model_path`` with the scores as metadata.

    Reports cover all pages together and, when several DATA are given, each
    one on its own (predicted by models that never saw its fold's sites).
    """
    estimator = estimator if estimator is not None else LineClassifier()
    sources: dict[str, list] = {}
    names = [Path(item).name or str(item) for item in data]
    for name, item in zip(names, data):
        # a folder name stands for its data unless two DATA share it
        key = name if names.count(name) == 1 else str(item)
        sources[key] = read_labelled_corpus([item], manifests)
    documents = [doc for docs in sources.values() for doc in docs]
    groups = document_groups(documents)
    grouped_by = "site" if any(doc.site for doc in documents) else "file"

    reports: dict[str, Report] = {}
    n_folds = 0
    if folds:
        predictions = cross_val_predict(estimator, documents, n_splits=folds, groups=groups, progress=progress)
        n_folds = min(folds, len(set(groups)))
        reports["all"] = Report.from_documents(documents, predictions)
        if len(sources) > 1:
            start = 0
            for name, docs in sources.items():
                reports[name] = Report.from_documents(docs, predictions[start : start + len(docs)])
                start += len(docs)
    logger.info("fitting the final model on %d pages", len(documents))
    model = estimator.fit(documents, groups=groups)
    metadata = {
        "trained_on": {name: {"pages": len(docs), "lines": sum(d.n_units for d in docs)} for name, docs in sources.items()},
        "cross_validation": {"folds": n_folds, "grouped_by": grouped_by, "scores": {k: r.to_dict() for k, r in reports.items()}},
    }
    save_model(model, model_path, metadata)
    return TrainResult(model, reports, n_folds, grouped_by)


def write_json(path: str | Path, payload) -> None:
    """Write JSON atomically (temp file, then rename)."""
    with atomic_writer(path) as handle:
        handle.write((json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
