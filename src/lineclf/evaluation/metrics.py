"""Scores of line labels: per-label precision/recall/F1, macro-F1, body F1,
content F1, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..document import Document
from ..labels import CONTENT_LABELS, LABELS


@dataclass(frozen=True)
class Report:
    """Line-weighted scores of predicted against true labels.

    ``confusion[i, j]`` counts lines whose true label is ``labels[i]`` and
    predicted label ``labels[j]``.
    """

    labels: tuple[str, ...]
    confusion: np.ndarray

    @classmethod
    def from_labels(cls, expected: Sequence[str], predicted: Sequence[str], labels=LABELS) -> "Report":
        index = {name: i for i, name in enumerate(labels)}
        true = np.array([index[x] for x in expected], dtype=np.int64)
        pred = np.array([index[x] for x in predicted], dtype=np.int64)
        confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
        np.add.at(confusion, (true, pred), 1)
        return cls(tuple(labels), confusion)

    @classmethod
    def from_documents(cls, documents: Sequence[Document], predictions: Sequence[Sequence[str]]) -> "Report":
        expected = [label for doc in documents for label in doc.labels]
        predicted = [label for seq in predictions for label in seq]
        return cls.from_labels(expected, predicted)

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def precision(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.support)

    @property
    def f1(self) -> np.ndarray:
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r)

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the labels that occur (in truth or prediction)."""
        present = (self.support + self.confusion.sum(axis=0)) > 0
        return float(self.f1[present].mean()) if present.any() else 0.0

    @property
    def accuracy(self) -> float:
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else 0.0

    def label_f1(self, label: str) -> float:
        return float(self.f1[self.labels.index(label)])

    @property
    def content_f1(self) -> float:
        """F1 of main content (body, headline, caption) against the rest."""
        content = np.isin(self.labels, CONTENT_LABELS)
        tp = self.confusion[np.ix_(content, content)].sum()
        return float(f1_of_counts(tp, self.confusion[content].sum(), self.confusion[:, content].sum()))

    def to_dict(self) -> dict:
        return {
            "lines": int(self.confusion.sum()),
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "body_f1": round(self.label_f1("body"), 4),
            "content_f1": round(self.content_f1, 4),
            "per_label": {
                label: {
                    "precision": round(float(p), 4),
                    "recall": round(float(r), 4),
                    "f1": round(float(f), 4),
                    "support": int(s),
                }
                for label, p, r, f, s in zip(self.labels, self.precision, self.recall, self.f1, self.support)
            },
            "confusion": {"labels": list(self.labels), "rows_true_cols_predicted": self.confusion.tolist()},
        }

    def to_text(self, title: str = "") -> str:
        """A plain-text table for people."""
        width = max(len(label) for label in self.labels)
        rows = [title] if title else []
        rows.append(f"{'label':<{width}}  precision  recall     f1  lines")
        for label, p, r, f, s in zip(self.labels, self.precision, self.recall, self.f1, self.support):
            rows.append(f"{label:<{width}}  {p:9.3f}  {r:6.3f}  {f:5.3f}  {s:5d}")
        rows.append(
            f"macro-F1 {self.macro_f1:.3f}   body F1 {self.label_f1('body'):.3f}   "
            f"accuracy {self.accuracy:.3f}   lines {int(self.confusion.sum())}"
        )
        rows.append("confusion (rows: true, columns: predicted)")
        rows.append(" " * (width + 2) + " ".join(f"{label[:7]:>7}" for label in self.labels))
        for label, row in zip(self.labels, self.confusion):
            rows.append(f"{label:<{width}}  " + " ".join(f"{v:7d}" for v in row))
        return "\n".join(rows)


def _ratio(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def f1_of_counts(true_positives, true_count, predicted_count):
    """F1 from counts: ``2 tp / (true + predicted)``, 0 where both are 0
    (elementwise for arrays)."""
    return _ratio(2 * np.asarray(true_positives), np.asarray(true_count) + np.asarray(predicted_count))
