"""Per-line features, computed over a whole batch of documents at once.

Each feature family is a pure function of a :class:`_Batch` (the units of
one or more documents) that returns an ``(n_units, k)`` float array and its
column names. Character statistics are computed on the batch's code points as
one numpy array and summed per line with ``np.add.reduceat``; patterns and
cue words run as one regular expression pass over the batch's text. Nothing
loops over characters in Python, and a batch of hundreds of small pages costs
the numpy calls of one.

A document's features never depend on the others in its batch: character
statistics are per line, no pattern matches across a line break, page values
(stopword shares, positions, blocks, the densest run, repeats) are taken per
document, and neighbours (context) stop at the document's edges. So
:func:`batch_features` gives each document exactly the rows that
:func:`document_features` gives it alone (tests check this).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from itertools import repeat

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
#: Documents are featurised together up to this many characters at a time:
#: the per-character arrays take some tens of bytes per character.
BATCH_CHARS = 1_000_000
# stoplists shipped as resources/cues/stop-<language>.txt
STOPWORD_LANGUAGES = ("en", "de", "es", "fi")
# lines from a section label ("Most read", "Mehr zum Thema") on count as under it
SECTION_REACH = 50
# menus come in blocks: a line among recurring lines is chrome even when it changes
SITE_SHARE_RADIUS = 2
#: Columns of :func:`site_features`, which the model appends after the page's own.
SITE_FEATURE_NAMES = ("site_log_pages", "site_share", "site_share_near", "site_log_repeats")

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
# What every line with a date, time or web address holds. These start with a
# digit, '@', ':' or '.', so the regex engine skips to them at C speed, while
# the patterns above try a match at every position; run on only the lines
# these find, they give the same matches (see _Chars.find).
_DATE_NEEDS = re.compile(r"\d+")
_TIME_NEEDS = re.compile(r"\d:\d")
_URL_NEEDS = re.compile(r"@|://|\.(?:(?<=www\.)|com|org|net|de|at|ch|uk|be|it)", re.IGNORECASE)


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


# Characters that punctuation features count, as bit flags in a second lookup
# table (all in the Basic Multilingual Plane): one lookup instead of a pass
# over the text per character looked for.
_MARKED = {".!?": 1 << 0, _SEPARATORS: 1 << 1, _QUOTES: 1 << 2, "()[]": 1 << 3, "©@#+*": 1 << 4}
_SENTENCE_END, _SEPARATOR, _QUOTE, _PAREN, _SPECIAL = _MARKED.values()


@lru_cache(maxsize=1)
def _mark_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    for chars, bit in _MARKED.items():
        table[_codes(chars)] |= bit
    return table


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
    """Units joined by newlines, as code points, with line offsets."""

    units: Sequence[str]
    text: str
    codes: np.ndarray
    flags: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, units: Sequence[str]) -> "_Chars":
        text = "\n".join(units)
        # lines are told apart by the newlines that join them (see token_stoplists)
        if text.count("\n") != max(len(units) - 1, 0):
            raise ValueError("a line holds a line break ('\\n'): split the text into lines first (io.split_lines)")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        flags = np.where(codes < 0x10000, _char_table()[np.minimum(codes, 0xFFFF)], _SYMBOL).astype(np.uint8)
        lengths = _lengths(units)
        starts = _line_starts(lengths)
        if len(starts) > 1:
            flags[starts[1:] - 1] = 0  # the joining newlines belong to no line
        return cls(units, text, codes, flags, starts, lengths)

    @cached_property
    def marks(self) -> np.ndarray:
        """Each character's bits of _MARKED."""
        return np.where(self.codes < 0x10000, _mark_table()[np.minimum(self.codes, 0xFFFF)], 0).astype(np.uint8)

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
    def token_stoplists(self) -> tuple[np.ndarray, np.ndarray]:
        """Every maximal run of word characters (lower-cased): its line, and
        the stoplists it is in (bit k: STOPWORD_LANGUAGES[k])."""
        # one C-level pass; the joining newlines come along as tokens to count lines
        found = _TOKEN.findall(self.text.lower())
        bits = np.fromiter(map(_stopword_bits().get, found, repeat(0)), dtype=np.uint8, count=len(found))
        is_newline = bits == _NEWLINE_TOKEN
        return np.cumsum(is_newline)[~is_newline], bits[~is_newline]

    def lines_with(self, pattern: re.Pattern) -> np.ndarray:
        """The lines where ``pattern`` matches."""
        return np.unique(self.line_of(_match_starts(pattern, self.text)))

    def find(self, pattern: re.Pattern, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The line and the length of every match of ``pattern``.

        ``within``: lines that include every line where ``pattern`` matches
        (found by a cheaper pattern, :meth:`lines_with`). ``pattern`` then
        reads only those lines, joined by newlines, and finds the same
        matches: none spans a newline, and the newline before and after a line
        looks to ``\\b`` and lookarounds just like the start and end of the text.
        """
        if within is None:
            return self._find_in(self.text, self.starts, pattern, None)
        units = [self.units[i] for i in within]
        return self._find_in("\n".join(units), _line_starts(_lengths(units)), pattern, within)

    @staticmethod
    def _find_in(text: str, starts: np.ndarray, pattern: re.Pattern, lines: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        spans = np.array([m.span() for m in pattern.finditer(text)], dtype=np.int64).reshape(-1, 2)
        line = np.searchsorted(starts, spans[:, 0], side="right") - 1
        return (line if lines is None else lines[line]), spans[:, 1] - spans[:, 0]

    def count_matches(self, pattern: re.Pattern, within: np.ndarray | None = None) -> np.ndarray:
        line, _ = self.find(pattern, within)
        return np.bincount(line, minlength=len(self.starts)).astype(float)


def _lengths(units: Sequence[str]) -> np.ndarray:
    return np.fromiter((len(u) for u in units), dtype=np.int64, count=len(units))


def _line_starts(lengths: np.ndarray) -> np.ndarray:
    """Where each line starts in its lines joined by newlines."""
    return np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)


def _match_starts(pattern: re.Pattern, text: str) -> np.ndarray:
    return np.fromiter((m.start() for m in pattern.finditer(text)), dtype=np.int64)


# marks the joining newlines among the tokens (no stoplist bit is this high)
_NEWLINE_TOKEN = 1 << 7


@lru_cache(maxsize=1)
def _stopword_bits() -> dict[str, int]:
    """Each stopword's stoplists as bits (bit k: STOPWORD_LANGUAGES[k])."""
    bits: dict[str, int] = {"\n": _NEWLINE_TOKEN}
    for k, lang in enumerate(STOPWORD_LANGUAGES):
        for word in load_cues(f"stop-{lang}"):
            bits[word] = bits.get(word, 0) | (1 << k)
    return bits


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
        return cls(documents, _Chars.of(units), np.concatenate(([0], np.cumsum(sizes))).astype(np.int64))

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
    alnum = chars.per_line((chars.flags & (_LETTER | _DIGIT)) > 0)
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
    # A line without a visible character (only a zero-width space, say) takes
    # its document's last character as its first and its first as its last,
    # as it always has: a document alone clamped the positions to its text.
    first_at = np.where(first < len(f), first, batch.last_char)
    last_at = np.where(last >= 0, last, batch.first_char)
    first_cp, last_cp = chars.codes[first_at], chars.codes[last_at]
    first_flags, last_flags = f[first_at], f[last_at]
    # a sentence end inside the line: terminal punctuation followed by a space
    # (or by the end of its document)
    marks = chars.marks
    term = (marks & _SENTENCE_END) > 0
    next_space = np.concatenate((space[1:], [True]))
    next_space[batch.last_char] = True
    sentences = chars.per_line(term & next_space)

    cols = {
        "punct_ratio": chars.per_line((f & _PUNCT) > 0) / n,
        "symbol_ratio": chars.per_line((f & _SYMBOL) > 0) / n,
        "digit_ratio": chars.per_line((f & _DIGIT) > 0) / n,
        "upper_ratio": chars.per_line((f & _UPPER) > 0) / np.maximum(letters, 1),
        "letter_ratio": letters / n,
        "title_ratio": titled / words,
        "lower_start_ratio": lowered / words,
        "separators": np.log1p(chars.per_line((marks & _SEPARATOR) > 0)),
        "quotes": np.minimum(chars.per_line((marks & _QUOTE) > 0), 4),
        "parens": np.minimum(chars.per_line((marks & _PAREN) > 0), 4),
        "colons": np.minimum(chars.per_line(chars.codes == ord(":")), 4),
        "commas": np.log1p(chars.per_line(chars.codes == ord(","))),
        "sentences": np.log1p(sentences),
        "special": chars.per_line((marks & _SPECIAL) > 0).clip(0, 3),
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
        "dates": chars.count_matches(_DATE, within=chars.lines_with(_DATE_NEEDS)).clip(0, 3),
        "times": chars.count_matches(_TIME, within=chars.lines_with(_TIME_NEEDS)).clip(0, 3),
        "urls": chars.count_matches(_URL, within=chars.lines_with(_URL_NEEDS)).clip(0, 3),
    }
    # A line with a cue of one list has a match of all lists' cues together
    # (at the cue, or at one that overlaps it): one pass over the text finds
    # those lines, and each list reads only them.
    cue_lines = chars.lines_with(_cue_pattern(*CUE_LISTS))
    for name in CUE_LISTS:
        lines, lengths = chars.find(_cue_pattern(name), within=cue_lines)
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
    keys = np.array([u.strip().casefold() for u in batch.chars.units], dtype=np.dtypes.StringDType())
    # the same text in another document is another line
    text_id = np.unique(keys, return_inverse=True)[1].reshape(-1).astype(np.int64)
    line_key = batch.doc * max(len(keys), 1) + text_id
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


def _densest_runs(batch: _Batch, is_long: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each line, its document's :func:`densest_run` (indices in the document)."""
    starts = np.full(len(batch.documents), -1, dtype=np.int64)
    ends = starts.copy()
    # a few numpy calls per page with a long line: cheap beside the rest
    for d in np.flatnonzero(batch.per_document(is_long) > 0):
        a, b = batch.offsets[d], batch.offsets[d + 1]
        starts[d], ends[d] = densest_run(is_long[a:b], weight[a:b])
    return starts[batch.doc], ends[batch.doc]


def run_position(n: int, start: int, end: int) -> np.ndarray:
    """For each of ``n`` lines: log distance before the run, log distance after
    it, and whether it lies inside (all zero when there is no run)."""
    return _run_positions(np.arange(n), np.full(n, start), np.full(n, end))


def _run_positions(index: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """:func:`run_position` of lines at ``index``, each with its own run."""
    has_run = start >= 0
    return np.column_stack(
        [
            np.where(has_run, np.log1p(np.maximum(start - index, 0)), 0.0),
            np.where(has_run, np.log1p(np.maximum(index - end, 0)), 0.0),
            (has_run & (index >= start) & (index <= end)).astype(float),
        ]
    )


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


def shift(values: np.ndarray, offset: int, doc: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``values`` moved by ``offset`` (row i gets row i+offset), zero-filled;
    with ``doc`` (each row's document), only rows of the same document move."""
    if doc is not None:
        index = np.arange(len(values))
        other = index + offset
        ok = (other >= 0) & (other < len(values))
        ok[ok] = doc[other[ok]] == doc[ok]
        out = np.zeros_like(values)
        out[ok] = values[other[ok]]
        return out
    out = np.zeros_like(values)
    n = len(values)
    if offset > 0:
        out[: max(n - offset, 0)] = values[offset:]
    elif offset < 0:
        out[-offset:] = values[: max(n + offset, 0)]
    else:
        out[:] = values
    return out


def with_context(
    values: np.ndarray, names: Sequence[str], offsets: Sequence[int], doc: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    """Append the rows of neighbours at ``offsets``, plus whether each neighbour
    exists; with ``doc`` (each row's document), neighbours are of the same document."""
    n = len(values)
    exists = np.ones((n, 1))
    blocks, out_names = [values], list(names)
    for offset in offsets:
        blocks.append(shift(values, offset, doc))
        blocks.append(shift(exists, offset, doc))
        out_names += [f"{name}@{offset:+d}" for name in names] + [f"exists@{offset:+d}"]
    return np.hstack(blocks), out_names


LINE_FAMILIES: tuple[Callable, ...] = (
    length_features,
    punctuation_features,
    pattern_features,
    language_features,
    position_features,
    repetition_features,
)


def _batch_line_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    if batch.n_lines == 0:
        return np.zeros((0, len(feature_names(()))), dtype=float), feature_names(())
    arrays, names = [], []
    for family in LINE_FAMILIES:
        values, cols = family(batch)
        arrays.append(values)
        names += cols
    return np.hstack(arrays).astype(np.float32), names


def line_features(doc: Document) -> tuple[np.ndarray, list[str]]:
    """All feature families of a document's own lines, without context."""
    return _batch_line_features(_Batch.of([doc]))


def document_features(doc: Document, context: Sequence[int] = DEFAULT_CONTEXT) -> np.ndarray:
    """Each line's features followed by those of its neighbours at ``context`` offsets."""
    values, names = line_features(doc)
    return with_context(values, names, context)[0]


def batch_features(documents: Sequence[Document], context: Sequence[int] = DEFAULT_CONTEXT) -> np.ndarray:
    """:func:`document_features` of each document, stacked (the same rows,
    computed together, BATCH_CHARS characters at a time)."""
    documents = list(documents)
    parts = [_stacked_features(documents[a:b], context) for a, b in _slices(documents)]
    return np.vstack(parts) if parts else np.zeros((0, len(feature_names(context))))


def _slices(documents: Sequence[Document]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of documents of at most BATCH_CHARS characters (or one document)."""
    start, chars = 0, 0
    for end, doc in enumerate(documents):
        size = sum(map(len, doc.units))
        if end > start and chars + size > BATCH_CHARS:
            yield start, end
            start, chars = end, 0
        chars += size
    if start < len(documents):
        yield start, len(documents)


def _stacked_features(documents: Sequence[Document], context: Sequence[int]) -> np.ndarray:
    batch = _Batch.of(documents)
    values, names = _batch_line_features(batch)
    stacked = with_context(values, names, context, batch.doc)[0]
    if any(doc.n_units == 0 for doc in batch.documents):
        # as stacking each document's rows did: an empty document's (float64)
        # rows made all float64, which matters only without context (float32)
        stacked = stacked.astype(np.float64, copy=False)
    return stacked


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


def window_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean of each row of one document's ``values`` and the ``radius`` rows
    on either side (zeros beyond the ends)."""
    pad = [(radius, radius)] + [(0, 0)] * (values.ndim - 1)
    cum = np.concatenate((np.zeros((1,) + values.shape[1:]), np.cumsum(np.pad(values, pad), axis=0)))
    return (cum[2 * radius + 1 :] - cum[: -2 * radius - 1]) / (2 * radius + 1)


def site_features(doc: Document, site_pages: int, line_counts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Repetition across the batch: how many pages of the page's site the batch
    holds, and on what share of the site's other pages each line (and the lines
    around it) recurs. A page labelled alone has no other pages: every share is 0."""
    pages = max(int(site_pages), 1)
    share = ((np.asarray(line_counts, dtype=float) - 1) / max(pages - 1, 1)).clip(0, 1)
    cols = [
        np.full(doc.n_units, np.log(pages)),
        share,
        window_mean(share, SITE_SHARE_RADIUS),
        np.log1p(np.maximum(np.asarray(line_counts, dtype=float) - 1, 0)),
    ]
    return np.column_stack(cols), list(SITE_FEATURE_NAMES)
