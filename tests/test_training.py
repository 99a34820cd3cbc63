"""train_model and predict_paths: the library calls behind `lineclf train` and `lineclf predict`."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import SEED_TXT, labels_of_tsv_output, synthetic_pages, tiny_estimator, write_bytes, write_labelled_dir
from lineclf.errors import UsageError
from lineclf.labels import CONTENT_LABELS
from lineclf.model import load_bundle
from lineclf.labelling import plan_outputs, predict_paths
from lineclf.training import train_model, write_json


def test_train_model_without_folds_saves_metadata(tmp_path, labelled_dir, training_docs):
    path = tmp_path / "m.joblib"
    result = train_model([labelled_dir], path, folds=0, estimator=tiny_estimator())
    assert result.reports == {} and result.folds == 0
    metadata = load_bundle(path)["metadata"]
    assert metadata["trained_on"] == {
        "labelled": {"pages": len(training_docs), "lines": sum(d.n_units for d in training_docs), "weight": 1.0}
    }
    assert metadata["cross_validation"]["folds"] == 0


def test_train_model_groups_folds_by_site_from_manifest(tmp_path):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "data", pages)
    manifest = write_bytes(tmp_path, "m.tsv", "".join(f"{d.name}\t{d.site}\n" for d in pages).encode())
    result = train_model([tmp_path / "data"], tmp_path / "m.joblib", [manifest], folds=5, estimator=tiny_estimator())
    assert result.grouped_by == "site"
    assert result.folds == 3  # three sites
    assert result.reports["all"].confusion.sum() == sum(d.n_units for d in pages)


def test_train_model_reports_each_data_argument(tmp_path):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "first", pages[:3])
    write_labelled_dir(tmp_path / "second", pages[3:])
    result = train_model([tmp_path / "first", tmp_path / "second"], tmp_path / "m.joblib", folds=2, estimator=tiny_estimator())
    assert list(result.reports) == ["all", "first", "second"]
    assert result.reports["first"].confusion.sum() == sum(d.n_units for d in pages[:3])
    assert result.reports["second"].confusion.sum() == sum(d.n_units for d in pages[3:])


class _FitSpy(type(tiny_estimator())):
    """A LineClassifier that records what each fit gets: the document weights
    (``seen``) and the labels by page (``labels_seen``)."""

    seen: list = []
    labels_seen: list = []

    def fit(self, documents, labels=None, groups=None, sample_weight=None):
        self.seen.append([(doc.name, w) for doc, w in zip(documents, sample_weight)])
        self.labels_seen.append({doc.name: list(doc.labels) for doc in documents})
        return super().fit(documents, labels, groups, sample_weight)


def test_train_model_weights_each_data_argument_in_every_fit(tmp_path):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "first", pages[:3])
    write_labelled_dir(tmp_path / "second", pages[3:])
    path = tmp_path / "m.joblib"
    _FitSpy.seen = []
    spy = _FitSpy(**tiny_estimator().get_params())
    train_model([tmp_path / "first", tmp_path / "second"], path, folds=2, estimator=spy, data_weights={"second": 2.5})
    assert len(_FitSpy.seen) == 3  # two folds, then the final fit
    for fit in _FitSpy.seen:
        assert fit and all(w == (2.5 if Path(name).parent.name == "second" else 1.0) for name, w in fit)
    assert {k: v["weight"] for k, v in load_bundle(path)["metadata"]["trained_on"].items()} == {"first": 1.0, "second": 2.5}


@pytest.mark.parametrize("weights, message", [({"third": 2.0}, "no such DATA"), ({"second": 0.0}, "greater than 0")])
def test_train_model_refuses_bad_data_weights(tmp_path, weights, message):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "first", pages[:3])
    write_labelled_dir(tmp_path / "second", pages[3:])
    with pytest.raises(UsageError, match=message):
        train_model([tmp_path / "first", tmp_path / "second"], tmp_path / "m.joblib", folds=0, estimator=tiny_estimator(), data_weights=weights)
    assert not (tmp_path / "m.joblib").exists()


def test_train_model_uses_every_data_argument_even_with_the_same_folder_name(tmp_path):
    # e.g. `lineclf train corpus-a/labels corpus-b/labels`
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "a" / "labels", pages[:3])
    write_labelled_dir(tmp_path / "b" / "labels", pages[3:])
    path = tmp_path / "m.joblib"
    train_model([tmp_path / "a" / "labels", tmp_path / "b" / "labels"], path, folds=0, estimator=tiny_estimator())
    trained_on = load_bundle(path)["metadata"]["trained_on"]
    assert sum(source["pages"] for source in trained_on.values()) == len(pages)


def test_write_json(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"name": "Grüße", "n": 1})
    assert json.loads(path.read_text("utf-8")) == {"name": "Grüße", "n": 1}
    assert "Grüße" in path.read_text("utf-8")


# --------------------------------------------------------------------------- predicting


def test_predict_paths_reads_stdin(model_file, monkeypatch):
    dump = "Home\n\nA sentence of body text.\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(dump.encode()), encoding="utf-8"))
    ((text, target),) = list(predict_paths(["-"], model_file))
    assert target is None
    assert len(labels_of_tsv_output(text, dump)) == 2


def test_predict_paths_writes_targets(model_file, tmp_path):
    targets = plan_outputs([SEED_TXT], tmp_path / "out", ".tsv")
    ((text, target),) = list(predict_paths([SEED_TXT], model_file, targets=targets))
    assert target == tmp_path / "out" / "seed-de.tsv"
    assert target.read_text("utf-8") == text


def test_plan_outputs_refuses_collisions_before_writing(tmp_path):
    first = write_bytes(tmp_path / "a", "page.txt", b"x\n")
    second = write_bytes(tmp_path / "b", "page.txt", b"y\n")
    with pytest.raises(UsageError, match="would both be written"):
        plan_outputs([first, second], tmp_path / "out", ".tsv")
    assert not (tmp_path / "out").exists()


def test_train_model_learns_from_partial_labels_and_scores_only_full_ones(tmp_path):
    pages = synthetic_pages()
    partial = [
        page.with_labels(["content" if label in CONTENT_LABELS else "noise" for label in page.labels])
        for page in pages[:2]
    ]
    write_labelled_dir(tmp_path / "full", pages[2:])
    write_labelled_dir(tmp_path / "partial", [replace(p, name=f"partial{i}") for i, p in enumerate(partial)])
    result = train_model([tmp_path / "full", tmp_path / "partial"], tmp_path / "m.joblib", folds=2, estimator=tiny_estimator())
    assert list(result.reports) == ["all", "full"]
    assert result.reports["all"].confusion.sum() == sum(d.n_units for d in pages[2:])
    assert result.pages == len(pages)


def test_evaluate_refuses_partial_labels(tmp_path):
    from conftest import assert_clean_error, run_cli

    page = synthetic_pages()[0]
    write_labelled_dir(tmp_path / "partial", [page.with_labels(["noise"] * page.n_units)])
    message = assert_clean_error(run_cli("evaluate", tmp_path / "partial"))
    assert "partial label 'noise' (one of teaser, chrome) can be trained on, not scored" in message


def test_train_model_relabels_one_data_argument_for_training_only(tmp_path):
    pages = synthetic_pages()
    write_labelled_dir(tmp_path / "first", pages[:3])
    write_labelled_dir(tmp_path / "second", pages[3:])
    path = tmp_path / "m.joblib"
    _FitSpy.seen, _FitSpy.labels_seen = [], []
    spy = _FitSpy(**tiny_estimator().get_params())
    result = train_model(
        [tmp_path / "first", tmp_path / "second"], path, folds=2, estimator=spy, relabel={"second": {"chrome": "noise"}}
    )
    # two folds, then the final fit (each after its guide's fit on the fully labelled pages)
    assert sum(any(Path(name).parent.name == "second" for name in fit) for fit in _FitSpy.labels_seen) == 3
    for fit in _FitSpy.labels_seen:
        for name, labels in fit.items():
            if Path(name).parent.name == "second":
                assert "noise" in labels and "chrome" not in labels
            else:
                assert "chrome" in labels and "noise" not in labels
    # scored against the labels as written: every line of both, chrome included
    assert list(result.reports) == ["all", "first", "second"]
    assert result.reports["second"].support[-1] == sum(p.labels.count("chrome") for p in pages[3:])
    trained_on = load_bundle(path)["metadata"]["trained_on"]
    assert trained_on["second"]["relabelled"] == {"chrome": "noise"} and "relabelled" not in trained_on["first"]


@pytest.mark.parametrize(
    "item, message",
    [
        ("second:chrome", "expected DATA:LABEL=NEW"),
        ("chrome=noise", "expected DATA:LABEL=NEW"),
        ("second:Chrome=noise", "'Chrome' is not one of"),
        ("second:chrome=ads", "'ads' is neither a label nor a partial label"),
    ],
)
def test_parse_relabel_refuses_what_it_cannot_read(item, message):
    from lineclf.training import parse_relabel

    with pytest.raises(UsageError, match=message):
        parse_relabel(item)


def test_parse_relabel_reads_data_label_and_new():
    from lineclf.training import parse_relabel

    assert parse_relabel("gn1:chrome=noise") == ("gn1", "chrome", "noise")
    assert parse_relabel("c:/corpus:teaser=chrome") == ("c:/corpus", "teaser", "chrome")


def test_train_model_refuses_relabelling_unknown_data(tmp_path):
    write_labelled_dir(tmp_path / "first", synthetic_pages())
    with pytest.raises(UsageError, match="no such DATA"):
        train_model([tmp_path / "first"], tmp_path / "m.joblib", folds=0, estimator=tiny_estimator(),
                    relabel={"third": {"chrome": "noise"}})
    assert not (tmp_path / "m.joblib").exists()
