"""The cue lists and the word tables the page features look lines up in:
the shipped lists (package data, resources/cues/), the stoplists' and cue
lists' words as one table for the C pass over a batch's words
(``lineclf._native.word_bits``), and each cue list as a prefix tree matched
in C (``lineclf._native.match_phrases``), with the case-insensitive matching
of the regular-expression engine, which the tables are built from.
"""

from __future__ import annotations

import _sre  # the regex engine's own case-folding (unicode_tolower), as re uses it
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .._native import match_phrases

#: Cue lists shipped as package data (resources/cues/<name>.txt).
CUE_LISTS = ("chrome", "caption", "section")
#: The cue lists whose lines :meth:`_Chars.cue_lines` finds from the words of
#: the text (the thread cues are those of :mod:`.structure`).
TOKEN_FILTERED_CUE_LISTS = (*CUE_LISTS, "thread")
#: Patterns of the page features every match of which holds one of these
#: words (lower-cased) as a whole word, a run of word characters: so only
#: the lines with one need be read, found as :meth:`_Chars.cue_lines` finds
#: a cue list's. The month names of the dates written with one
#: (text._MONTH_DATE), the words of relative times (structure._AGO).
PATTERN_KEY_WORDS = {
    "month": (
        "jan", "january", "januar", "feb", "february", "februar", "mar", "march", "märz", "apr", "april",
        "mai", "may", "jun", "june", "juni", "jul", "july", "juli", "aug", "august", "sep", "sept",
        "september", "oct", "okt", "october", "oktober", "nov", "november", "dec", "dez", "december", "dezember",
    ),
    "relative_time": ("ago", "vor", "hace", "sitten"),
}  # fmt: skip
#: Everything whose lines the token table finds: the cue lists, then the patterns.
_WORD_FILTERED = (*TOKEN_FILTERED_CUE_LISTS, *PATTERN_KEY_WORDS)
# stoplists shipped as resources/cues/stop-<language>.txt
STOPWORD_LANGUAGES = ("en", "de", "es", "fi")


@lru_cache(maxsize=None)
def load_cues(name: str) -> tuple[str, ...]:
    """The cue phrases of one shipped list (lower-case, comments removed)."""
    text = resources.files("lineclf").joinpath("resources", "cues", f"{name}.txt").read_text("utf-8")
    cues = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return tuple(sorted({cue for cue in cues if cue}))


@dataclass(frozen=True)
class _CuePhrases:
    """The cues of one list as a prefix tree, matched in C
    (``lineclf._native.match_phrases``): case-insensitively, as whole words
    (no word character before or after), a space matching any run of spaces
    other than a line break, the longest cue first at each place. These are
    the matches of the regular expression ``(?<!\\w)`` + the tree written as
    nested greedy groups + ``(?!\\w)``, under ``re.IGNORECASE``, which the
    tests compare them with; the tree fails at the first character that no
    cue continues with.

    Node 0 is the root; node n's edges are ``first_edge[n]:first_edge[n + 1]``
    in the order the cues (sorted) first took them, each with its symbol
    (:func:`_cue_symbols`; 0 a space) and child."""

    first_edge: np.ndarray
    edge_symbol: np.ndarray
    edge_child: np.ndarray
    ends: np.ndarray

    def spans(self, text: str) -> np.ndarray:
        """The matches in ``text``, left to right: an ``(n, 2)`` array of start and end."""
        starts, lengths = match_phrases(text, _cue_symbols()[1], self.first_edge, self.edge_symbol, self.edge_child, self.ends)
        starts = np.frombuffer(starts, dtype=np.int64)
        return np.column_stack([starts, starts + np.frombuffer(lengths, dtype=np.int64)])


@lru_cache(maxsize=None)
def cue_phrases(name: str) -> _CuePhrases:
    """The cues of the list ``name`` (one of TOKEN_FILTERED_CUE_LISTS, whose
    characters :func:`_cue_symbols` knows) as a :class:`_CuePhrases` tree."""
    symbols = _cue_symbols()[0]
    children: list[dict[int, int]] = [{}]
    ends = [False]
    for cue in load_cues(name):
        node = 0
        for char in cue:
            symbol = 0 if char == " " else symbols[char]
            if symbol not in children[node]:
                children[node][symbol] = len(children)
                children.append({})
                ends.append(False)
            node = children[node][symbol]
        ends[node] = True
    sizes = [len(edges) for edges in children]
    return _CuePhrases(
        first_edge=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        edge_symbol=np.array([symbol for edges in children for symbol in edges], dtype=np.uint16),
        edge_child=np.array([child for edges in children for child in edges.values()], dtype=np.int32),
        ends=np.array(ends, dtype=np.uint8),
    )


@lru_cache(maxsize=1)
def _cue_symbols() -> tuple[dict[str, int], np.ndarray]:
    """Every character of the cue lists and of the patterns' key words but
    the space as a symbol (1, 2, ...), and the symbol each character of the
    Basic Multilingual Plane matches case-insensitively (0: none), asked of
    the regular-expression engine itself (besides its cases, "s" matches the
    long s, "k" the Kelvin sign). No character beyond the plane matches
    one, and none matches two (tests check both)."""
    words = [cue for name in TOKEN_FILTERED_CUE_LISTS for cue in load_cues(name)]
    words += [word for key_words in PATTERN_KEY_WORDS.values() for word in key_words]
    chars = sorted({char for word in words for char in word} - {" "})
    symbols = {char: k + 1 for k, char in enumerate(chars)}
    table = np.zeros(0x10000, dtype=np.uint16)
    # one pass: each character of the plane against every symbol, the first that matches
    either = re.compile("|".join(f"({re.escape(char)})" for char in chars), re.IGNORECASE)
    for found in either.finditer("".join(map(chr, range(0x10000)))):
        table[found.start()] = found.lastindex
    return symbols, table


# The token table's bits: a word's stoplists (bit k: STOPWORD_LANGUAGES[k]),
# then the cue lists with a cue keyed by it and the patterns it is a key
# word of (_cue_key_words; in the order of _WORD_FILTERED). The C pass keeps 16 bits.
_STOPLIST_BITS = (1 << len(STOPWORD_LANGUAGES)) - 1
assert len(STOPWORD_LANGUAGES) + len(_WORD_FILTERED) <= 16


@lru_cache(maxsize=1)
def _token_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The token table as ``word_bits`` takes it (:func:`packed_words`)."""
    return packed_words(_token_bits())


def packed_words(table: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A table of words and their bits as ``lineclf._native.word_bits``
    takes it: the words' code points one after another (uint32), where each
    starts (int64, and where the last ends), their bits (uint16), and the
    longest word's length in characters."""
    words = list(table)
    bits = np.array([table[word] for word in words], dtype=np.int64)
    if ((bits < 0) | (bits > 0xFFFF)).any():
        raise ValueError("a word's bits must fit 16 bits")
    lengths = np.array([len(word) for word in words], dtype=np.int64)
    keys = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return keys, starts, bits.astype(np.uint16), int(lengths.max(initial=0))


@lru_cache(maxsize=1)
def _token_bits() -> dict[str, int]:
    """Each word's bits in the token table (see _STOPLIST_BITS)."""
    bits: dict[str, int] = {}
    for k, lang in enumerate(STOPWORD_LANGUAGES):
        for word in load_cues(f"stop-{lang}"):
            bits[word] = bits.get(word, 0) | (1 << k)
    for name in _WORD_FILTERED:
        bit = _cue_token_bit(name)
        for word in _cue_key_words(name) or ():
            bits[word] = bits.get(word, 0) | bit
    return bits


def _cue_token_bit(name: str) -> int | None:
    """The token table's bit of the cue list or pattern ``name``, or None
    when its matches cannot be found from their words."""
    if name not in _WORD_FILTERED or _cue_key_words(name) is None:
        return None
    return 1 << (len(STOPWORD_LANGUAGES) + _WORD_FILTERED.index(name))


@lru_cache(maxsize=None)
def _cue_key_words(name: str) -> frozenset[str] | None:
    """One word (run of word characters) of each cue of the list, its
    longest (the rarest, mostly: "other" of "in other news"), or None when a
    cue has no word, or holds a letter that is not its own lower case under
    the regex engine's case-folding (no cue list does). For a pattern of
    PATTERN_KEY_WORDS, its key words."""
    if name in PATTERN_KEY_WORDS:
        return frozenset(PATTERN_KEY_WORDS[name])
    words = set()
    for cue in load_cues(name):
        runs = re.findall(r"\w+", cue)
        if not runs or any(_sre.unicode_tolower(ord(c)) != ord(c) for c in cue):
            return None
        words.add(max(runs, key=len))
    return frozenset(words)


def _word_characters(text: str) -> np.ndarray:
    """Which characters of ``text`` are word characters (``\\w``), in two
    C-level substitutions instead of a match per character."""
    marked = re.sub(r"[^\x01]", "\x00", re.sub(r"\w", "\x01", text))
    return np.frombuffer(marked.encode("latin-1"), dtype=np.uint8) == 1


@lru_cache(maxsize=1)
def _case_risk_table() -> np.ndarray:
    """Characters of the Basic Multilingual Plane on whose lines the cues'
    words may not tell where a cue matches (see :meth:`_Chars.cue_lines`).

    Asked of the regex engine itself: which characters each letter of the
    cues matches case-insensitively (:func:`_cue_symbols`). Besides its own
    cases that is, say, the long s for s and the Kelvin sign for k; a
    character that matches a letter it does not lower-case to is risky. So
    is one whose lower case is longer (U+0130, "İ", lower-cases to "i" and a
    combining dot) or is a word character where the character is not, or
    the other way round.
    """
    bmp = "".join(map(chr, range(0x10000))).replace("\n", " ")  # the position of "\n" is never risky
    lowered = [ch.lower() for ch in bmp]
    long_lower = np.fromiter(map(len, lowered), dtype=np.int64, count=len(bmp)) != 1
    # "\x00" (not a word character) stands in for a longer lower case, already risky
    single = "".join(low if len(low) == 1 else "\x00" for low in lowered)
    risky = long_lower | (_word_characters(bmp) != _word_characters(single))
    symbols, symbol_of = _cue_symbols()
    letter_of = dict(zip(symbols.values(), symbols))
    for position in np.flatnonzero(symbol_of):
        if lowered[position] != letter_of[int(symbol_of[position])]:
            risky[position] = True
    return risky

