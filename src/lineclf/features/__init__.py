"""Per-line features of pages, computed over a whole batch of pages at once.

- :mod:`.text`: the text engine (character classes, patterns, where the
  cue lists and stopwords are found in a batch);
- :mod:`.cues`: the cue lists and stoplists, their words as one table, and
  each cue list as a prefix tree;
- :mod:`.families`: the line feature families (length, punctuation, patterns,
  language, repetition, position);
- :mod:`.structure`: comment threads and runs of lines of one shape (lists,
  tables, code);
- :mod:`.context`: neighbours, windows and the densest run of long lines;
- :mod:`.matrix`: a batch's feature matrix (every family, with context);
- :mod:`.site`: repetition across the pages of a site (:class:`SiteCounts`).
"""

from __future__ import annotations

from .context import DEFAULT_CONTEXT, SHORT_LINE_PENALTY, densest_run, run_position, shift, window_mean, with_context
from .families import (
    LONG_LINE_WORDS,
    SECTION_REACH,
    language_features,
    length_features,
    pattern_features,
    position_features,
    punctuation_features,
    repetition_features,
)
from .matrix import (
    FEATURE_BATCH_CHARS,
    LINE_FAMILIES,
    batch_features,
    document_features,
    feature_names,
    line_features,
)
from .structure import shape_features, thread_features
from .site import SITE_FEATURE_NAMES, SITE_SHARE_RADIUS, SiteCounts, site_features
from .cues import CUE_LISTS, STOPWORD_LANGUAGES, load_cues

__all__ = [
    "CUE_LISTS",
    "DEFAULT_CONTEXT",
    "FEATURE_BATCH_CHARS",
    "LINE_FAMILIES",
    "LONG_LINE_WORDS",
    "SECTION_REACH",
    "SHORT_LINE_PENALTY",
    "SITE_FEATURE_NAMES",
    "SITE_SHARE_RADIUS",
    "STOPWORD_LANGUAGES",
    "SiteCounts",
    "batch_features",
    "densest_run",
    "document_features",
    "feature_names",
    "language_features",
    "length_features",
    "line_features",
    "load_cues",
    "pattern_features",
    "position_features",
    "punctuation_features",
    "repetition_features",
    "run_position",
    "shift",
    "shape_features",
    "site_features",
    "thread_features",
    "window_mean",
    "with_context",
]
