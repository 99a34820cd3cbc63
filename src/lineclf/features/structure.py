"""Feature families for the page's structure beyond long prose: comment
threads and forum posts, and runs of lines of one shape (list items, table
rows, code), which are body inside the main content and chrome or teasers
outside it.

Like the families in :mod:`.families`, each is a pure function of a
batch that returns an ``(n_lines, k)`` array and its column names, and a
document's rows never depend on the other documents of its batch.
"""

from __future__ import annotations

import re

import numpy as np

from .families import _Batch, _distance_ahead, _distance_back
from .cues import cue_phrases
from .text import _DIGIT, _LOWER, _SP, _UPPER, _codes, _SplitPattern

#: How far back and ahead (in lines) a post marker is looked for.
THREAD_REACH = 50
#: A line of at most this many words with a thread cue marks a post ("Michael F Dougherty says:").
MARKER_WORDS = 5
#: Relative times that date a post ("3 hours ago", "vor 2 Tagen"). Each
#: match holds "ago", "vor", "hace" or "sitten" as a whole word, so only the
#: lines with one are read (cues.PATTERN_KEY_WORDS).
_AGO = _SplitPattern(
    led=None,
    keyed=re.compile(
        (
            r"\b\d+_+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)_+ago\b"
            r"|\bvor_+\d+_+(?:sekunden|minuten|min\.?|stunden|std\.?|tagen|wochen|monaten|jahren)\b"
            r"|\bhace_+\d+_+(?:segundos?|minutos?|horas?|días?|semanas?|meses|años?)\b"
            r"|\b\d+_+(?:sekuntia|minuuttia|tuntia|päivää|viikkoa|kuukautta|vuotta)_+sitten\b"
        ).replace("_", _SP),
        re.IGNORECASE,
    ),
    key="relative_time",
)
#: A line that starts as a list item: a bullet, or "1." / "2)" / "a)".
_BULLET = re.compile(r"^[^\S\n]*(?:[-*•·▪►▸→–—✓✔]|\d{1,3}[.)](?!\d)|[a-z][)])[^\S\n]", re.MULTILINE)
#: What a list item's first visible character is, besides a digit.
_BULLET_STARTS = "-*•·▪►▸→–—✓✔abcdefghijklmnopqrstuvwxyz"
#: What code looks like: braces, semicolons at the end, assignments, calls, tags, shell prompts.
_CODE = re.compile(
    r"[{}]|;[^\S\n]*$|[^\s=!<>]=[^=]|==|=>|->|::|\w\(\)|\w\([^()\n]*\)[^\S\n]*[;:{]?[^\S\n]*$|</?[a-z]+[^\n>]*>"
    r"|^[^\S\n]*(?:\$|#|//|>>>)[^\S\n]",
    re.MULTILINE,
)


def thread_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """Post markers ("X says:", "Antworten", "3 hours ago") on the line, how
    far the line is from the nearest one, and whether the page's first comes
    before its main run of long lines (a forum, whose posts are the content)
    or after it (an article with comments under it)."""
    chars = batch.chars
    lines, lengths = chars.find(cue_phrases("thread"), within=chars.cue_lines("thread"))
    cues = np.bincount(lines, minlength=batch.n_lines).astype(float)
    covered = np.bincount(lines, weights=lengths, minlength=batch.n_lines) / np.maximum(chars.lengths, 1)
    # every relative time holds a number: only the lines with a digit are read
    ago = chars.count_matches(_AGO, within=chars.digit_lines)
    # a marker line is short or mostly the marker (a name and "says:", a button)
    marker = ((cues > 0) & ((covered >= 0.3) | (chars.words <= MARKER_WORDS))) | ((ago > 0) & (chars.words <= 8))
    index = np.arange(batch.n_lines)
    first_of_doc = np.full(len(batch.documents), batch.n_lines, dtype=np.int64)
    np.minimum.at(first_of_doc, batch.doc, np.where(marker, index, batch.n_lines))
    first_marker = first_of_doc[batch.doc]
    has_marker = first_marker <= batch.last
    markers_before = np.cumsum(marker) - marker
    markers_before = markers_before - markers_before[batch.first]
    cols = {
        "cue_thread": cues.clip(0, 3),
        "cue_thread_share": covered.clip(0, 1),
        "ago": ago.clip(0, 2),
        "since_marker": np.log1p(_distance_back(marker, batch.first, cap=THREAD_REACH)),
        "until_marker": np.log1p(_distance_ahead(marker, batch.last, cap=THREAD_REACH)),
        "markers_before": np.log1p(markers_before),
        "page_markers": np.log1p(batch.per_document(marker.astype(float)))[batch.doc],
        "after_first_marker": (has_marker & (index >= first_marker)).astype(float),
        "first_marker_pos": np.where(has_marker, (first_marker - batch.first) / np.maximum(batch.size - 1, 1), 1.0),
    }
    return np.column_stack(list(cols.values())), list(cols)


def shape_features(batch: _Batch) -> tuple[np.ndarray, list[str]]:
    """List items, code, and runs of consecutive lines of one shape (first
    character's class, bullet, terminal punctuation, length class): a list,
    a table's cells or a block of code is a run; the trees see its length
    and the line's place in it."""
    chars = batch.chars
    n = batch.n_lines
    bullet = np.zeros(n)
    bullet[chars.lines_with(_BULLET, within=_bullet_lines(chars))] = 1.0
    code = chars.count_matches(_CODE, within=chars.code_lines).clip(0, 3)
    words = chars.words
    visible_first = _first_visible_flags(batch)
    last_cp = _last_visible_codes(batch)
    terminal = np.isin(last_cp, np.array([ord(c) for c in ".!?:;"], dtype=np.uint32))
    size_class = np.digitize(words, (2, 4, 10, 25))
    shape = visible_first * 64 + bullet.astype(np.int64) * 32 + terminal.astype(np.int64) * 16 + size_class
    run_id = np.cumsum(np.concatenate(([True], (shape[1:] != shape[:-1]) | (batch.index[1:] == 0)))) - 1 if n else shape
    run_len = np.bincount(run_id)[run_id] if n else np.zeros(0)
    run_start = np.searchsorted(run_id, run_id, side="left")
    pos = (np.arange(n) - run_start) / np.maximum(run_len - 1, 1)
    cols = {
        "bullet": bullet,
        "code": code,
        "shape_run": np.log1p(run_len - 1),
        "shape_run_pos": pos,
        "shape_run_short": ((run_len >= 3) & (words <= 6)).astype(float),
    }
    return np.column_stack([np.asarray(v, dtype=float) for v in cols.values()]), list(cols)


def _bullet_lines(chars) -> np.ndarray:
    """The lines where _BULLET may match, a prefilter for it: those whose
    first visible character may start a list item. Every whitespace
    character before it is a space or unclassified in the character table
    (neither is visible), so that character is the first visible one; a
    digit beyond the Basic Multilingual Plane is no digit there."""
    if len(chars.codes) == 0:  # no line holds a character
        return np.zeros(0, dtype=np.int64)
    first = chars.first_visible
    at = np.minimum(first, len(chars.codes) - 1)
    codes = chars.codes[at]
    may = ((chars.flags_at(at) & _DIGIT) > 0) | np.isin(codes, _codes(_BULLET_STARTS)) | (codes >= 0x10000)
    return np.flatnonzero(may & (first < len(chars.codes)))


def _first_visible_flags(batch: _Batch) -> np.ndarray:
    """A class of each line's first visible character: 0 none, 1 upper, 2
    lower, 3 digit, 4 anything else."""
    chars = batch.chars
    if batch.n_lines == 0:
        return np.zeros(0, dtype=np.int64)
    first = chars.first_visible
    found = first < len(chars.codes)
    flags = chars.flags_at(np.minimum(first, len(chars.codes) - 1))
    cls = np.select([(flags & _UPPER) > 0, (flags & _LOWER) > 0, (flags & _DIGIT) > 0], [1, 2, 3], 4)
    return np.where(found, cls, 0).astype(np.int64)


def _last_visible_codes(batch: _Batch) -> np.ndarray:
    chars = batch.chars
    if batch.n_lines == 0:
        return np.zeros(0, dtype=np.uint32)
    last = chars.last_visible
    return np.where(last >= 0, chars.codes[np.maximum(last, 0)], 0).astype(np.uint32)
