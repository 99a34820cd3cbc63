"""Feature families of page structure: comment threads and runs of one shape."""

from __future__ import annotations

import numpy as np
import pytest

from lineclf.document import Document
from lineclf.features.families import _Batch
from lineclf.features.structure import shape_features, thread_features

SENTENCE = "This is a complete sentence with enough words to count as long text."


def family(function, lines: list[str]) -> dict[str, np.ndarray]:
    values, names = function(_Batch.of([Document.from_lines(lines)]))
    assert values.shape == (sum(1 for line in lines if line.strip()), len(names))
    return {name: values[:, k] for k, name in enumerate(names)}


@pytest.mark.parametrize(
    "line", ["Roscoe says:", "Michael F Dougherty says:", "Antworten", "Anna schrieb:", "3 hours ago", "vor 2 Tagen"]
)
def test_post_markers(line):
    f = family(thread_features, [SENTENCE, line, SENTENCE])
    assert f["since_marker"].tolist() == [pytest.approx(np.log1p(50)), 0.0, pytest.approx(np.log1p(1))]
    assert f["after_first_marker"].tolist() == [0, 1, 1]


def test_words_inside_running_text_are_no_marker():
    f = family(thread_features, [SENTENCE, "He says: the report is wrong, and we like it very much indeed today.", SENTENCE])
    assert f["page_markers"].tolist() == [0, 0, 0]
    assert f["cue_thread"][1] >= 1  # the cues are there, but they are not most of the line


def test_first_marker_tells_a_forum_from_an_article_with_comments():
    forum = family(thread_features, ["Thread title", "anna wrote:", SENTENCE, "bob wrote:", SENTENCE, SENTENCE])
    article = family(thread_features, ["Title", SENTENCE, SENTENCE, SENTENCE, "Comments", "anna says:", SENTENCE])
    assert forum["first_marker_pos"][0] < article["first_marker_pos"][0]
    assert forum["markers_before"].tolist() == pytest.approx(np.log1p([0, 0, 1, 1, 2, 2]).tolist())


def test_no_marker_on_a_page():
    f = family(thread_features, ["Home", SENTENCE, SENTENCE])
    assert f["first_marker_pos"].tolist() == [1, 1, 1]
    assert f["after_first_marker"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("line", ["- eggs", "• 200 g flour", "1. Preheat the oven.", "2) Stir", "a) first"])
def test_list_items(line):
    assert family(shape_features, [line])["bullet"].tolist() == [1]


@pytest.mark.parametrize("line", ["-5 degrees", "1.5 million people", "Home", "2024 was a good year."])
def test_not_list_items(line):
    assert family(shape_features, [line])["bullet"].tolist() == [0]


@pytest.mark.parametrize("line", ["x = compute(a, b);", "if (x) {", "}", "$ pip install lineclf", "print(data)", "<div class=\"a\">"])
def test_code(line):
    assert family(shape_features, [line])["code"][0] >= 1


@pytest.mark.parametrize("line", ["Home", SENTENCE, "Mehr zum Thema"])
def test_not_code(line):
    assert family(shape_features, [line])["code"][0] == 0


def test_runs_of_one_shape():
    lines = [SENTENCE, "- eggs", "- milk", "- flour", "- sugar", SENTENCE]
    f = family(shape_features, lines)
    assert f["shape_run"].tolist() == pytest.approx(np.log1p([0, 3, 3, 3, 3, 0]).tolist())
    assert f["shape_run_pos"].tolist() == pytest.approx([0, 0, 1 / 3, 2 / 3, 1, 0])
    assert f["shape_run_short"].tolist() == [0, 1, 1, 1, 1, 0]


def test_runs_stop_at_the_document_edge():
    docs = [Document.from_lines(["Home", "News"]), Document.from_lines(["Sport", "Wetter"])]
    values, names = shape_features(_Batch.of(docs))
    assert values[:, names.index("shape_run")].tolist() == pytest.approx(np.log1p([1, 1, 1, 1]).tolist())


@pytest.mark.parametrize("function", [thread_features, shape_features])
def test_rows_do_not_depend_on_the_other_documents(function):
    pages = [
        ["Home", SENTENCE, "anna says:", SENTENCE, "- a", "- b"],
        ["x = 1;", "3 hours ago", "Antworten"],
        [],
        ["• one", "• two", SENTENCE],
    ]
    docs = [Document.from_lines(lines) for lines in pages]
    together, _ = function(_Batch.of(docs))
    # (the features of a batch without lines are never asked for)
    alone = [function(_Batch.of([doc]))[0] for doc in docs if doc.n_units]
    assert np.array_equal(together, np.vstack(alone))
