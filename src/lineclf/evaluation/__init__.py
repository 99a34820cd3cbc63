"""How good a model is: scores, site-grouped cross-validation, and the
label-bias tuning on cross-validated probabilities.

- :mod:`.metrics`: :class:`Report` (per-label P/R/F1, macro-F1, content F1, confusion);
- :mod:`.cross_validation`: folds grouped by site, and scoring a fitted model;
- :mod:`.tuning`: per-label decision offsets (``LineClassifier.label_bias``).
"""

from __future__ import annotations

from ..document import document_groups
from .cross_validation import DEFAULT_FOLDS, cross_val_predict, cross_val_proba, evaluate, most_probable_labels
from .metrics import Report, f1_of_counts

__all__ = [
    "DEFAULT_FOLDS",
    "Report",
    "cross_val_predict",
    "cross_val_proba",
    "document_groups",
    "evaluate",
    "f1_of_counts",
    "most_probable_labels",
]
