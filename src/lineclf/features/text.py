"""The text engine under the line features: a batch's lines joined into one
text, its characters classified through lookup tables, and its patterns and
cue lists run as single regular-expression passes.

Nothing here loops over characters in Python: the character statistics of
every line are counted in one C pass over the batch's code points
(``lineclf._native.line_counts``, with the lookup tables built here).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .._native import (
    CHAR_DIGIT,
    CHAR_LETTER,
    CHAR_LOWER,
    CHAR_PUNCT,
    CHAR_SPACE,
    CHAR_SYMBOL,
    CHAR_UPPER,
    LINE_COUNT_COLUMNS,
    MARK_CODE,
    MARK_PAREN,
    MARK_QUOTE,
    MARK_SENTENCE_END,
    MARK_SEPARATOR,
    MARK_SPECIAL,
    line_counts,
    word_bits,
)
from .cues import _STOPLIST_BITS, _case_risk_table, _cue_token_bit, _CuePhrases, _token_table

# Character classes, as bit flags in a lookup table over the Basic Multilingual
# Plane (the bits the C pass reads; beyond the table a character is a symbol).
_LETTER, _UPPER, _LOWER, _DIGIT = CHAR_LETTER, CHAR_UPPER, CHAR_LOWER, CHAR_DIGIT
_SPACE, _PUNCT, _SYMBOL = CHAR_SPACE, CHAR_PUNCT, CHAR_SYMBOL
_TERMINAL = ".!?…"
_QUOTES = "\"'“”„«»‘’‚‹›"
_SEPARATORS = "|•·›»/>\\–—"

# Patterns run over a whole document joined by newlines: their spaces must not
# match a newline, or a match would span two lines.
_SP = r"[^\S\n]"


@dataclass(frozen=True)
class _SplitPattern:
    """One regular expression's matches, found faster in two parts.

    ``led``: its alternatives that start with a digit, written to start
    with ``\\d`` (``\\b\\d`` as ``\\d(?<!\\w\\d)``), so that the regex engine
    skips from digit to digit in C instead of trying every position; or None.
    ``keyed``: the others, each match of which holds one of the words of
    ``key`` (a name of cues.PATTERN_KEY_WORDS) as a whole word: they are
    read only on the lines with one (:meth:`_Chars.cue_lines`).

    Where both are read, :meth:`spans` merges their matches as the one
    regular expression's ``finditer`` finds them: the leftmost first, the
    next from where it ends. No two start at one place (a digit matches no letter).
    """

    led: re.Pattern | None
    keyed: re.Pattern
    key: str

    def spans(self, text: str) -> np.ndarray:
        """The matches in ``text``, left to right: an ``(n, 2)`` array of start and end."""
        out = []
        searches = [p for p in (self.led, self.keyed) if p is not None]
        found = [p.search(text) for p in searches]
        while any(m is not None for m in found):
            first = min((m for m in found if m is not None), key=lambda m: m.start())
            out.append(first.span())
            end = first.end()  # every alternative consumes a character: no empty match
            found = [p.search(text, end) if m is not None and m.start() < end else m for p, m in zip(searches, found)]
        return np.array(out, dtype=np.int64).reshape(-1, 2)


_MONTHS = (
    r"jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:ar(?:ch)?|ärz)|apr(?:il)?|ma[iy]|june?|juni|july?|juli"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?"
)
#: Dates: "12.03.2024", "2024-03-12", "3/12/24", "March 12", "12. März 2024".
#: As one regular expression (under re.IGNORECASE, "_" a space other than a
#: line break), each alternative starting with ``\b``:
#:     \d{1,2}\._?\d{1,2}\._?(?:\d{2}|\d{4})\b | \d{4}-\d{2}-\d{2}\b | \d{1,2}/\d{1,2}/\d{2,4}\b
#:     | (?:<a month of _MONTHS>)\.?_+\d{1,4}\b
#:     | \d{1,2}\.?_+(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?_+\d{4}\b
#: which is what the tests compare with. The month's alternative ends where
#: its name does, at a word's end: its key words are the names.
_DATE = _SplitPattern(
    led=re.compile(
        (
            r"\d(?<!\w\d)(?:\d?\._?\d{1,2}\._?(?:\d{2}|\d{4})\b|\d{3}-\d{2}-\d{2}\b|\d?/\d{1,2}/\d{2,4}\b"
            r"|\d?\.?_+(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?_+\d{4}\b)"
        ).replace("_", _SP),
        re.IGNORECASE,
    ),
    keyed=re.compile((r"\b(?:" + _MONTHS + r")\.?_+\d{1,4}\b").replace("_", _SP), re.IGNORECASE),
    key="month",
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|de|at|ch|uk|be|it)\b|\S+@\S+\.\w+", re.IGNORECASE)
# What every line with a web address holds (a date holds a digit:
# _Chars.digit_lines; a time a digit and a colon: _Chars.time_lines). This
# starts with '@', ':' or '.', so the regex engine skips to them at C speed,
# while the patterns above try a match at every position; run on only the
# lines it finds, they give the same matches (see _Chars.find).
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
# (the code marks: what every line that looks like code holds, with "::" and
# "//": see _Chars.code_lines)
_MARKED = {
    ".!?": MARK_SENTENCE_END, _SEPARATORS: MARK_SEPARATOR, _QUOTES: MARK_QUOTE, "()[]": MARK_PAREN,
    "©@#+*": MARK_SPECIAL, "{};=<$#>": MARK_CODE,
}  # fmt: skip
_SENTENCE_END, _SEPARATOR, _QUOTE, _PAREN, _SPECIAL, _CODE_MARK = _MARKED.values()


@lru_cache(maxsize=1)
def _mark_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    for chars, bit in _MARKED.items():
        table[_codes(chars)] |= bit
    return table


@dataclass(frozen=True)
class _Chars:
    """Units joined by newlines, as code points, with line offsets.

    ``document_end``: which lines end a page (a sentence end may close the
    page's last line; the newline after any other line is not a space)."""

    units: Sequence[str]
    text: str
    codes: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    document_end: np.ndarray

    @classmethod
    def of(cls, units: Sequence[str], document_end: np.ndarray | None = None) -> "_Chars":
        """``units`` joined; ``document_end`` defaults to the last unit alone (one page)."""
        text = "\n".join(units)
        # lines are told apart by the newlines that join them (see token_stoplists)
        if text.count("\n") != max(len(units) - 1, 0):
            raise ValueError("a line holds a line break ('\\n'): split the text into lines first (io.split_lines)")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        lengths = _lengths(units)
        if document_end is None:
            document_end = np.zeros(len(units), dtype=bool)
            document_end[-1:] = True
        return cls(units, text, codes, _line_starts(lengths), lengths, np.asarray(document_end, dtype=np.uint8))

    @cached_property
    def counts(self) -> np.ndarray:
        """Each line's character counts and first and last visible
        character, one column per name in LINE_COUNT_COLUMNS (see :meth:`count`)."""
        out = np.empty((len(self.units), len(LINE_COUNT_COLUMNS)), dtype=np.int64)
        line_counts(self.codes, self.starts, self.lengths, self.document_end, _char_table(), _mark_table(),
                    _case_risk_table().view(np.uint8), out)  # fmt: skip
        return out

    def count(self, column: str) -> np.ndarray:
        """One column of :attr:`counts`: ``letters``, ``alnum``, ``punct``,
        ``symbol``, ``digit``, ``upper`` (characters of each class);
        ``words`` (runs of visible characters: neither whitespace nor
        unclassified), ``titled`` and ``lowered`` (those starting upper- or
        lower-case); ``separators``, ``quotes``, ``parens``, ``special``,
        ``colons``, ``commas`` (characters of _MARKED and the two); and
        ``sentences`` (a terminal .!? followed by whitespace, or ending its
        page's last line); ``code_marks`` and ``slashes`` (characters of
        ``{};=<$#>``, and "/"); ``maybe_digit`` and ``case_risky`` (characters that
        may be a decimal digit, or may hide a cue from its word: see
        :attr:`digit_lines` and :meth:`cue_lines`); ``first_visible`` and
        ``last_visible`` (positions: see the properties of those names)."""
        return self.counts[:, LINE_COUNT_COLUMNS.index(column)]

    @property
    def first_visible(self) -> np.ndarray:
        """Each line's first visible character (its position), or the text's length when it has none."""
        return self.count("first_visible")

    @property
    def last_visible(self) -> np.ndarray:
        """Each line's last visible character (its position), or -1 when it has none."""
        return self.count("last_visible")

    @property
    def words(self) -> np.ndarray:
        """Whitespace-separated words per line."""
        return self.count("words")

    def flags_at(self, positions: np.ndarray) -> np.ndarray:
        """The character-class bits of the characters at ``positions`` (0 for a joining newline)."""
        codes = self.codes[positions]
        flags = np.where(codes < 0x10000, _char_table()[np.minimum(codes, 0xFFFF)], _SYMBOL).astype(np.uint8)
        # the joining newlines belong to no line (no line holds a newline of its own)
        return np.where(codes == ord("\n"), 0, flags).astype(np.uint8)

    @property
    def digit_lines(self) -> np.ndarray:
        """The lines that may hold a decimal digit (``\\d``): those with a
        character of a number category, or one beyond the Basic Multilingual
        Plane (the lookup tables end there). A prefilter for :meth:`find`,
        read off the character counts instead of a regex pass."""
        return np.flatnonzero(self.count("maybe_digit"))

    @property
    def code_lines(self) -> np.ndarray:
        """The lines that may look like code (:data:`.structure._CODE`): each
        match holds one of ``{};=<$#>``, "::" or "//", or is a call, a word
        character right before "(" (not a bracket after a space: "(AP)"). A
        prefilter for :meth:`find`."""
        marked = (self.count("code_marks") > 0) | (self.count("colons") >= 2) | (self.count("slashes") >= 2)
        paren = np.flatnonzero(self.codes[1:] == ord("(")) + 1
        before = self.codes[paren - 1]
        # \w: a letter or digit of the table, "_", or anything beyond it
        word = ((self.flags_at(paren - 1) & (_LETTER | _DIGIT)) > 0) | (before == ord("_")) | (before >= 0x10000)
        return np.union1d(np.flatnonzero(marked), self.line_of(paren[word]))

    @property
    def time_lines(self) -> np.ndarray:
        """The lines that may hold a time (``\\d:\\d``): a colon and a
        character that may be a digit. A prefilter for :meth:`find`."""
        return np.flatnonzero((self.count("maybe_digit") > 0) & (self.count("colons") > 0))

    def line_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, positions, side="right") - 1

    @cached_property
    def _tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """The maximal runs of word characters (lower-cased) that are in a
        stoplist or are a cue's key word: each one's line, and its bits in
        the token table (:func:`_token_bits`). Found and looked up in one C
        pass (``lineclf._native.word_bits``)."""
        line, bits = word_bits(self.text.lower(), *_token_table())
        return np.frombuffer(line, dtype=np.int64), np.frombuffer(bits, dtype=np.uint16)

    @property
    def token_stoplists(self) -> tuple[np.ndarray, np.ndarray]:
        """Every maximal run of word characters (lower-cased) in a stoplist:
        its line, and the stoplists it is in (bit k: STOPWORD_LANGUAGES[k];
        0 for a cue's key word in none)."""
        line, bits = self._tokens
        return line, (bits & _STOPLIST_BITS).astype(np.uint8)

    def cue_lines(self, name: str) -> np.ndarray | None:
        """The lines where a cue of the list ``name`` (one of
        TOKEN_FILTERED_CUE_LISTS), or a match of a pattern of
        PATTERN_KEY_WORDS, may be: a prefilter for :meth:`find`, or None
        when the list's cues cannot be found from words.

        Each run of word characters in a cue is a whole word wherever the cue
        matches (the cue's other characters, and the ``(?<!\\w)`` and
        ``(?!\\w)`` around it, are not word characters), so a line with a
        match holds the cue's key word (:func:`_cue_key_words`) lower-cased,
        unless a character of the line matches a cue's letter
        case-insensitively without lower-casing to it (the long s, the
        dotless i), lower-cases to more than one character, or is beyond the
        Basic Multilingual Plane: such lines (:func:`_case_risk_table`) are
        always read.
        """
        bit = _cue_token_bit(name)
        if bit is None:
            return None
        line, bits = self._tokens
        return np.union1d(line[(bits & bit) > 0], self._case_risky_lines)

    @property
    def _case_risky_lines(self) -> np.ndarray:
        return np.flatnonzero(self.count("case_risky"))

    def lines_with(self, pattern: re.Pattern, within: np.ndarray | None = None) -> np.ndarray:
        """The lines where ``pattern`` matches (``within``: as for :meth:`find`)."""
        if within is None:
            return np.unique(self.line_of(_match_starts(pattern, self.text)))
        return np.unique(self.find(pattern, within)[0])

    def find(
        self, pattern: "re.Pattern | _CuePhrases | _SplitPattern", within: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The line and the length of every match of ``pattern`` (a regular
        expression, or a list's cues: :func:`cue_phrases`).

        ``within``: lines that include every line where ``pattern`` matches
        (found by a cheaper pattern, :meth:`lines_with`, or by
        :meth:`cue_lines` or :attr:`digit_lines`). ``pattern`` then
        reads only those lines, joined by newlines, and finds the same
        matches: none spans a newline, and the newline before and after a line
        looks to ``\\b`` and lookarounds just like the start and end of the text.
        """
        if isinstance(pattern, _SplitPattern):
            return self._find_split(pattern, within)
        if within is None:
            return self._find_in(self.text, self.starts, pattern, None)
        units = [self.units[i] for i in within]
        return self._find_in("\n".join(units), _line_starts(_lengths(units)), pattern, within)

    def _find_split(self, pattern: _SplitPattern, within: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`find` for a :class:`_SplitPattern`: both parts, merged, on
        the lines with a key word; the part led by a digit on the others."""
        lines = np.arange(len(self.units)) if within is None else np.asarray(within, dtype=np.int64)
        keyed = np.intersect1d(lines, self.cue_lines(pattern.key))
        found = [self._find_in("\n".join(self.units[i] for i in keyed), _line_starts(self.lengths[keyed]), pattern, keyed)]
        if pattern.led is not None:
            found.append(self.find(pattern.led, np.setdiff1d(lines, keyed)))
        line, length = (np.concatenate(parts) for parts in zip(*found))
        order = np.argsort(line, kind="stable")  # each line's matches are in one part, in order
        return line[order], length[order]

    @staticmethod
    def _find_in(
        text: str, starts: np.ndarray, pattern: "re.Pattern | _CuePhrases | _SplitPattern", lines: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(pattern, (_CuePhrases, _SplitPattern)):
            spans = pattern.spans(text)
        else:
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


