"""Documents (one page dump each) and their lines.

A document keeps every line of its dump exactly as read, blank ones included,
with each line's own line end, so that anything written back reproduces the
input. The non-blank lines are the *units* that get labels; blank lines are
layout and only feed features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np


def is_blank(text: str) -> bool:
    """A line is blank when it holds nothing but whitespace."""
    return not text.strip()


@dataclass(frozen=True)
class PageMeta:
    """Where a page came from, beyond its text: what readers record and
    writers and reports use (see :mod:`lineclf.io.pages`)."""

    #: The input format it was read from: "txt" (a dump), "jsonl" or "warc".
    format: str = "txt"
    #: The input it came from (a page record's file).
    source: str | None = None
    #: A page record's number in its input (JSON Lines line, WARC record).
    record: int | None = None
    #: A page record's id (its id field, or the WARC-Record-ID).
    id: Any = None
    #: A page record's URL (its url field, or the WARC-Target-URI).
    url: str | None = None
    #: A page record's fields without its text, id first: what its output passes through.
    fields: dict = field(default_factory=dict)
    #: The field that held, and in text output holds, a page record's text.
    text_field: str = "text"
    #: Bytes that were not UTF-8 and became U+FFFD (``encoding_errors="replace"``).
    replaced_bytes: int = 0
    first_replaced_byte: int | None = None


@dataclass(frozen=True, eq=False)
class Document:
    """One page dump.

    ``lines`` holds every line's text without its line end; ``line_ends`` the
    line end that followed it in the input (``"\\n"``, ``"\\r\\n"``, ``"\\r"``,
    or ``""`` for a last line without one). ``labels`` holds one label per
    unit (non-blank line) for labelled documents, else ``None``. ``site`` is
    the page's site (host) when known; it groups cross-validation folds and
    batch statistics. ``meta`` says where the page came from (:class:`PageMeta`).
    """

    name: str
    lines: tuple[str, ...]
    line_ends: tuple[str, ...]
    labels: tuple[str, ...] | None = None
    site: str | None = None
    meta: PageMeta = field(default_factory=PageMeta)

    def __post_init__(self) -> None:
        if len(self.lines) != len(self.line_ends):
            raise ValueError("lines and line_ends differ in length")
        if self.labels is not None and len(self.labels) != len(self.unit_index):
            raise ValueError(
                f"{self.name}: {len(self.labels)} labels for {len(self.unit_index)} non-blank lines"
            )

    @classmethod
    def from_lines(cls, lines, name: str = "<lines>", labels=None, site=None) -> "Document":
        """Build a document from line texts (each ending in ``\\n``)."""
        lines = tuple(lines)
        return cls(
            name=name,
            lines=lines,
            line_ends=("\n",) * len(lines),
            labels=None if labels is None else tuple(labels),
            site=site,
        )

    @cached_property
    def unit_index(self) -> np.ndarray:
        """Indices into ``lines`` of the non-blank lines, in order."""
        return np.flatnonzero([not is_blank(line) for line in self.lines]).astype(np.int64)

    @cached_property
    def units(self) -> list[str]:
        """The texts of the non-blank lines, in order."""
        return [self.lines[i] for i in self.unit_index]

    @cached_property
    def blank_before(self) -> np.ndarray:
        """For each unit, how many blank lines come right before it."""
        return _gap_lengths(self.unit_index, len(self.lines))[:-1]

    @cached_property
    def blank_after(self) -> np.ndarray:
        """For each unit, how many blank lines come right after it."""
        return _gap_lengths(self.unit_index, len(self.lines))[1:]

    @property
    def n_units(self) -> int:
        return len(self.unit_index)

    def with_labels(self, labels) -> "Document":
        """A copy of this document carrying ``labels`` (one per unit)."""
        return Document(
            name=self.name,
            lines=self.lines,
            line_ends=self.line_ends,
            labels=tuple(labels),
            site=self.site,
            meta=self.meta,
        )


def _gap_lengths(unit_index: np.ndarray, n_lines: int) -> np.ndarray:
    """Blank-line counts before the first unit, between units, and after the last."""
    bounds = np.concatenate(([-1], unit_index, [n_lines]))
    return np.diff(bounds) - 1


def document_groups(documents) -> list[str]:
    """Cross-validation groups: a document's site when known, else the document itself."""
    return [doc.site or doc.name for doc in documents]
