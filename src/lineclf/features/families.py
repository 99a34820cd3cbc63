"""The per-line feature families, each computed over a whole batch of pages.

Each family is a pure function of a :class:`_Batch` (the units of one or more
documents) that returns an ``(n_units, k)`` float array and its column names.
A document's rows never depend on the others in its batch: character
statistics are per line, no pattern matches across a line break, and page
values (stopword shares, positions, blocks, the densest run, repeats) are
taken per document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..document import Document
from .context import _run_positions, densest_run
from .cues import CUE_LISTS, STOPWORD_LANGUAGES, cue_phrases
from .text import (
    _DATE,
    _DIGIT,
    _LETTER,
    _LOWER,
    _PUNCT,
    _QUOTES,
    _SYMBOL,
    _TERMINAL,
    _TIME,
    _UPPER,
    _URL,
    _URL_NEEDS,
    _Chars,
    _codes,
)

#: A "long" line, for the densest-run features: at least this many words.
LONG_LINE_WORDS = 10
# lines from a section label ("Most read", "Mehr zum Thema") on count as under it
SECTION_REACH = 50


@dataclass(frozen=True)
class _Batch:
    """Documents' units joined into one text, and which lines are whose.

    Document ``d`` owns lines ``offsets[d]:offsets[d + 1]``; the per-line
    arrays below say, for each line, the same of its document.
    """

    documents: Sequence[Document]
    chars: _Chars
    offsets: np.ndarray

    @classmethod
    def of(cls, documents: Sequence[Document]) -> "_Batch":
        sizes = np.fromiter((doc.n_units for doc in documents), dtype=np.int64, count=len(documents))
        units = [unit for doc in documents for unit in doc.units]
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        document_end = np.zeros(len(units), dtype=bool)
        document_end[offsets[1:][sizes > 0] - 1] = True
        return cls(documents, _Chars.of(units, document_end), offsets)

    @property
    def n_lines(self) -> int:
        return int(self.offsets[-1])

    @cached_property
    def doc(self) -> np.ndarray:
        """Each line's document."""
        return np.repeat(np.arange(len(self.documents)), np.diff(self.offsets))

    @cached_property
    def first(self) -> np.ndarray:
        """Each line's document's first line."""
        return self.offsets[:-1][self.doc]

    @cached_property
    def last(self) -> np.ndarray:
        """Each line's document's last line."""
        return self.offsets[1:][self.doc] - 1

    @cached_property
    def index(self) -> np.ndarray:
        """Each line's index in its document."""
        return np.arange(self.n_lines) - self.first

    @cached_property
    def size(self) -> np.ndarray:
        """The number of lines of each line's document."""
        return self.last - self.first + 1

    def per_document(self, values: np.ndarray) -> np.ndarray:
        """Per-line values summed per document (exact for counts)."""
        return np.bincount(self.doc, weights=values, minlength=len(self.documents))

    @cached_property
    def first_char(self) -> np.ndarray:
        """Each line's document's first character in the joined text."""
        return self.chars.starts[self.first]

    @cached_property
    def last_char(self) -> np.ndarray:
        """Each line's document's last character in the joined text."""
        return self.chars.starts[self.last] + self.chars.lengths[self.last] - 1

    def blank(self, side: str) -> np.ndarray:
        """Blank lines right ``"before"`` or ``"after"`` each line."""
        parts = [getattr(doc, f"blank_{side}") for doc in self.documents]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


# --------------------------------------------------------------------------- feature families


def length_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """How long a line is: characters, words, mean word length."""
    chars = batch.chars
    words = chars.words
    alnum = chars.count("alnum")
    cols = [
        np.log1p(chars.lengths),
        np.log1p(words),
        alnum / np.maximum(words, 1),
        (words >= LONG_LINE_WORDS).astype(float),
        (words <= 3).astype(float),
    ]
    return np.column_stack(cols), ["log_chars", "log_words", "word_len", "long", "short"]


def punctuation_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """Punctuation, digits, capitals, title case, separators, first and last character."""
    chars = batch.chars
    count = chars.count
    n = np.maximum(chars.lengths, 1).astype(float)
    letters = count("letters")
    words = np.maximum(chars.words, 1)

    first, last = chars.first_visible, chars.last_visible
    # A line without a visible character (only a zero-width space, say) takes
    # its document's last character as its first and its first as its last:
    # positions stay inside the document, so a page's rows do not depend on
    # the pages batched with it.
    first_at = np.where(first < len(chars.codes), first, batch.last_char)
    last_at = np.where(last >= 0, last, batch.first_char)
    first_cp, last_cp = chars.codes[first_at], chars.codes[last_at]
    first_flags, last_flags = chars.flags_at(first_at), chars.flags_at(last_at)

    cols = {
        "punct_ratio": count("punct") / n,
        "symbol_ratio": count("symbol") / n,
        "digit_ratio": count("digit") / n,
        "upper_ratio": count("upper") / np.maximum(letters, 1),
        "letter_ratio": letters / n,
        "title_ratio": count("titled") / words,
        "lower_start_ratio": count("lowered") / words,
        "separators": np.log1p(count("separators")),
        "quotes": np.minimum(count("quotes"), 4),
        "parens": np.minimum(count("parens"), 4),
        "colons": np.minimum(count("colons"), 4),
        "commas": np.log1p(count("commas")),
        # a sentence end inside the line: terminal punctuation followed by a
        # space (or by the end of its document)
        "sentences": np.log1p(count("sentences")),
        "special": count("special").clip(0, 3),
        "ends_terminal": np.isin(last_cp, _codes(_TERMINAL)),
        "ends_period": last_cp == ord("."),
        "ends_colon": last_cp == ord(":"),
        "ends_ellipsis": (last_cp == ord("…")) | _ends_with_dots(chars, last, 3),
        "ends_quote": np.isin(last_cp, _codes(_QUOTES)),
        "ends_paren": last_cp == ord(")"),
        "ends_letter": (last_flags & _LETTER) > 0,
        "ends_digit": (last_flags & _DIGIT) > 0,
        "starts_upper": (first_flags & _UPPER) > 0,
        "starts_lower": (first_flags & _LOWER) > 0,
        "starts_digit": (first_flags & _DIGIT) > 0,
        "starts_symbol": (first_flags & (_PUNCT | _SYMBOL)) > 0,
        "starts_quote": np.isin(first_cp, _codes(_QUOTES)),
    }
    return np.column_stack([np.asarray(v, dtype=float) for v in cols.values()]), list(cols)


def _ends_with_dots(chars: _Chars, last: np.ndarray, count: int) -> np.ndarray:
    """Whether each line's visible text ends in ``count`` full stops ("...")."""
    result = last - (count - 1) >= chars.starts
    for back in range(count):
        result &= chars.codes[np.maximum(last - back, 0)] == ord(".")
    return result


def pattern_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """Dates, times, web addresses and the shipped cue lists."""
    chars = batch.chars
    cols = {
        "dates": chars.count_matches(_DATE, within=chars.digit_lines).clip(0, 3),
        "times": chars.count_matches(_TIME, within=chars.time_lines).clip(0, 3),
        "urls": chars.count_matches(_URL, within=chars.lines_with(_URL_NEEDS)).clip(0, 3),
    }
    # each list reads only the lines holding the key word of one of its cues
    for name in CUE_LISTS:
        lines, lengths = chars.find(cue_phrases(name), within=chars.cue_lines(name))
        covered = np.bincount(lines, weights=lengths, minlength=batch.n_lines)
        cols[f"cue_{name}"] = np.bincount(lines, minlength=batch.n_lines).clip(0, 3).astype(float)
        # share of the line's visible text that the cues cover ("Home", "Mehr zum Thema")
        cols[f"cue_{name}_share"] = covered / np.maximum(chars.lengths, 1)
    # how far below the last section label the line is: lists under one are teasers
    is_section = cols["cue_section_share"] > 0.5
    cols["since_section"] = np.log1p(_distance_back(is_section, batch.first, cap=SECTION_REACH))
    return np.column_stack(list(cols.values())), list(cols)


def language_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """Stopword density of the line (jusText's main cue for running text) and
    each language's stopword share on the whole page."""
    chars = batch.chars
    words = np.maximum(chars.words, 1)
    page_words = np.maximum(batch.per_document(chars.words), 1)
    line, bits = chars.token_stoplists

    def per_line(hits: np.ndarray) -> np.ndarray:
        return np.bincount(line[hits], minlength=batch.n_lines).astype(float)

    cols = {"stop_share": (per_line(bits > 0) / words).clip(0, 1)}
    for k, lang in enumerate(STOPWORD_LANGUAGES):
        share = batch.per_document(per_line((bits & (1 << k)) > 0)) / page_words
        cols[f"page_stop_{lang}"] = share[batch.doc]
    return np.column_stack(list(cols.values())), list(cols)


def repetition_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """The same line elsewhere in the dump, and nearby (title, snippet, title)."""
    # one id per distinct text, numbered as first met: the features below only
    # ask which lines share one. (Not np.unique of a StringDType array: its
    # default sort crashes the process on some batches of real pages under
    # numpy 2.4.6.)
    ids: dict[str, int] = {}
    units = batch.chars.units
    text_id = np.fromiter((ids.setdefault(u.strip().casefold(), len(ids)) for u in units), dtype=np.int64, count=len(units))
    # the same text in another document is another line
    line_key = batch.doc * max(len(units), 1) + text_id
    _, first_index, inverse, counts = np.unique(line_key, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    n = batch.n_lines
    index = np.arange(n)

    def same_as(offset: int) -> np.ndarray:
        other = index + offset
        ok = (other >= 0) & (other < n)
        out = np.zeros(n, dtype=float)
        out[ok] = inverse[ok] == inverse[other[ok]]
        return out

    cols = {
        "repeats": np.log1p(counts[inverse] - 1),
        "first_occurrence": (first_index[inverse] == index).astype(float),
        "repeat_near": np.maximum.reduce([same_as(k) for k in (-3, -2, 2, 3)]),
    }
    return np.column_stack(list(cols.values())), list(cols)


def position_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """Where the line is: in the dump, in its block, relative to the densest run of long lines."""
    chars = batch.chars
    n = batch.size
    index = batch.index.astype(float)
    before, after = batch.blank("before"), batch.blank("after")
    # a block starts after a blank line, and with its document
    block = np.cumsum((before > 0) | (batch.index == 0)) - 1
    block_size = np.bincount(block)[block]
    block_start = np.searchsorted(block, block, side="left") - batch.first
    cum_chars = np.cumsum(chars.lengths) - chars.lengths
    cum_chars = cum_chars - cum_chars[batch.first]
    doc_chars = np.maximum(batch.per_document(chars.lengths), 1)[batch.doc]

    is_long = chars.words >= LONG_LINE_WORDS
    start, end = _densest_runs(batch, is_long, chars.words.astype(float))
    is_long_f = is_long.astype(float)
    # title, snippet, title, snippet: long and short lines alternate in teaser lists
    alternation = np.abs(np.diff(is_long_f, prepend=is_long_f[:1]))
    alternation[batch.index == 0] = 0.0
    cols = {
        "rel_pos": index / np.maximum(n - 1, 1),
        "log_pos": np.log1p(index),
        "log_pos_from_end": np.log1p(n - 1 - index),
        "char_pos": cum_chars / doc_chars,
        "log_doc_units": np.log1p(n),
        "blank_before": np.minimum(before, 2).astype(float),
        "blank_after": np.minimum(after, 2).astype(float),
        "log_block_size": np.log1p(block_size),
        "pos_in_block": (index - block_start) / np.maximum(block_size - 1, 1),
        **dict(zip(("before_main", "after_main", "in_main"), _run_positions(batch.index, start, end).T)),
        "since_long": np.log1p(_distance_back(is_long, batch.first)),
        "until_long": np.log1p(_distance_ahead(is_long, batch.last)),
        "long_density": _window_mean(is_long_f, 3, batch),
        "long_alternation": _window_mean(alternation, 4, batch),
    }
    return np.column_stack(list(cols.values())), list(cols)


def _densest_runs(batch: _Batch, is_long: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each line, its document's :func:`densest_run` (indices in the document)."""
    starts = np.full(len(batch.documents), -1, dtype=np.int64)
    ends = starts.copy()
    # a few numpy calls per page with a long line: cheap beside the rest
    for d in np.flatnonzero(batch.per_document(is_long) > 0):
        a, b = batch.offsets[d], batch.offsets[d + 1]
        starts[d], ends[d] = densest_run(is_long[a:b], weight[a:b])
    return starts[batch.doc], ends[batch.doc]


def _distance_back(flags: np.ndarray, first: np.ndarray, cap: int = 50) -> np.ndarray:
    """For each line, the distance back to the nearest True at or before it in
    its document (whose first line is ``first``); ``cap`` at most, and when none."""
    index = np.arange(len(flags))
    last = np.maximum.accumulate(np.where(flags, index, -1))
    return np.minimum(np.where(last >= first, index - last, cap), cap).astype(float)


def _distance_ahead(flags: np.ndarray, last: np.ndarray, cap: int = 50) -> np.ndarray:
    """As :func:`_distance_back`, forward to the document's ``last`` line."""
    index = np.arange(len(flags))
    following = np.minimum.accumulate(np.where(flags, index, len(flags))[::-1])[::-1]
    return np.minimum(np.where(following <= last, following - index, cap), cap).astype(float)


def _window_mean(values: np.ndarray, radius: int, batch: _Batch) -> np.ndarray:
    """Mean of each line and the ``radius`` lines on either side in its
    document (zeros beyond its ends). The values are counts (0 or 1), so the
    sums are exact whatever the order they are taken in."""
    cum = np.concatenate(([0.0], np.cumsum(values)))
    index = np.arange(len(values))
    low = np.maximum(index - radius, batch.first)
    high = np.minimum(index + radius, batch.last)
    return (cum[high + 1] - cum[low]) / (2 * radius + 1)


