"""Scores: a tiny hand-computed example, reports as dict and text, cross-validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import tiny_estimator
from lineclf.document import Document
from lineclf.errors import UsageError
from lineclf.labels import LABELS
from lineclf.evaluation import Report, cross_val_predict, document_groups, evaluate

# true:      body  body  body   chrome chrome headline
# predicted: body  body  chrome chrome body   headline
EXPECTED = ["body", "body", "body", "chrome", "chrome", "headline"]
PREDICTED = ["body", "body", "chrome", "chrome", "body", "headline"]


@pytest.fixture
def report() -> Report:
    return Report.from_labels(EXPECTED, PREDICTED)


def test_confusion_rows_true_columns_predicted(report):
    assert report.labels == LABELS  # body, headline, caption, teaser, chrome
    assert report.confusion.tolist() == [
        [2, 0, 0, 0, 1],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [1, 0, 0, 0, 1],
    ]


def test_per_label_precision_recall_f1(report):
    # body: 2 of 3 predicted are body, 2 of 3 body found; chrome: 1 of 2 both ways
    assert report.precision == pytest.approx([2 / 3, 1, 0, 0, 1 / 2])
    assert report.recall == pytest.approx([2 / 3, 1, 0, 0, 1 / 2])
    assert report.f1 == pytest.approx([2 / 3, 1, 0, 0, 1 / 2])
    assert report.support.tolist() == [3, 1, 0, 0, 2]


def test_precision_and_recall_differ_when_errors_are_one_sided():
    r = Report.from_labels(["body", "body", "chrome"], ["body", "chrome", "chrome"])
    assert r.precision[LABELS.index("body")] == pytest.approx(1.0)
    assert r.recall[LABELS.index("body")] == pytest.approx(0.5)
    assert r.label_f1("body") == pytest.approx(2 / 3)
    assert r.precision[LABELS.index("chrome")] == pytest.approx(0.5)
    assert r.recall[LABELS.index("chrome")] == pytest.approx(1.0)


def test_summary_scores(report):
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.label_f1("body") == pytest.approx(2 / 3)
    # macro over labels that occur (body, headline, chrome); caption/teaser are absent
    assert report.macro_f1 == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    # content (body, headline, caption) vs rest: 3 hits, 4 true, 4 predicted
    assert report.content_f1 == pytest.approx(2 * 3 / (4 + 4))


def test_absent_label_scores_zero_not_nan(report):
    assert report.label_f1("caption") == 0.0
    assert np.isfinite(report.precision).all() and np.isfinite(report.f1).all()


def test_empty_report():
    r = Report.from_labels([], [])
    assert r.accuracy == 0.0 and r.macro_f1 == 0.0 and r.content_f1 == 0.0
    assert r.confusion.sum() == 0


def test_perfect_report():
    r = Report.from_labels(list(LABELS), list(LABELS))
    assert r.accuracy == r.macro_f1 == r.content_f1 == 1.0


def test_to_dict(report):
    d = report.to_dict()
    json.dumps(d)  # plain JSON types only
    assert d["lines"] == 6
    assert d["accuracy"] == 0.6667
    assert d["macro_f1"] == 0.7222
    assert d["body_f1"] == 0.6667
    assert d["content_f1"] == 0.75
    assert d["per_label"]["chrome"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert d["per_label"]["caption"]["support"] == 0
    assert d["confusion"]["labels"] == list(LABELS)
    assert d["confusion"]["rows_true_cols_predicted"][0] == [2, 0, 0, 0, 1]


def test_to_text(report):
    text = report.to_text("my title")
    lines = text.splitlines()
    assert lines[0] == "my title"
    assert lines[1].split() == ["label", "precision", "recall", "f1", "lines"]
    assert lines[2].split() == ["body", "0.667", "0.667", "0.667", "3"]
    assert "macro-F1 0.722" in text and "body F1 0.667" in text
    assert "accuracy 0.667" in text and "lines 6" in text
    assert lines[-1].split() == ["chrome", "1", "0", "0", "0", "1"]


def test_to_text_without_title_starts_with_header(report):
    assert report.to_text().splitlines()[0].startswith("label")


def test_from_documents_flattens_documents():
    docs = [
        Document.from_lines(["a", "", "b"], labels=["body", "chrome"]),
        Document.from_lines(["c"], labels=["headline"]),
    ]
    r = Report.from_documents(docs, [["body", "body"], ["headline"]])
    assert r.confusion.sum() == 3
    assert r.accuracy == pytest.approx(2 / 3)


def test_from_labels_refuses_unknown_label():
    with pytest.raises(KeyError):
        Report.from_labels(["body"], ["boilerplate"])


# --------------------------------------------------------------------------- with a model


def test_evaluate_scores_a_model(tiny_model, training_docs):
    r = evaluate(tiny_model, training_docs)
    assert r.confusion.sum() == sum(d.n_units for d in training_docs)
    assert r.accuracy == pytest.approx(tiny_model.score(training_docs))


def test_document_groups_prefer_site():
    docs = [Document.from_lines(["a"], name="p1", site="s"), Document.from_lines(["a"], name="p2")]
    assert document_groups(docs) == ["s", "p2"]


def test_cross_val_predict_needs_two_groups(training_docs):
    same_site = [Document(d.name, d.lines, d.line_ends, d.labels, site="one.example") for d in training_docs[:3]]
    with pytest.raises(UsageError, match="at least two sites"):
        cross_val_predict(tiny_estimator(), same_site, n_splits=3)


def test_cross_val_predict_predicts_every_page(training_docs):
    done = []
    predictions = cross_val_predict(
        tiny_estimator(), training_docs, n_splits=2, progress=lambda k, n: done.append((k, n))
    )
    assert [len(p) for p in predictions] == [d.n_units for d in training_docs]
    assert done == [(1, 2), (2, 2)]
