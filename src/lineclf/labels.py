"""The five line labels and their parsing."""

from __future__ import annotations

from enum import Enum

import numpy as np

from .errors import DataFormatError


class Label(str, Enum):
    """What a line is doing on the page (see LABELS.md)."""

    BODY = "body"
    HEADLINE = "headline"
    CAPTION = "caption"
    TEASER = "teaser"
    CHROME = "chrome"

    def __str__(self) -> str:
        return self.value


#: Label names in the fixed order used for probability columns and reports.
LABELS: tuple[str, ...] = tuple(label.value for label in Label)

#: Labels that make up the main article (what the turku corpus calls main text).
CONTENT_LABELS: tuple[str, ...] = ("body", "headline", "caption")

#: Partial labels, for training pages whose lines are only known to be part
#: of the article or not (turku-quality's main text and noise): each stands
#: for a set of labels, and training picks the one that fits the line best.
PARTIAL_LABELS: dict[str, tuple[str, ...]] = {"content": CONTENT_LABELS, "noise": ("teaser", "chrome")}


#: LABELS as an array, to index with label numbers.
_LABEL_ARRAY = np.asarray(LABELS)


def label_names(proba: np.ndarray) -> np.ndarray:
    """The most probable label of each row of ``proba`` (columns in LABELS order)."""
    if not len(proba):
        return np.array([], dtype=_LABEL_ARRAY.dtype)
    return _LABEL_ARRAY[np.asarray(proba).argmax(axis=1)]


def parse_label(name: str, partial: bool = False) -> str:
    """Return ``name`` if it is one of the five labels (or, with ``partial``,
    a partial label), else raise DataFormatError.

    Labels are exact and lower-case: a hand-edited ``Body`` or `` body`` is
    refused rather than guessed at, so a typo never silently becomes data.
    """
    if name in LABELS or (partial and name in PARTIAL_LABELS):
        return name
    if name in PARTIAL_LABELS:
        raise DataFormatError(
            f"partial label {name!r} (one of {', '.join(PARTIAL_LABELS[name])}) can be trained on, not scored"
        )
    hint = ""
    if name.strip().lower() in LABELS:
        hint = f" (write it as '{name.strip().lower()}': labels are lower-case, without spaces)"
    raise DataFormatError(f"unknown label {name!r}{hint}; expected one of {', '.join(LABELS)}")


def parse_label_list(text: str) -> tuple[str, ...]:
    """Parse a comma-separated label list such as ``"body,headline"``."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise DataFormatError("empty label list; give labels such as 'body,headline'")
    return tuple(parse_label(name) for name in names)
