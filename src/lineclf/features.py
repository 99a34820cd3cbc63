"""Per-line features, computed over a whole document at once.

Each feature family is a pure function of a :class:`Document` that returns a
``(n_units, k)`` float array and its column names. Character statistics are
computed on the document's code points as one numpy array and summed per
line with ``np.add.reduceat``; patterns and cue words run as one regular
expression pass over the document's text. Nothing loops over characters in
Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np

from .document import Document

#: Neighbour offsets whose features are appended to each line's own.
DEFAULT_CONTEXT = (-2, -1, 1, 2)
#: A "long" line, for the densest-run features: at least this many words ...
LONG_LINE_WORDS = 10
#: ... and what a short line costs when searching the densest run of long lines.
SHORT_LINE_PENALTY = 4.0
#: Cue lists shipped as package data (resources/cues/<name>.txt).
CUE_LISTS = ("chrome", "caption", "section")
# stoplists shipped as resources/cues/stop-<language>.txt
STOPWORD_LANGUAGES = ("en", "de", "es", "fi")
# lines from a section label ("Most read", "Mehr zum Thema") on count as under it
SECTION_REACH = 50
# menus come in blocks: a line among recurring lines is chrome even when it changes
SITE_SHARE_RADIUS = 2

# Character classes, as bit flags in a lookup table over the Basic Multilingual Plane.
_LETTER, _UPPER, _LOWER, _DIGIT, _SPACE, _PUNCT, _SYMBOL = (1 << k for k in range(7))
_TERMINAL = ".!?…"
_QUOTES = "\"'“”„«»‘’‚‹›"
_SEPARATORS = "|•·›»/>\\–—"

# Patterns run over a whole document joined by newlines: their spaces must not
# match a newline, or a match would span two lines.
_SP = r"[^\S\n]"
_DATE = re.compile(
    (
        r"\b\d{1,2}\._?\d{1,2}\._?(?:\d{2}|\d{4})\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
        r"|\b(?:jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:ar(?:ch)?|ärz)|apr(?:il)?|ma[iy]|june?|juni|july?|juli"
        r"|aug(?:ust)?|sep(?:t(?:ember)?)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?)\.?_+\d{1,4}\b"
        r"|\b\d{1,2}\.?_+(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?_+\d{4}\b"
    ).replace("_", _SP),
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+|\n")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|de|at|ch|uk|be|it)\b|\S+@\S+\.\w+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _char_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        flags = 0
        if cat[0] == "L":
            flags |= _LETTER
            if cat == "Lu" or cat == "Lt":
                flags |= _UPPER
            elif cat == "Ll":
                flags |= _LOWER
        elif cat[0] == "N":
            flags |= _DIGIT
        elif cat[0] == "Z" or ch in "\t\n\r\x0b\x0c":
            flags |= _SPACE
        elif cat[0] == "P":
            flags |= _PUNCT
        elif cat[0] == "S":
            flags |= _SYMBOL
        table[cp] = flags
    return table


def _codes(chars: str) -> np.ndarray:
    return np.array([ord(c) for c in chars], dtype=np.uint32)


@lru_cache(maxsize=None)
def load_cues(name: str) -> tuple[str, ...]:
    """The cue phrases of one shipped list (lower-case, comments removed)."""
    text = resources.files("lineclf").joinpath("resources", "cues", f"{name}.txt").read_text("utf-8")
    cues = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return tuple(sorted({cue for cue in cues if cue}))


@lru_cache(maxsize=None)
def _cue_pattern(*names: str) -> re.Pattern:
    """One pattern for the cues of all ``names`` (longest first, whole words)."""
    cues = {cue for name in names for cue in load_cues(name)}
    return re.compile(r"(?<!\w)" + _trie_regex(sorted(cues)) + r"(?!\w)", re.IGNORECASE)


def _trie_regex(phrases: Sequence[str]) -> str:
    """A regex matching exactly ``phrases``, written as a prefix tree: Python's
    ``re`` tries the alternatives of a flat list one by one at every position,
    while a tree fails at the first character that no phrase continues with.
    A space in a phrase matches any run of spaces."""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here

    def render(node: dict) -> str:
        ends = "" in node
        branches = [(_SP + "+" if char == " " else re.escape(char)) + render(child) for char, child in node.items() if char]
        if not branches:
            return ""
        if len(branches) == 1 and not ends:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")

    return render(trie) or "(?!)"


@dataclass(frozen=True)
class _Chars:
    """A document's units joined by newlines, as code points, with line offsets."""

    text: str
    codes: np.ndarray
    flags: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, units: Sequence[str]) -> "_Chars":
        text = "\n".join(units)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        flags = np.where(codes < 0x10000, _char_table()[np.minimum(codes, 0xFFFF)], _SYMBOL).astype(np.uint8)
        lengths = np.fromiter((len(u) for u in units), dtype=np.int64, count=len(units))
        starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
        if len(starts) > 1:
            flags[starts[1:] - 1] = 0  # the joining newlines belong to no line
        return cls(text, codes, flags, starts, lengths)

    @cached_property
    def visible(self) -> np.ndarray:
        """Characters that are neither whitespace nor the joining newlines."""
        return (self.flags > 0) & ((self.flags & _SPACE) == 0)

    @cached_property
    def word_starts(self) -> np.ndarray:
        """Visible characters that follow whitespace or start a line."""
        return self.visible & np.concatenate(([True], ~self.visible[:-1]))

    @cached_property
    def words(self) -> np.ndarray:
        """Whitespace-separated words per line."""
        return self.per_line(self.word_starts)

    def per_line(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values.astype(np.int64), self.starts)

    def line_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, positions, side="right") - 1

    @cached_property
    def tokens(self) -> tuple[list[str], np.ndarray]:
        """Every maximal run of word characters, lower-cased, and its line."""
        # one C-level pass; the joining newlines come along as tokens to count lines
        found = _TOKEN.findall(self.text.lower())
        is_newline = np.fromiter((t == "\n" for t in found), dtype=bool, count=len(found))
        line = np.cumsum(is_newline)[~is_newline]
        return [t for t in found if t != "\n"], line

    def count_words_in(self, words: frozenset[str]) -> np.ndarray:
        """Per line, how many of its tokens are in ``words`` (lower-case)."""
        tokens, line = self.tokens
        hits = np.fromiter((t in words for t in tokens), dtype=bool, count=len(tokens))
        return np.bincount(line[hits], minlength=len(self.starts)).astype(float)

    def count_matches(self, pattern: re.Pattern) -> np.ndarray:
        positions = np.fromiter((m.start() for m in pattern.finditer(self.text)), dtype=np.int64)
        return np.bincount(self.line_of(positions), minlength=len(self.starts)).astype(float)


# --------------------------------------------------------------------------- feature families


def length_features(doc: Document, chars: _Chars) -> tuple[np.ndarray, list[str]]:
    """How long a line is: characters, words, mean word length."""
    words = chars.words
    alnum = chars.per_line((chars.flags & (_LETTER | _DIGIT)) > 0)
    cols = [
        np.log1p(chars.lengths),
        np.log1p(words),
        alnum / np.maximum(words, 1),
        (words >= LONG_LINE_WORDS).astype(float),
        (words <= 3).astype(float),
    ]
    return np.column_stack(cols), ["log_chars", "log_words", "word_len", "long", "short"]


def punctuation_features(doc: Document, chars: _Chars) -> tuple[np.ndarray, list[str]]:
    """Punctuation, digits, capitals, title case, separators, first and last character."""
    f = chars.flags
    n = np.maximum(chars.lengths, 1).astype(float)
    letters = chars.per_line((f & _LETTER) > 0)
    space = (f & _SPACE) > 0
    visible, word_start = chars.visible, chars.word_starts
    words = np.maximum(chars.words, 1)
    titled = chars.per_line(word_start & ((f & _UPPER) > 0))
    lowered = chars.per_line(word_start & ((f & _LOWER) > 0))

    positions = np.arange(len(f))
    first = np.minimum.reduceat(np.where(visible, positions, len(f)), chars.starts)
    last = np.maximum.reduceat(np.where(visible, positions, -1), chars.starts)
    first_cp = chars.codes[np.minimum(first, len(f) - 1)]
    last_cp = chars.codes[np.maximum(last, 0)]
    first_flags, last_flags = f[np.minimum(first, len(f) - 1)], f[np.maximum(last, 0)]
    # a sentence end inside the line: terminal punctuation followed by a space
    term = np.isin(chars.codes, _codes(".!?"))
    next_space = np.concatenate((space[1:], [True]))
    sentences = chars.per_line(term & next_space)

    cols = {
        "punct_ratio": chars.per_line((f & _PUNCT) > 0) / n,
        "symbol_ratio": chars.per_line((f & _SYMBOL) > 0) / n,
        "digit_ratio": chars.per_line((f & _DIGIT) > 0) / n,
        "upper_ratio": chars.per_line((f & _UPPER) > 0) / np.maximum(letters, 1),
        "letter_ratio": letters / n,
        "title_ratio": titled / words,
        "lower_start_ratio": lowered / words,
        "separators": np.log1p(chars.per_line(np.isin(chars.codes, _codes(_SEPARATORS)))),
        "quotes": np.minimum(chars.per_line(np.isin(chars.codes, _codes(_QUOTES))), 4),
        "parens": np.minimum(chars.per_line(np.isin(chars.codes, _codes("()[]"))), 4),
        "colons": np.minimum(chars.per_line(chars.codes == ord(":")), 4),
        "commas": np.log1p(chars.per_line(chars.codes == ord(","))),
        "sentences": np.log1p(sentences),
        "special": chars.per_line(np.isin(chars.codes, _codes("©@#+*"))).clip(0, 3),
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


def pattern_features(doc: Document, chars: _Chars) -> tuple[np.ndarray, list[str]]:
    """Dates, times, web addresses and the shipped cue lists."""
    cols = {
        "dates": chars.count_matches(_DATE).clip(0, 3),
        "times": chars.count_matches(_TIME).clip(0, 3),
        "urls": chars.count_matches(_URL).clip(0, 3),
    }
    for name in CUE_LISTS:
        pattern = _cue_pattern(name)
        hits = list(pattern.finditer(chars.text))
        starts = np.fromiter((m.start() for m in hits), dtype=np.int64, count=len(hits))
        ends = np.fromiter((m.end() for m in hits), dtype=np.int64, count=len(hits))
        lines = chars.line_of(starts)
        covered = np.bincount(lines, weights=ends - starts, minlength=doc.n_units)
        cols[f"cue_{name}"] = np.bincount(lines, minlength=doc.n_units).clip(0, 3).astype(float)
        # share of the line's visible text that the cues cover ("Home", "Mehr zum Thema")
        cols[f"cue_{name}_share"] = covered / np.maximum(chars.lengths, 1)
    # how far below the last section label the line is: lists under one are teasers
    is_section = cols["cue_section_share"] > 0.5
    cols["since_section"] = np.log1p(_distance_to_previous(is_section, cap=SECTION_REACH))
    return np.column_stack(list(cols.values())), list(cols)


def language_features(doc: Document, chars: _Chars) -> tuple[np.ndarray, list[str]]:
    """Stopword density of the line (jusText's main cue for running text) and
    each language's stopword share on the whole page."""
    words = np.maximum(chars.words, 1)
    page_words = max(int(chars.words.sum()), 1)
    stoplists = {lang: frozenset(load_cues(f"stop-{lang}")) for lang in STOPWORD_LANGUAGES}
    cols = {"stop_share": (chars.count_words_in(frozenset().union(*stoplists.values())) / words).clip(0, 1)}
    for lang, stoplist in stoplists.items():
        share = chars.count_words_in(stoplist).sum() / page_words
        cols[f"page_stop_{lang}"] = np.full(doc.n_units, share)
    return np.column_stack(list(cols.values())), list(cols)


def repetition_features(doc: Document) -> tuple[np.ndarray, list[str]]:
    """The same line elsewhere in the dump, and nearby (title, snippet, title)."""
    keys = np.array([u.strip().casefold() for u in doc.units], dtype=np.dtypes.StringDType())
    _, first_index, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    n = doc.n_units
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


def position_features(doc: Document, chars: _Chars) -> tuple[np.ndarray, list[str]]:
    """Where the line is: in the dump, in its block, relative to the densest run of long lines."""
    n = doc.n_units
    index = np.arange(n, dtype=float)
    before, after = doc.blank_before, doc.blank_after
    block = np.cumsum(before > 0)
    block = block - block[0] if n else block
    block_size = np.bincount(block)[block]
    block_start = np.searchsorted(block, block, side="left")
    cum_chars = np.cumsum(chars.lengths) - chars.lengths

    is_long = chars.words >= LONG_LINE_WORDS
    start, end = densest_run(is_long, chars.words.astype(float))
    cols = {
        "rel_pos": index / max(n - 1, 1),
        "log_pos": np.log1p(index),
        "log_pos_from_end": np.log1p(n - 1 - index),
        "char_pos": cum_chars / max(int(chars.lengths.sum()), 1),
        "log_doc_units": np.full(n, np.log1p(n)),
        "blank_before": np.minimum(before, 2).astype(float),
        "blank_after": np.minimum(after, 2).astype(float),
        "log_block_size": np.log1p(block_size),
        "pos_in_block": (index - block_start) / np.maximum(block_size - 1, 1),
        **dict(zip(("before_main", "after_main", "in_main"), run_position(n, start, end).T)),
        "since_long": np.log1p(_distance_to_previous(is_long)),
        "until_long": np.log1p(_distance_to_previous(is_long[::-1])[::-1]),
        "long_density": window_mean(is_long.astype(float), 3),
        # title, snippet, title, snippet: long and short lines alternate in teaser lists
        "long_alternation": window_mean(np.abs(np.diff(is_long.astype(float), prepend=float(is_long[0]))), 4),
    }
    return np.column_stack(list(cols.values())), list(cols)


def densest_run(is_long: np.ndarray, weight: np.ndarray, penalty: float = SHORT_LINE_PENALTY) -> tuple[int, int]:
    """First and last index of the run of lines richest in long lines
    (maximum-sum subarray: long lines are worth ``weight``, the others cost
    ``penalty``); ``(-1, -1)`` when there is no long line."""
    if not is_long.any():
        return -1, -1
    value = np.where(is_long, weight, -penalty)
    cum = np.concatenate(([0.0], np.cumsum(value)))
    lowest_before = np.minimum.accumulate(cum[:-1])
    end = int(np.argmax(cum[1:] - lowest_before))
    start = int(np.argmin(cum[: end + 1]))
    return start, end


def run_position(n: int, start: int, end: int) -> np.ndarray:
    """For each of ``n`` lines: log distance before the run, log distance after
    it, and whether it lies inside (all zero when there is no run)."""
    if start < 0:
        return np.zeros((n, 3))
    index = np.arange(n)
    return np.column_stack(
        [
            np.log1p(np.maximum(start - index, 0)),
            np.log1p(np.maximum(index - end, 0)),
            ((index >= start) & (index <= end)).astype(float),
        ]
    )


def _distance_to_previous(flags: np.ndarray, cap: int = 50) -> np.ndarray:
    """For each position, the distance back to the nearest True (cap when none)."""
    index = np.arange(len(flags))
    last = np.maximum.accumulate(np.where(flags, index, -cap - 1))
    return np.minimum(index - last, cap).astype(float)


def window_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean of each row and the ``radius`` rows on either side (zeros beyond the ends)."""
    pad = [(radius, radius)] + [(0, 0)] * (values.ndim - 1)
    cum = np.concatenate((np.zeros((1,) + values.shape[1:]), np.cumsum(np.pad(values, pad), axis=0)))
    return (cum[2 * radius + 1 :] - cum[: -2 * radius - 1]) / (2 * radius + 1)


def shift(values: np.ndarray, offset: int) -> np.ndarray:
    """Rows of ``values`` moved by ``offset`` (row i gets row i+offset), zero-filled."""
    out = np.zeros_like(values)
    n = len(values)
    if offset > 0:
        out[: max(n - offset, 0)] = values[offset:]
    elif offset < 0:
        out[-offset:] = values[: max(n + offset, 0)]
    else:
        out[:] = values
    return out


def with_context(values: np.ndarray, names: Sequence[str], offsets: Sequence[int]) -> tuple[np.ndarray, list[str]]:
    """Append the rows of neighbours at ``offsets``, plus whether each neighbour exists."""
    n = len(values)
    exists = np.ones((n, 1))
    blocks, out_names = [values], list(names)
    for offset in offsets:
        blocks.append(shift(values, offset))
        blocks.append(shift(exists, offset))
        out_names += [f"{name}@{offset:+d}" for name in names] + [f"exists@{offset:+d}"]
    return np.hstack(blocks), out_names


LINE_FAMILIES: tuple[Callable, ...] = (length_features, punctuation_features, pattern_features, language_features, position_features)


def line_features(doc: Document) -> tuple[np.ndarray, list[str]]:
    """All feature families of a document's own lines, without context."""
    if doc.n_units == 0:
        return np.zeros((0, len(feature_names(()))), dtype=float), feature_names(())
    chars = _Chars.of(doc.units)
    arrays, names = [], []
    for family in LINE_FAMILIES:
        values, cols = family(doc, chars)
        arrays.append(values)
        names += cols
    values, cols = repetition_features(doc)
    arrays.append(values)
    names += cols
    return np.hstack(arrays).astype(np.float32), names


def document_features(doc: Document, context: Sequence[int] = DEFAULT_CONTEXT) -> np.ndarray:
    """Each line's features followed by those of its neighbours at ``context`` offsets."""
    values, names = line_features(doc)
    return with_context(values, names, context)[0]


@lru_cache(maxsize=None)
def _base_names() -> tuple[str, ...]:
    return tuple(line_features(Document.from_lines(["A line."]))[1])


def feature_names(context: Sequence[int] = DEFAULT_CONTEXT) -> list[str]:
    """Column names of :func:`document_features` for the given context."""
    names = list(_base_names())
    if not context:
        return names
    dummy = np.zeros((1, len(names)))
    return with_context(dummy, names, context)[1]


def site_features(doc: Document, site_pages: int, line_counts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Repetition across the batch: how many pages of the page's site the batch
    holds, and on what share of the site's other pages each line (and the lines
    around it) recurs. A page labelled alone has no other pages: every share is 0."""
    pages = max(int(site_pages), 1)
    share = ((np.asarray(line_counts, dtype=float) - 1) / max(pages - 1, 1)).clip(0, 1)
    cols = {
        "site_log_pages": np.full(doc.n_units, np.log(pages)),
        "site_share": share,
        "site_share_near": window_mean(share, SITE_SHARE_RADIUS),
        "site_log_repeats": np.log1p(np.maximum(np.asarray(line_counts, dtype=float) - 1, 0)),
    }
    return np.column_stack(list(cols.values())), list(cols)
