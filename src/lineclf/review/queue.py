"""The pages under review: what the model says of each line, what the
reviewer has set, and the labelled files they are saved to.

Pages come least certain first (the mean of one minus each line's highest
probability), as annotation tools put the items a person's time helps most
in front. A page already saved in the output folder is loaded as it was
saved, and counts as done, so that a review can be stopped and resumed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..document import Document
from ..errors import DataFormatError, UsageError
from ..features import SiteCounts
from ..io import LABELLED_SUFFIX, PageError, RecordSettings, Source, atomic_writer, format_tsv, read_labelled, read_source
from ..labelling.planning import check_writable_folder
from ..labels import LABELS, label_names

logger = logging.getLogger(__name__)

#: A line whose most probable label has less than this probability is marked
#: as one the model is unsure of.
UNSURE_BELOW = 0.6


@dataclass
class ReviewPage:
    """One page: its document, the model's probabilities and the labels as
    they stand (the model's, a saved file's, or the reviewer's)."""

    document: Document
    #: Where it is saved: ``<output folder>/<name>.tsv``.
    target: Path
    proba: np.ndarray
    labels: list[str]
    done: bool = False
    predicted: list[str] = field(default_factory=list)

    @property
    def uncertainty(self) -> float:
        """Mean over lines of one minus the highest probability (0: sure of every line)."""
        return float(np.mean(1.0 - self.proba.max(axis=1))) if len(self.proba) else 0.0

    @property
    def unsure(self) -> int:
        """Lines whose most probable label is below :data:`UNSURE_BELOW`."""
        return int((self.proba.max(axis=1) < UNSURE_BELOW).sum()) if len(self.proba) else 0


class ReviewQueue:
    """Pages to review, least certain first, saved to ``out_dir``."""

    def __init__(self, pages: Sequence[ReviewPage], out_dir: Path):
        self.out_dir = Path(out_dir)
        # not yet done first, each part least certain first; a stable order for the session
        self.pages = sorted(pages, key=lambda page: (page.done, -page.uncertainty))

    @property
    def done(self) -> int:
        return sum(page.done for page in self.pages)

    def summary(self) -> list[dict]:
        """The queue as the page lists it: one entry per page, in order."""
        return [
            {
                "id": i,
                "name": page.target.name,
                "lines": page.document.n_units,
                "unsure": page.unsure,
                "uncertainty": round(page.uncertainty, 4),
                "done": page.done,
            }
            for i, page in enumerate(self.pages)
        ]

    def page(self, index: int) -> ReviewPage:
        if not 0 <= index < len(self.pages):
            raise UsageError(f"no page {index}: the queue has {len(self.pages)}")
        return self.pages[index]

    def page_view(self, index: int) -> dict:
        """One page as the page shows it: every line (blank ones too) with its
        label, the model's label and probabilities for the non-blank ones."""
        page = self.page(index)
        doc = page.document
        unit_of = {line: unit for unit, line in enumerate(doc.unit_index.tolist())}
        lines = []
        for number, text in enumerate(doc.lines):
            unit = unit_of.get(number)
            if unit is None:
                lines.append({"text": text})
                continue
            lines.append(
                {
                    "text": text,
                    "unit": unit,
                    "label": page.labels[unit],
                    "predicted": page.predicted[unit],
                    "proba": [round(float(p), 3) for p in page.proba[unit]],
                    "unsure": bool(page.proba[unit].max() < UNSURE_BELOW),
                }
            )
        return {"id": index, "name": page.target.name, "done": page.done, "labels": list(LABELS), "lines": lines}

    def save(self, index: int, labels: Sequence[str]) -> Path:
        """Set a page's labels (one per non-blank line), write it to its
        labelled file (atomically) and mark it done."""
        page = self.page(index)
        labels = list(labels)
        if len(labels) != page.document.n_units:
            raise DataFormatError(f"{page.target.name}: {len(labels)} labels for {page.document.n_units} lines")
        unknown = sorted({label for label in labels if label not in LABELS})
        if unknown:
            raise DataFormatError(f"{page.target.name}: unknown label {unknown[0]!r}; expected one of {', '.join(LABELS)}")
        with atomic_writer(page.target) as handle:
            handle.write(format_tsv(page.document, labels).encode("utf-8"))
        page.labels = labels
        page.done = True
        logger.info("saved %s", page.target)
        return page.target


def review_pages(
    sources: Sequence[Source],
    out_dir: Path,
    model,
    settings: RecordSettings | None = None,
) -> ReviewQueue:
    """Read every page of ``sources``, label them with ``model`` (lines counted
    across each site's pages, as `lineclf predict` does) and load the pages
    already saved in ``out_dir`` (created when missing). A page that cannot be read, two pages that
    would be saved to the same file, or a saved file that holds another page
    stop everything with a DataFormatError or UsageError, before the review starts."""
    check_writable_folder(out_dir)
    documents: list[Document] = []
    targets: list[Path] = []
    claimed: dict[Path, str] = {}
    for source in sources:
        for item in read_source(source, settings):
            if isinstance(item, PageError):
                raise item.error
            name = source.stem if not source.holds_records else f"{source.stem}.{item.meta.record}"
            target = Path(out_dir) / f"{name}{LABELLED_SUFFIX}"
            if target in claimed:
                raise UsageError(f"{claimed[target]} and {item.name} would both be saved to {target}; review them separately")
            claimed[target] = item.name
            documents.append(item)
            targets.append(target)
    if not documents:
        raise UsageError("no pages to review in the inputs")
    probas = model.predict_proba(documents, SiteCounts.of(documents))
    pages = []
    for doc, target, proba in zip(documents, targets, probas):
        predicted = label_names(proba).tolist() if len(proba) else []
        saved = _saved_labels(target, doc)
        pages.append(
            ReviewPage(doc, target, proba, list(saved or predicted), done=saved is not None, predicted=predicted)
        )
    logger.info("%d pages to review, %d saved before", len(pages), sum(page.done for page in pages))
    return ReviewQueue(pages, out_dir)


def _saved_labels(target: Path, doc: Document) -> list[str] | None:
    """The labels of ``doc`` as saved in ``target`` earlier, or None when
    there is no such file. A file that holds other lines is refused rather
    than overwritten."""
    if not target.is_file():
        return None
    saved = read_labelled(target)
    if saved.lines != doc.lines:
        differ = next((i for i, (a, b) in enumerate(zip(saved.lines, doc.lines)) if a != b), min(len(saved.lines), len(doc.lines)))
        raise UsageError(
            f"{target}: holds another page than {doc.name} (line {differ + 1} differs); move it away or choose another --out-dir"
        )
    return list(saved.labels or ())
