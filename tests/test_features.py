"""Per-line features on small hand-made dumps."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineclf.features import cues
from lineclf.features import text as features
from lineclf.features.structure import _AGO, _BULLET, _CODE, _bullet_lines
from lineclf.document import Document
from lineclf.features import (
    DEFAULT_CONTEXT,
    batch_features,
    densest_run,
    document_features,
    feature_names,
    line_features,
    shift,
    with_context,
)

SENTENCE = "This is a complete sentence with enough words to count as long text."


def features_of(lines: list[str]) -> dict[str, np.ndarray]:
    """Own-line features of a document built from ``lines``, by column name."""
    values, names = line_features(Document.from_lines(lines))
    return {name: values[:, k] for k, name in enumerate(names)}


AWKWARD_PAGES = {
    "one-line": ["A sentence."],
    "blank-and-spaces": ["", "  Home  ", "", "", "\u00a0Text\u00a0with\u00a0nbsp\u00a0", ""],
    "symbols-only": ["|", "»", "©", "...", "—"],
    "astral-and-controls": ["Emoji 😀 line", "\u200bzero width", "x\x0cy\u2028z", "\ufeffBOM"],
    "digits-and-urls": ["12.03.2024 10:45", "www.example.com", "mail@example.org", "1234567890"],
    "mixed": ["Home", "", SENTENCE, SENTENCE, "", "Impressum", "Home"],
}


@pytest.mark.parametrize("page", sorted(AWKWARD_PAGES))
def test_document_features_shape_and_finite(page):
    doc = Document.from_lines(AWKWARD_PAGES[page])
    X = document_features(doc)
    assert X.shape == (doc.n_units, len(feature_names()))
    assert np.isfinite(X).all()


@pytest.mark.parametrize("page", sorted(AWKWARD_PAGES))
def test_line_features_names_match_columns(page):
    values, names = line_features(Document.from_lines(AWKWARD_PAGES[page]))
    assert names == feature_names(())
    assert values.shape[1] == len(names) == len(set(names))


def test_feature_names_with_context():
    own = feature_names(())
    names = feature_names(DEFAULT_CONTEXT)
    assert names[: len(own)] == own
    assert len(names) == len(own) * (1 + len(DEFAULT_CONTEXT)) + len(DEFAULT_CONTEXT)
    assert "ends_terminal@-1" in names and "exists@+2" in names


def test_empty_document_gives_zero_rows():
    doc = Document.from_lines([])
    assert document_features(doc).shape == (0, len(feature_names()))
    assert line_features(doc)[0].shape == (0, len(feature_names(())))


def test_blank_only_document_gives_zero_rows():
    doc = Document.from_lines(["", "   ", "\t"])
    assert document_features(doc).shape == (0, len(feature_names()))


def test_ends_terminal():
    f = features_of(["A sentence.", "Home", "Really?", "Wait!", "Trailing space.  "])
    assert f["ends_terminal"].tolist() == [1, 0, 1, 1, 1]
    assert f["ends_period"].tolist() == [1, 0, 0, 0, 1]


def test_starts_upper_and_lower():
    f = features_of(["Upper start", "lower start", "3 digits"])
    assert f["starts_upper"].tolist() == [1, 0, 0]
    assert f["starts_lower"].tolist() == [0, 1, 0]
    assert f["starts_digit"].tolist() == [0, 0, 1]


def test_long_and_short_lines():
    f = features_of([SENTENCE, "Home", "Two words"])
    assert f["long"].tolist() == [1, 0, 0]
    assert f["short"].tolist() == [0, 1, 1]
    assert f["log_words"][1] == pytest.approx(np.log1p(1))
    assert f["log_words"][2] == pytest.approx(np.log1p(2))
    assert f["log_chars"][1] == pytest.approx(np.log1p(4))


def test_repeats_counts_other_copies_of_a_line():
    f = features_of(["Home", "Unique line", "home ", "Other", "Home"])
    assert f["repeats"][0] > 0 and f["repeats"][4] > 0
    assert f["repeats"][0] == pytest.approx(np.log1p(2))  # two other copies (case and spaces ignored)
    assert f["repeats"][1] == 0
    assert f["first_occurrence"].tolist() == [1, 1, 0, 1, 0]


def test_repeat_near_sees_title_snippet_title():
    f = features_of(["A title", "Its snippet text", "A title", "Far away"])
    assert f["repeat_near"].tolist() == [1, 0, 1, 0]


def test_blank_before_and_after():
    f = features_of(["First", "", "Second", "", "", "", "Third", "Fourth", ""])
    assert f["blank_before"].tolist() == [0, 1, 2, 0]  # capped at 2
    assert f["blank_after"].tolist() == [1, 2, 0, 1]


def test_blank_lines_change_features_only_through_layout():
    tight = features_of(["Home", "Text line."])
    spaced = features_of(["Home", "", "Text line."])
    assert spaced["blank_before"][1] == 1 and tight["blank_before"][1] == 0
    assert spaced["ends_terminal"].tolist() == tight["ends_terminal"].tolist()


@pytest.mark.parametrize("text", ["Impressum", "Home", "home", "IMPRESSUM"])
def test_chrome_cues(text):
    f = features_of([text, SENTENCE])
    assert f["cue_chrome"][0] >= 1
    assert f["cue_chrome_share"][0] == pytest.approx(1.0)
    assert f["cue_chrome"][1] == 0


def test_cue_is_matched_as_a_whole_word():
    f = features_of(["Homeland security", "Homepage"])
    assert f["cue_chrome"].tolist() == [0, 0]


def test_dates_times_and_urls():
    f = features_of(["Am 12.03.2024 um 10:45 Uhr", "Visit www.example.com now", "Plain words only"])
    assert f["dates"].tolist() == [1, 0, 0]
    assert f["times"].tolist() == [1, 0, 0]
    assert f["urls"][1] >= 1
    assert f["urls"][[0, 2]].tolist() == [0, 0]


def test_position_features():
    f = features_of(["a", "b", "c", "d", "e"])
    assert f["rel_pos"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert f["log_doc_units"] == pytest.approx(np.full(5, np.log1p(5)))


def test_in_main_marks_the_run_of_long_lines():
    f = features_of(["Home", "News", SENTENCE, SENTENCE, SENTENCE, "Impressum"])
    assert f["in_main"].tolist() == [0, 0, 1, 1, 1, 0]
    assert f["before_main"][0] > f["before_main"][1] > 0
    assert f["after_main"][5] > 0


def test_no_long_lines_means_no_main_run():
    f = features_of(["Home", "News", "Sport"])
    assert f["in_main"].tolist() == [0, 0, 0]
    assert f["before_main"].tolist() == [0, 0, 0]


# --------------------------------------------------------------------------- features are per line


def test_a_cue_split_over_two_lines_counts_for_neither():
    # "mehr zum thema" is one section cue; here it is broken over two lines.
    f = features_of(["Mehr zum", "Thema heute"])
    assert f["cue_section"].tolist() == [0, 0]
    assert (f["cue_section_share"] <= 1).all()


def test_a_date_split_over_two_lines_counts_for_neither():
    f = features_of(["Termine im Mai", "2020 war ein gutes Jahr."])
    assert f["dates"].tolist() == [0, 0]


def test_cue_shares_are_fractions_of_the_line():
    f = features_of(["Mehr zum", "Thema", "Home", "Foto:", "dpa", "Privacy", "policy"])
    shares = np.column_stack([f[f"cue_{name}_share"] for name in ("chrome", "caption", "section")])
    assert ((shares >= 0) & (shares <= 1)).all(), shares


# --------------------------------------------------------------------------- helpers


def test_shift_moves_rows_and_fills_zeros():
    values = np.arange(1, 5, dtype=float).reshape(4, 1)
    assert shift(values, 1)[:, 0].tolist() == [2, 3, 4, 0]
    assert shift(values, -2)[:, 0].tolist() == [0, 0, 1, 2]
    assert shift(values, 0)[:, 0].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("offset", [-10, -4, 4, 10])
def test_shift_beyond_the_end_is_all_zero(offset):
    values = np.ones((4, 2))
    assert not shift(values, offset).any()


def test_shift_does_not_modify_input():
    values = np.arange(3.0)
    shift(values, 1)
    assert values.tolist() == [0, 1, 2]


def test_with_context_appends_neighbours_and_existence():
    values = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    out, names = with_context(values, ["a", "b"], (-1, 1))
    assert names == ["a", "b", "a@-1", "b@-1", "exists@-1", "a@+1", "b@+1", "exists@+1"]
    assert out.tolist() == [
        [1, 10, 0, 0, 0, 2, 20, 1],
        [2, 20, 1, 10, 1, 3, 30, 1],
        [3, 30, 2, 20, 1, 0, 0, 0],
    ]


def test_with_context_no_offsets_is_identity():
    values = np.arange(6.0).reshape(3, 2)
    out, names = with_context(values, ["a", "b"], ())
    assert names == ["a", "b"]
    np.testing.assert_array_equal(out, values)


def test_densest_run_without_long_lines():
    assert densest_run(np.zeros(4, dtype=bool), np.ones(4)) == (-1, -1)
    assert densest_run(np.zeros(0, dtype=bool), np.zeros(0)) == (-1, -1)


def test_densest_run_finds_the_richest_run():
    is_long = np.array([1, 0, 0, 0, 0, 1, 1, 0, 1, 0], dtype=bool)
    weight = np.array([5, 1, 1, 1, 1, 10, 10, 1, 10, 1], dtype=float)
    # bridging the four short lines (cost 16) to the first long line (5) does not pay;
    # bridging one short line (cost 4) to gain 10 does.
    assert densest_run(is_long, weight) == (5, 8)


def test_densest_run_single_long_line():
    is_long = np.array([0, 0, 1, 0], dtype=bool)
    assert densest_run(is_long, np.full(4, 12.0)) == (2, 2)


def test_short_lines_between_two_long_lines_split_the_main_run():
    # Each long line has 14 words, so ten short lines between them cost
    # 10 * SHORT_LINE_PENALTY = 40 > 14: the densest run is one long line
    # ("long lines worth their words, others a penalty").
    long_line = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    f = features_of([long_line] + ["Short"] * 10 + [long_line])
    assert f["in_main"][1:11].tolist() == [0] * 10


def test_stop_share_is_high_in_running_text_and_zero_in_menus():
    f = features_of(["Home", "Sport", "Die Regierung hat am Montag in Berlin mit der Opposition über das Gesetz gesprochen."])
    assert f["stop_share"][:2].tolist() == [0, 0]
    assert 0.3 < f["stop_share"][2] <= 1


def test_page_stopword_shares_tell_the_language():
    german = features_of(["Die Regierung hat am Montag mit der Opposition über das Gesetz gesprochen.", "Home"])
    english = features_of(["The government said on Monday that it was going to talk with the opposition.", "Home"])
    assert german["page_stop_de"][0] > german["page_stop_en"][0]
    assert english["page_stop_en"][0] > english["page_stop_de"][0]
    # a page-level feature: the same on every line
    assert german["page_stop_de"][0] == german["page_stop_de"][1]


def test_since_section_counts_lines_below_a_section_label():
    f = features_of(["Article text here.", "Meistgelesene Artikel", "Teaser one", "Its snippet", "Teaser two"])
    assert f["since_section"][1] == 0
    assert f["since_section"][2:].tolist() == pytest.approx(np.log1p([1, 2, 3]).tolist())
    assert f["since_section"][0] == pytest.approx(np.log1p(50))  # none above: capped


def test_long_alternation_is_high_in_title_snippet_lists():
    teasers = ["Short title", SENTENCE] * 5
    body = [SENTENCE] * 10
    assert features_of(teasers)["long_alternation"][5] > 0.5
    assert features_of(body)["long_alternation"][5] == 0


def _trie_regex(phrases) -> str:
    """A regular expression matching exactly ``phrases``, written as a prefix
    tree of nested greedy groups, a space matching any run of spaces other
    than a line break: what lineclf's cue lists matched with before their
    tree was matched in C (the oracle of the tests below)."""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here

    def render(node: dict) -> str:
        ends = "" in node
        branches = [(r"[^\S\n]+" if char == " " else re.escape(char)) + render(child) for char, child in node.items() if char]
        if not branches:
            return ""
        if len(branches) == 1 and not ends:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")

    return render(trie) or "(?!)"


def _cue_regex(name: str) -> re.Pattern:
    """The cue list ``name`` as one regular expression: whole words, case-insensitively."""
    return re.compile(r"(?<!\w)" + _trie_regex(cues.load_cues(name)) + r"(?!\w)", re.IGNORECASE)


#: The dates as one regular expression, as text._DATE's comment writes it
#: (and as lineclf matched them before): what the split pattern must find.
_DATE_REGEX = re.compile(
    (
        r"\b\d{1,2}\._?\d{1,2}\._?(?:\d{2}|\d{4})\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
        r"|\b(?:" + features._MONTHS + r")\.?_+\d{1,4}\b"
        r"|\b\d{1,2}\.?_+(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?_+\d{4}\b"
    ).replace("_", features._SP),
    re.IGNORECASE,
)
#: Each split pattern and the one regular expression it stands for.
_SPLIT_ORACLES = ((features._DATE, _DATE_REGEX), (_AGO, _AGO.keyed))


def test_trie_regex_matches_exactly_its_phrases():
    phrases = ["a", "an", "and", "android", "mehr zum thema", "mehr", "b"]
    pattern = re.compile(_trie_regex(phrases))
    for phrase in phrases:
        assert pattern.fullmatch(phrase)
    assert pattern.fullmatch("mehr   zum thema")  # any run of spaces
    for other in ["", "ab", "andr", "mehr zum", "c"]:
        assert not pattern.fullmatch(other)
    assert not re.compile(_trie_regex([])).search("anything")


@pytest.mark.parametrize("name", cues.TOKEN_FILTERED_CUE_LISTS)
def test_cue_phrases_find_what_the_regex_of_their_tree_finds(name):
    """lineclf._native.match_phrases against the regular expression on
    texts where cues overlap, nest, touch word characters and hide behind
    case-folding and runs of spaces."""
    phrases = cues.load_cues(name)
    pieces = [*phrases, *(cue.upper() for cue in phrases), *(cue.replace(" ", " \t ") for cue in phrases),
              *(cue.replace("s", "ſ").replace("k", "\u212a") for cue in phrases), " ", "  ", "\n", "_", "9", "x", ".",
              ":", "-", "\u00a0", "\U0001F600", "İ"]  # fmt: skip
    rng = np.random.default_rng(sorted(cues.TOKEN_FILTERED_CUE_LISTS).index(name))
    for _ in range(300):
        text = "".join(rng.choice(pieces, size=rng.integers(0, 12)))
        expected = [m.span() for m in _cue_regex(name).finditer(text)]
        assert [tuple(span) for span in cues.cue_phrases(name).spans(text).tolist()] == expected, text


def test_no_character_matches_two_cue_symbols_or_lies_beyond_the_table():
    """The symbol table holds one symbol per character of the Basic
    Multilingual Plane, and match_phrases gives the rest none: true of the
    regex engine's case-insensitive matching for the shipped cue lists."""
    symbols, table = cues._cue_symbols()
    everything = "".join(map(chr, range(0x110000)))
    matched = np.zeros(0x110000, dtype=np.int64)
    for char in symbols:
        for found in re.finditer(re.escape(char), everything, re.IGNORECASE):
            matched[found.start()] += 1
    assert matched.max() == 1 and not matched[0x10000:].any()
    assert np.array_equal(np.flatnonzero(matched), np.flatnonzero(table))


def test_match_phrases_refuses_a_tree_it_could_not_walk_safely():
    tree = cues.cue_phrases("chrome")
    table = cues._cue_symbols()[1]

    def match(**changed):
        arrays = {name: getattr(tree, name).copy() for name in ("first_edge", "edge_symbol", "edge_child", "ends")}
        arrays.update(changed)
        return cues.match_phrases("Home", table, arrays["first_edge"], arrays["edge_symbol"], arrays["edge_child"], arrays["ends"])

    match()
    for child in (0, len(tree.ends)):  # a cycle back to the root, past the end
        bad = tree.edge_child.copy()
        bad[-1] = child
        with pytest.raises(ValueError, match="child out of range"):
            match(edge_child=bad)
    bad = tree.first_edge.copy()
    bad[-1] += 1
    with pytest.raises(ValueError, match="out of range|shapes"):
        match(first_edge=bad)
    with pytest.raises(TypeError, match="bytes"):
        match(ends=tree.ends.astype(np.int64))


# --------------------------------------------------------------------------- a batch of documents at once


def _pages() -> list[Document]:
    """The awkward pages and some ordinary ones, with empty pages between them."""
    ordinary = [
        ["Home | News", "", SENTENCE, SENTENCE + " Again.", "", "Mehr zum Thema", "Teaser one", "Its snippet", "Impressum"],
        ["Am 12.03.2024 um 10:45 Uhr", "Foto: dpa", "Die Regierung hat am Montag mit der Opposition gesprochen.", "Home"],
        ["Home", "Home", "Unique", "Home"],
    ]
    pages = [Document.from_lines(lines) for lines in list(AWKWARD_PAGES.values()) + ordinary]
    return [Document.from_lines([]), *pages[:3], Document.from_lines(["", " "]), *pages[3:], Document.from_lines([])]


@pytest.mark.parametrize("context", [DEFAULT_CONTEXT, (), (-1, 1), (-3, 5)])
def test_batch_gives_each_document_its_own_rows(context):
    pages = _pages()
    alone = np.vstack([document_features(doc, context) for doc in pages])
    together = batch_features(pages, context)
    assert together.dtype == alone.dtype
    np.testing.assert_array_equal(together, alone)


@pytest.mark.parametrize("context", [DEFAULT_CONTEXT, ()])
def test_batch_taken_in_slices_gives_the_same_rows(monkeypatch, context):
    import lineclf.features.matrix

    pages = _pages()
    whole = batch_features(pages, context)
    monkeypatch.setattr(lineclf.features.matrix, "FEATURE_BATCH_CHARS", 40)
    sliced = batch_features(pages, context)
    assert sliced.dtype == whole.dtype
    np.testing.assert_array_equal(sliced, whole)


@pytest.mark.parametrize("context", [DEFAULT_CONTEXT, ()])
def test_batch_written_into_out_gives_the_same_rows(monkeypatch, context):
    """batch_features(out=...) fills the caller's array (as batch_input does,
    with the site columns beside): the rows batch_features returns, in every slice."""
    import lineclf.features.matrix

    pages = _pages()
    whole = batch_features(pages, context)
    monkeypatch.setattr(lineclf.features.matrix, "FEATURE_BATCH_CHARS", 40)
    wider = np.full((len(whole), whole.shape[1] + 2), -7.0)
    assert batch_features(pages, context, out=wider[:, :-2]).base is wider
    np.testing.assert_array_equal(wider[:, :-2], whole)
    assert (wider[:, -2:] == -7).all()
    with pytest.raises(ValueError, match="shape"):
        batch_features(pages, context, out=wider)


def test_with_context_is_each_shifted_block_beside_the_values():
    """with_context writes each neighbour's block in place; it must equal the
    blocks shift() gives, stacked, for neighbours past either end and across
    documents, and for offsets longer than the batch."""
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 5, 40):
        values = rng.normal(size=(n, 3)).astype(np.float32)
        doc = np.sort(rng.integers(0, 4, size=n))
        for offsets in [(-2, -1, 1, 2), (0, 3), (-50, 50), (-1,)]:
            exists = np.ones((n, 1))
            expected = np.hstack([values] + [b for o in offsets for b in (shift(values, o, doc), shift(exists, o, doc))])
            out, _ = with_context(values, ["a", "b", "c"], offsets, doc)
            assert out.dtype == expected.dtype
            np.testing.assert_array_equal(out, expected)


def test_batch_rows_do_not_depend_on_the_neighbouring_documents():
    pages = _pages()
    target = pages[-2]
    for others in ([], pages[:3], pages[3:-2], [target]):
        rows = batch_features([*others, target])[-target.n_units :]
        np.testing.assert_array_equal(rows, document_features(target))


def test_context_does_not_cross_documents():
    first = Document.from_lines(["Home", "News"])
    second = Document.from_lines(["Sport", "Weather"])
    names = feature_names()
    X = batch_features([first, second])
    exists_before, exists_after = names.index("exists@-1"), names.index("exists@+1")
    # the last line of the first page has no next line, the second page's first no previous one
    assert X[:, exists_before].tolist() == [0, 1, 0, 1]
    assert X[:, exists_after].tolist() == [1, 0, 1, 0]
    assert not X[1, names.index("log_chars@+1")] and not X[2, names.index("log_chars@-1")]


def test_page_level_features_are_per_document():
    german = Document.from_lines(["Die Regierung hat am Montag mit der Opposition über das Gesetz gesprochen.", "Home"])
    english = Document.from_lines(["The government said on Monday that it was going to talk with the opposition.", "Home"])
    names = feature_names(())
    X = batch_features([german, english], ())
    de, en = names.index("page_stop_de"), names.index("page_stop_en")
    assert X[0, de] == X[1, de] > X[0, en]
    assert X[2, en] == X[3, en] > X[2, de]
    assert X[:, names.index("log_doc_units")] == pytest.approx(np.log1p([2, 2, 2, 2]))
    assert X[:, names.index("rel_pos")].tolist() == [0, 1, 0, 1]


def test_repeats_are_counted_within_a_document():
    names = feature_names(())
    X = batch_features([Document.from_lines(["Home", "Text"]), Document.from_lines(["Home", "Other"])], ())
    assert X[:, names.index("repeats")].tolist() == [0, 0, 0, 0]
    assert X[:, names.index("first_occurrence")].tolist() == [1, 1, 1, 1]


def test_batch_of_empty_documents():
    empty = [Document.from_lines([]), Document.from_lines(["", "\t"])]
    assert batch_features(empty).shape == (0, len(feature_names()))
    assert batch_features([]).shape == (0, len(feature_names()))


def test_line_without_visible_characters_reads_its_own_document():
    # a zero-width space is neither blank nor visible: its line reads the
    # first and last characters of its own document, whatever comes before
    page = Document.from_lines(["Home.", "\u200b", "end"])
    np.testing.assert_array_equal(batch_features([Document.from_lines(["“Quoted”"]), page])[1:], document_features(page))


def test_a_line_holding_a_newline_is_refused():
    with pytest.raises(ValueError, match="line break"):
        batch_features([Document.from_lines(["one\ntwo"])])


# Pieces of lines where patterns start, end, overlap or hide: dates, times,
# addresses, cues of one list inside those of another, case-folding oddities.
_PIECES = st.sampled_from(
    ["Home", "HOME", "Mehr zum Thema", "mehr  zum\tthema", "Foto:", "by", "By Staff", "Privacy policy", "Most read",
     "Related articles", "12.03.2024", "3. Mai 2020", "May 2020", "2020-01-02", "1/2/20", "10:45", "1:23:45",
     "www.Example.COM", "http://x.org/a", "a@b.de", "x.it", "İmage", "ſhare", "\u212aelvin", "ΣΑΣ", "\u200b",
     "\u00a0", " ", ".", "-", "_", "9", "é", "the", "Share", "SHARE", "ſhare", "reply", "Reply:", "Antworten", "rıght",
     "x = f(y);", "{", "</a>", "$ ls", "::", "->", "\U0001F600", "ΣSS", "ǅ", "3 hours ago", "vor 2 Tagen", "\u0663\u0660.\u0661\u0662.2020", "\U0001D7D9 min ago", "²",
     # dates and relative times where the split patterns' parts meet: a month and a number, words in other cases
     "Sept.", "SEPTEMBER", "März", "MÄRZ", "dez", "ſept", "Oct", "\u212aW", "mai", " 5", "5 ", "12. ", "2020", "a1", "_7",
     "3 Hours AGO", "hace 3 horas", "5 päivää sitten", "vor", "ago", "Jul 4", "4 Jul 2020", "1.2.", "99/1/2024", "1999-12-31",
     # list items: bullets, numbers and letters first, after spaces of every kind or a character that is none
     "• ", "- ", "12. ", "a) ", "B) ", "\U0001D7D9) ", "\u0663. ", "\x1c", "\u2003", "\u200b", "✔ ", "1234. ",
     # calls and brackets: a word character before "(" or not
     "f(x)", "g()", "_(", "_()", "é(1)", "\U0001D400()", "(AP)", " (", "²(",
     # punctuation the counts look for: sentence ends, quotes, brackets, separators, specials
     "Hi! Yes? No.", "„Zitat“", "«a»", "(a)", "[1]", "© 2020 | • ›", "a, b: c", "\t", "…", "#1 @x +*"]
)
_LINES = st.lists(st.lists(_PIECES, max_size=8).map("".join), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(lines=_LINES)
def test_patterns_find_the_same_matches_in_the_lines_their_prefilter_finds(lines):
    chars = features._Chars.of(lines)
    pairs = [
        (features._DATE, chars.digit_lines),
        (_AGO, chars.digit_lines),
        (features._TIME, chars.time_lines),
        (features._URL, chars.lines_with(features._URL_NEEDS)),
        (_CODE, chars.code_lines),
        (_BULLET, _bullet_lines(chars)),
        *((cues.cue_phrases(name), chars.cue_lines(name)) for name in cues.TOKEN_FILTERED_CUE_LISTS),
        *((_cue_regex(name), chars.cue_lines(name)) for name in cues.TOKEN_FILTERED_CUE_LISTS),
    ]
    for pattern, lines in pairs:
        assert lines is not None
        everywhere = chars.find(pattern)
        within = chars.find(pattern, within=lines)
        for a, b in zip(everywhere, within):
            np.testing.assert_array_equal(a, b)
    # what the features use, each split pattern on the lines of their words, is its one regex everywhere
    for split, regex in _SPLIT_ORACLES:
        for a, b in zip(chars.find(regex), chars.find(split, within=chars.digit_lines)):
            np.testing.assert_array_equal(a, b)
    # and the cues' tree in C on the lines of their words is the regex everywhere
    for name in cues.TOKEN_FILTERED_CUE_LISTS:
        found = chars.find(cues.cue_phrases(name), within=chars.cue_lines(name))
        for a, b in zip(chars.find(_cue_regex(name)), found):
            np.testing.assert_array_equal(a, b)


def _counted_one_by_one(lines: list[str], document_end: list[bool]) -> np.ndarray:
    """What line_counts should give, character by character in Python."""
    classes, marks, risk = features._char_table(), features._mark_table(), cues._case_risk_table()
    text = "\n".join(lines)
    rows, start = [], 0
    for line, page_end in zip(lines, document_end):
        counts = dict.fromkeys(features.LINE_COUNT_COLUMNS, 0)
        counts["first_visible"], counts["last_visible"] = len(text), -1
        flags = [int(classes[ord(ch)]) if ord(ch) < 0x10000 else features._SYMBOL for ch in line]
        for j, ch in enumerate(line):
            f, m = flags[j], int(marks[ord(ch)]) if ord(ch) < 0x10000 else 0
            visible = f != 0 and not f & features._SPACE
            word_start = visible and (j == 0 or not (flags[j - 1] and not flags[j - 1] & features._SPACE))
            for column, hit in [("letters", f & features._LETTER), ("alnum", f & (features._LETTER | features._DIGIT)),
                                ("punct", f & features._PUNCT), ("symbol", f & features._SYMBOL),
                                ("digit", f & features._DIGIT), ("upper", f & features._UPPER), ("words", word_start),
                                ("titled", word_start and f & features._UPPER), ("lowered", word_start and f & features._LOWER),
                                ("separators", m & features._SEPARATOR), ("quotes", m & features._QUOTE),
                                ("parens", m & features._PAREN), ("special", m & features._SPECIAL),
                                ("colons", ch == ":"), ("commas", ch == ","), ("code_marks", m & features._CODE_MARK),
                                ("slashes", ch == "/"),
                                ("maybe_digit", f & features._DIGIT or ord(ch) >= 0x10000),
                                ("case_risky", ord(ch) >= 0x10000 or risk[ord(ch)])]:  # fmt: skip
                counts[column] += bool(hit)
            if m & features._SENTENCE_END:
                counts["sentences"] += bool(flags[j + 1] & features._SPACE) if j + 1 < len(line) else page_end
            if visible:
                counts["first_visible"] = min(counts["first_visible"], start + j)
                counts["last_visible"] = start + j
        rows.append([counts[column] for column in features.LINE_COUNT_COLUMNS])
        start += len(line) + 1
    return np.array(rows, dtype=np.int64).reshape(len(lines), -1)


@settings(max_examples=200, deadline=None)
@given(lines=_LINES, data=st.data())
def test_line_counts_count_what_each_character_is(lines, data):
    """The C pass over a batch's characters (lineclf._native.line_counts)
    against a loop over each character of each line in Python."""
    document_end = data.draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    chars = features._Chars.of(lines, np.array(document_end))
    np.testing.assert_array_equal(chars.counts, _counted_one_by_one(lines, document_end))


@settings(max_examples=200, deadline=None)
@given(lines=_LINES)
def test_word_bits_are_the_table_entries_of_the_regex_engines_words(lines):
    """The C pass that finds the stopwords and cue key words
    (lineclf._native.word_bits) against the regex engine's \\w+ runs
    looked up one by one."""
    table = cues._token_bits()
    expected_lines, expected_bits, line = [], [], 0
    for token in re.findall(r"\w+|\n", "\n".join(lines).lower()):
        if token == "\n":
            line += 1
        elif table.get(token):
            expected_lines.append(line)
            expected_bits.append(table[token])
    got_lines, got_bits = features._Chars.of(lines)._tokens
    assert got_lines.tolist() == expected_lines and got_bits.tolist() == expected_bits


def test_word_bits_refuses_a_table_it_cannot_keep():
    with pytest.raises(ValueError, match="16 bits"):
        cues.packed_words({"word": 1 << 16})
    keys, starts, bits, longest = cues.packed_words({"word": 1, "a": 2, "zero": 0})
    assert [np.frombuffer(b, dtype=t).tolist() for b, t in zip(features.word_bits("a word, zero", keys, starts, bits, longest), (np.int64, np.uint16))] == [[0, 0], [2, 1]]
    with pytest.raises(ValueError, match="longer than longest"):
        features.word_bits("a word", keys, starts, bits, 3)
    with pytest.raises(ValueError, match="offsets out of range"):
        features.word_bits("a word", keys[:-1], starts, bits, longest)
    with pytest.raises(ValueError, match="shapes"):
        features.word_bits("a word", keys, starts[:-1], bits, longest)
    with pytest.raises(TypeError, match="bytes"):
        features.word_bits("a word", keys, starts, bits.astype(np.int64), longest)


def test_line_counts_refuses_lines_outside_the_text():
    chars = features._Chars.of(["one line", "two"])
    tables = features._char_table(), features._mark_table(), cues._case_risk_table().view(np.uint8)
    out = np.empty_like(chars.counts)
    for starts in ([0, 9999], [-1, 9]):
        with pytest.raises(ValueError, match="out of the codes' range"):
            features.line_counts(chars.codes, np.array(starts), chars.lengths, chars.document_end, *tables, out)
    with pytest.raises(ValueError, match="shapes"):
        features.line_counts(chars.codes, chars.starts, chars.lengths, chars.document_end, *tables, out[:1])
    with pytest.raises(TypeError, match="bytes"):
        features.line_counts(chars.codes.astype(np.int64), chars.starts, chars.lengths, chars.document_end, *tables, out)


_MONTH_NAMES = (
    "january february march april may june july august september october november december "
    "januar februar märz april mai juni juli august september oktober november dezember"
).split()


def test_the_month_key_words_are_every_form_the_dates_take():
    """Every way of writing a month the dates match is a prefix of a month's
    name: each such prefix the pattern takes is a key word, and each key word a prefix it takes."""
    forms = {name[:k] for name in _MONTH_NAMES for k in range(1, len(name) + 1)}
    taken = {form for form in forms if re.fullmatch(features._MONTHS, form)}
    assert taken == set(cues.PATTERN_KEY_WORDS["month"])


@pytest.mark.parametrize("text", ["3 hours ago", "vor 2 Tagen", "hace 3 horas", "5 päivää sitten", "1 MIN AGO", "VOR 5 STD."])
def test_every_relative_time_is_found_from_its_key_word(text):
    """Each alternative of the relative times holds a key word: a post's
    date in each language, in any case, is found as the one regex finds it."""
    chars = features._Chars.of(["Posted", text, f"x{text}", text.replace(" ", "_")])
    for a, b in zip(chars.find(_AGO.keyed), chars.find(_AGO, within=chars.digit_lines)):
        np.testing.assert_array_equal(a, b)
    assert chars.count_matches(_AGO)[1] == 1


@pytest.mark.parametrize("month", cues.PATTERN_KEY_WORDS["month"])
def test_every_month_of_the_dates_is_a_key_word(month):
    """A month written before a number is a date; the split pattern finds it
    from the month's key word, in any case, with a point, and finds it in
    none of the words that merely start like one."""
    lines = [f"{month} 12", f"{month.upper()}. 3", f"On {month.title()} 2020 it rained", f"{month}s 12", f"x{month} 12"]
    chars = features._Chars.of(lines)
    for a, b in zip(chars.find(_DATE_REGEX), chars.find(features._DATE, within=chars.digit_lines)):
        np.testing.assert_array_equal(a, b)
    assert chars.count_matches(features._DATE).tolist() == [1, 1, 1, 0, 0]


def test_cue_lines_are_found_from_words_and_read_where_case_folding_is_odd():
    lines = ["Share this", "shared", "ſhare", "nothing here", "İmage", "\U0001F600 share", "SHARE"]
    assert "share" in cues.load_cues("chrome")
    chars = features._Chars.of(lines)
    found = set(chars.cue_lines("chrome").tolist())
    # "Share" and "SHARE" by their words; the long s matches "s" case-insensitively,
    # "İ" lower-cases to two characters, the emoji is beyond the BMP: those lines are read
    assert {0, 2, 4, 5, 6} <= found
    assert 3 not in found
    assert cues._cue_key_words("chrome") is not None
    assert chars.cue_lines("no such list") is None


def test_repetition_features_of_a_batch_that_crashed_numpys_string_sort(corpus_dir):
    """20 pages of 100 consecutive gn1 lines, as the million-line check in
    docs/cli.md builds them: numbering their texts with np.unique of a
    StringDType array killed the process (numpy 2.4.6's default string sort).
    Run apart, so that a crash fails this test instead of ending the session."""
    import subprocess
    import sys

    code = f"""
from lineclf.document import Document
from lineclf.features import batch_features
from lineclf.io import read_labelled_corpus

units = [u for doc in read_labelled_corpus([{str(corpus_dir / "gn1")!r}]) for u in doc.units]
start = 35488  # where the batch that crashed began
pages = [Document.from_lines([units[(start + 100 * p + i) % len(units)] for i in range(100)]) for p in range(20)]
print(batch_features(pages).shape)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.startswith("(2000, ")
