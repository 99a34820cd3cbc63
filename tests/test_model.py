"""LineClassifier as a scikit-learn estimator, and model files."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from conftest import SEED_TXT, synthetic_page, tiny_estimator
from lineclf.features import SiteCounts
from lineclf.document import Document
from lineclf.errors import DataFormatError, ModelFileError, UsageError
from lineclf.io import read_dump
from lineclf.labels import CONTENT_LABELS, LABELS
from lineclf.model.passes import encode_labels as _encode
from lineclf.model import load_predictor
from lineclf.model import (
    DEFAULT_MODEL_NAME,
    shift_priors,
    LineClassifier,
    default_model_path,
    load_bundle,
    load_model,
    predict_documents,
    save_model,
)

# --------------------------------------------------------------------------- estimator contract


def test_get_params_returns_constructor_arguments():
    params = tiny_estimator(alpha=1e-3, context=(-1, 1)).get_params()
    assert params["max_iter"] == 15 and params["inner_folds"] == 2 and params["hash_features"] == 2**12
    assert params["alpha"] == 1e-3 and params["context"] == (-1, 1)
    assert set(params) == {
        "context", "hash_features", "alpha", "max_iter", "learning_rate", "max_leaf_nodes",
        "l2_regularization", "class_weight_power", "second_pass", "inner_folds", "site_repetition", "partial_weight", "partial_resolution",
            "label_bias", "random_state",
    }


def test_set_params_changes_params_and_returns_self():
    model = LineClassifier()
    assert model.set_params(max_iter=7, second_pass=False) is model
    assert model.max_iter == 7 and model.second_pass is False


def test_set_params_refuses_unknown_parameter():
    with pytest.raises(ValueError):
        LineClassifier().set_params(no_such_param=1)


def test_clone_of_fitted_model_is_unfitted_with_equal_params(tiny_model):
    copy = clone(tiny_model)
    assert copy is not tiny_model
    assert copy.get_params() == tiny_model.get_params()
    assert not hasattr(copy, "tree_model_")
    with pytest.raises(NotFittedError):
        copy.predict_proba([Document.from_lines(["Home"])])


def test_unfitted_model_refuses_to_predict():
    with pytest.raises(NotFittedError):
        LineClassifier().predict([Document.from_lines(["Home"])])


def test_fit_returns_self_and_sets_trailing_underscore_attributes(training_docs):
    model = tiny_estimator()
    before = set(vars(model))
    assert model.fit(training_docs) is model
    learned = set(vars(model)) - before
    assert {"tree_model_", "linear_model_", "scaler_", "classes_"} <= learned
    assert all(name.endswith("_") for name in learned)
    assert list(model.classes_) == list(LABELS)


def test_fit_does_not_change_params(training_docs):
    model = tiny_estimator()
    params = model.get_params()
    model.fit(training_docs)
    assert model.get_params() == params


def test_fit_is_deterministic(training_docs):
    doc = read_dump(SEED_TXT)
    first = tiny_estimator().fit(training_docs).predict_proba([doc])[0]
    second = tiny_estimator().fit(training_docs).predict_proba([doc])[0]
    np.testing.assert_array_equal(first, second)


def test_fit_with_explicit_labels_and_groups(training_docs):
    unlabelled = [Document(d.name, d.lines, d.line_ends) for d in training_docs]
    labels = [d.labels for d in training_docs]
    model = tiny_estimator().fit(unlabelled, labels, groups=[d.site or d.name for d in training_docs])
    assert len(model.predict(unlabelled)) == len(training_docs)


def test_fit_without_second_pass(training_docs):
    model = tiny_estimator(second_pass=False).fit(training_docs)
    proba = model.predict_proba(training_docs[:1])[0]
    assert proba.shape == (training_docs[0].n_units, len(LABELS))


def test_fit_refuses_documents_without_labels():
    with pytest.raises(DataFormatError, match="no labels"):
        tiny_estimator().fit([Document.from_lines(["Home", "Text."], name="bare")])


def test_fit_refuses_documents_without_lines():
    with pytest.raises(DataFormatError, match="no labelled lines"):
        tiny_estimator().fit([Document.from_lines(["", " "], labels=[])])


def test_predict_gives_one_label_per_non_blank_line(tiny_model):
    docs = [
        read_dump(SEED_TXT),
        Document.from_lines(["", "Home", "", "", "A sentence that is long enough to be body text here.", " "]),
        Document.from_lines(["Only one line"]),
    ]
    predictions = tiny_model.predict(docs)
    assert len(predictions) == len(docs)
    for doc, labels in zip(docs, predictions):
        assert len(labels) == doc.n_units
        assert set(labels) <= set(LABELS)


def test_predict_proba_rows_are_distributions(tiny_model, training_docs):
    for proba in tiny_model.predict_proba(training_docs):
        assert proba.shape[1] == len(LABELS)
        assert np.all(proba >= 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_predict_labels_are_argmax_of_proba(tiny_model, training_docs):
    for labels, proba in zip(tiny_model.predict(training_docs), tiny_model.predict_proba(training_docs)):
        assert list(labels) == [LABELS[k] for k in proba.argmax(axis=1)]


def test_predict_of_a_document_does_not_depend_on_its_batch(tiny_model, training_docs):
    doc = read_dump(SEED_TXT)
    alone = tiny_model.predict_proba([doc])[0]
    batched = tiny_model.predict_proba(training_docs[:3] + [doc])[-1]
    np.testing.assert_allclose(alone, batched)


def test_tiny_model_learns_its_training_pages(tiny_model, training_docs):
    assert tiny_model.score(training_docs) > 0.9


def test_tiny_model_generalises_to_an_unseen_synthetic_page(tiny_model):
    page = synthetic_page(9, "delta.example")
    predicted = tiny_model.predict([page])[0]
    assert np.mean(predicted == np.array(page.labels)) >= 0.8


def test_predict_on_no_documents(tiny_model):
    assert tiny_model.predict_proba([]) == []
    assert tiny_model.predict([]) == []


@pytest.mark.parametrize("lines", [[], ["", "  ", "\t"]], ids=["empty", "blank-only"])
def test_predict_on_a_document_without_units(tiny_model, lines):
    (proba,) = tiny_model.predict_proba([Document.from_lines(lines)])
    assert proba.shape == (0, len(LABELS))
    (labels,) = tiny_model.predict([Document.from_lines(lines)])
    assert len(labels) == 0


def test_predict_mixed_batch_with_an_empty_document(tiny_model):
    doc = Document.from_lines(["Home", "", "Some sentence of text that goes on."])
    empty = Document.from_lines([])
    first, second = tiny_model.predict_proba([empty, doc])
    assert first.shape == (0, len(LABELS))
    np.testing.assert_allclose(second, tiny_model.predict_proba([doc])[0])


def test_predict_documents_yields_document_labels_and_proba(tiny_model):
    docs = [read_dump(SEED_TXT), Document.from_lines([""])]
    results = list(predict_documents(tiny_model, docs))
    assert [r[0] for r in results] == docs
    assert len(results[0][1]) == 24 and results[0][2].shape == (24, 5)
    assert len(results[1][1]) == 0


def test_pickle_round_trip_gives_identical_proba(tiny_model, training_docs):
    copy = pickle.loads(pickle.dumps(tiny_model))
    for a, b in zip(tiny_model.predict_proba(training_docs), copy.predict_proba(training_docs)):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- model files


def test_save_and_load_model_round_trip(model_file, tiny_model, training_docs):
    loaded = load_model(model_file)
    assert isinstance(loaded, LineClassifier)
    assert loaded.get_params() == tiny_model.get_params()
    for a, b in zip(tiny_model.predict_proba(training_docs), loaded.predict_proba(training_docs)):
        np.testing.assert_array_equal(a, b)


def test_model_file_bundle_carries_metadata(model_file):
    bundle = load_bundle(model_file)
    assert bundle["metadata"] == {"purpose": "tests"}
    assert bundle["labels"] == list(LABELS)
    assert bundle["sklearn_version"] == sklearn.__version__
    assert bundle["params"]["max_iter"] == 15


def test_save_model_refuses_unfitted_model(tmp_path):
    with pytest.raises(NotFittedError):
        save_model(tiny_estimator(), tmp_path / "m.joblib")
    assert list(tmp_path.iterdir()) == []


def test_save_model_leaves_no_temporary_files(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "m.joblib")
    assert path == tmp_path / "m.joblib"
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]


def test_default_model_path_points_at_the_shipped_model():
    path = default_model_path()
    assert path.name == DEFAULT_MODEL_NAME
    assert path.parent.name == "models"


def test_load_model_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.joblib")


def test_load_model_directory(tmp_path):
    with pytest.raises(ModelFileError):
        load_model(tmp_path)


def test_load_model_truncated_file(tmp_path, model_file):
    data = model_file.read_bytes()
    path = tmp_path / "truncated.joblib"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a readable model file"):
        load_model(path)


@pytest.mark.parametrize("data", [b"", b"this is not a model\n", b"\x80\x05garbage", b"\x00" * 64])
def test_load_model_non_joblib_file(tmp_path, data):
    path = tmp_path / "junk.joblib"
    path.write_bytes(data)
    with pytest.raises(ModelFileError):
        load_model(path)


@pytest.mark.parametrize("content", [{"format": "something-else"}, {"a": 1}, [1, 2, 3], "model"])
def test_load_model_joblib_file_holding_something_else(tmp_path, content):
    path = tmp_path / "other.joblib"
    joblib.dump(content, path)
    with pytest.raises(ModelFileError, match="not a lineclf model file"):
        load_model(path)


def _altered_bundle(model_file, tmp_path, **changes):
    bundle = joblib.load(model_file)
    bundle.update(changes)
    path = tmp_path / "altered.joblib"
    joblib.dump(bundle, path)
    return path


def _protocol_3_bundle(model_file, tmp_path, tiny_model, **changes):
    """The tiny model as lineclf wrote it before protocol 4: the pickled estimator, no predictor."""
    bundle = joblib.load(model_file)
    del bundle["predictor"]
    bundle.update(protocol=3, estimator=tiny_model, **changes)
    path = tmp_path / "protocol-3.joblib"
    joblib.dump(bundle, path)
    return path


def test_a_protocol_4_file_holds_no_scikit_learn_object_and_loads_under_any_release(
    tmp_path, model_file, training_docs, tiny_model, monkeypatch
):
    from joblib import numpy_pickle

    named: set[str] = set()
    find_class = numpy_pickle.NumpyUnpickler.find_class

    def recording(self, module, name):
        named.add(module)
        return find_class(self, module, name)

    monkeypatch.setattr(numpy_pickle.NumpyUnpickler, "find_class", recording)
    joblib.load(model_file)
    assert named and not any(module.split(".")[0] in ("sklearn", "scipy") for module in named), named
    path = _altered_bundle(model_file, tmp_path, sklearn_version="0.24.2")
    for got, want in zip(load_model(path).predict_proba(training_docs), tiny_model.predict_proba(training_docs)):
        np.testing.assert_array_equal(got, want)


def test_load_model_reads_protocol_3_files(tmp_path, model_file, tiny_model, training_docs):
    path = _protocol_3_bundle(model_file, tmp_path, tiny_model)
    for load in (load_model, load_predictor):
        for got, want in zip(load(path).predict_proba(training_docs), tiny_model.predict_proba(training_docs)):
            np.testing.assert_array_equal(got, want)


def test_load_model_refuses_a_protocol_3_file_of_other_sklearn_version(tmp_path, model_file, tiny_model):
    path = _protocol_3_bundle(model_file, tmp_path, tiny_model, sklearn_version="0.24.2")
    with pytest.raises(ModelFileError, match=r"scikit-learn 0\.24\.2"):
        load_model(path)


def test_load_model_accepts_a_protocol_3_file_of_other_sklearn_patch_release(tmp_path, model_file, tiny_model):
    major, minor = sklearn.__version__.split(".")[:2]
    path = _protocol_3_bundle(model_file, tmp_path, tiny_model, sklearn_version=f"{major}.{minor}.99")
    assert isinstance(load_model(path), LineClassifier)


def test_load_model_refuses_other_protocol(tmp_path, model_file):
    path = _altered_bundle(model_file, tmp_path, protocol=99)
    with pytest.raises(ModelFileError, match="protocol 99"):
        load_model(path)


def test_load_model_refuses_other_labels(tmp_path, model_file):
    path = _altered_bundle(model_file, tmp_path, labels=["good", "bad"])
    with pytest.raises(ModelFileError, match="does not hold a lineclf classifier"):
        load_model(path)


@pytest.mark.parametrize("protocol", [3, 4])
def test_load_model_refuses_bundle_with_other_estimator(tmp_path, model_file, protocol):
    field = "predictor" if protocol == 4 else "estimator"
    path = _altered_bundle(model_file, tmp_path, protocol=protocol, **{field: {"not": "a model"}})
    for load in (load_model, load_predictor):
        with pytest.raises(ModelFileError, match="does not hold a lineclf classifier"):
            load(path)


def test_model_file_errors_name_the_file(tmp_path):
    path = tmp_path / "junk.joblib"
    path.write_bytes(b"junk")
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value).startswith(str(path))


# --------------------------------------------------------------------------- partial labels


def _partially_labelled(doc: Document) -> Document:
    """The page with only "is it article text or not" known of each line."""
    return doc.with_labels(["content" if label in CONTENT_LABELS else "noise" for label in doc.labels])


def test_partial_labels_become_one_of_the_labels_they_stand_for(training_docs):
    partial = [_partially_labelled(synthetic_page(i, "partial.example")) for i in range(3)]
    documents = [*training_docs, *partial]
    model = tiny_estimator().fit(documents)
    X, T, _ = model.layout(documents)
    y, allowed = _encode([doc.labels for doc in documents])
    resolved = model._resolve_partial(model.linear_input(X, T), y, allowed, np.ones(len(y)))
    full = y >= 0
    assert (resolved[full] == y[full]).all() and (resolved >= 0).all()
    # each partial line got one of its own labels, and not always the same one
    assert allowed[np.arange(len(y)), resolved].all()
    assert len(set(resolved[~full].tolist())) > 1
    assert all(set(labels) <= set(LABELS) for labels in model.predict(partial))


def test_partial_weight_changes_nothing_without_partial_labels(training_docs):
    one = tiny_estimator(partial_weight=0.3).fit(training_docs)
    other = tiny_estimator(partial_weight=0.9).fit(training_docs)
    for a, b in zip(one.predict_proba(training_docs), other.predict_proba(training_docs)):
        assert np.array_equal(a, b)


def test_partial_lines_count_by_their_weight(training_docs):
    partial = [_partially_labelled(synthetic_page(i, "partial.example")) for i in range(3)]
    light = tiny_estimator(partial_weight=0.01).fit([*training_docs, *partial])
    heavy = tiny_estimator(partial_weight=1.0).fit([*training_docs, *partial])
    assert not np.array_equal(np.vstack(light.predict_proba(partial)), np.vstack(heavy.predict_proba(partial)))


def test_only_partial_labels_are_refused():
    partial = [_partially_labelled(synthetic_page(i, "partial.example")) for i in range(3)]
    with pytest.raises(DataFormatError, match="only partial labels"):
        tiny_estimator().fit(partial)
    with pytest.raises(DataFormatError, match="unknown label 'bodyy'"):
        page = synthetic_page(0, "a")
        tiny_estimator().fit([page.with_labels(["bodyy"] * page.n_units)])


def test_partial_labels_resolved_by_the_whole_model(training_docs):
    partial = [_partially_labelled(synthetic_page(i, "partial.example")) for i in range(3)]
    documents = [*training_docs, *partial]
    model = tiny_estimator(partial_resolution="model")
    y, allowed = _encode([doc.labels for doc in documents])
    offsets = np.concatenate(([0], np.cumsum([doc.n_units for doc in documents])))
    weight = np.ones(len(documents))
    resolved = model._resolve_partial_by_model(documents, [doc.site for doc in documents], y, allowed, offsets, weight)
    full = y >= 0
    assert (resolved[full] == y[full]).all()
    assert allowed[np.arange(len(y)), resolved].all()
    # the guide is the whole model fitted on the full pages: it labels the
    # partial pages as that model does, within what their labels allow
    guide = tiny_estimator().fit(training_docs)
    expected = np.concatenate(
        [np.where(allowed[a:b], p, -1.0).argmax(axis=1)
         for p, a, b in zip(guide.predict_proba(partial, SiteCounts.of(documents)), offsets[len(training_docs):-1], offsets[len(training_docs) + 1:])]
    )
    assert np.array_equal(resolved[~full], expected)
    fitted = tiny_estimator(partial_resolution="model").fit(documents)
    assert all(set(labels) <= set(LABELS) for labels in fitted.predict(partial))


def test_partial_resolution_must_be_known(training_docs):
    with pytest.raises(ValueError, match="partial_resolution"):
        tiny_estimator(partial_resolution="magic").fit(training_docs)


# --------------------------------------------------------------------------- document weights


def test_unit_sample_weights_change_nothing(training_docs):
    plain = tiny_estimator().fit(training_docs)
    ones = tiny_estimator().fit(training_docs, sample_weight=np.ones(len(training_docs)))
    for a, b in zip(plain.predict_proba(training_docs), ones.predict_proba(training_docs)):
        assert np.array_equal(a, b)


def test_sample_weight_decides_between_pages_that_disagree():
    """Two sites hold the very same pages and label their body lines
    differently: the heavier site's labels win."""
    from dataclasses import replace

    pages = [synthetic_page(i, "a.example") for i in range(10)]
    copies = [
        replace(p, name=f"copy-{p.name}", site="b.example", labels=tuple("chrome" if l == "body" else l for l in p.labels))
        for p in pages
    ]
    is_a = np.repeat([1.0, 0.0], len(pages))
    body = [i for i, label in enumerate(pages[0].labels) if label == "body"]
    assert body, "the synthetic page needs body lines"
    for heavy, expected in ((is_a, "body"), (1 - is_a, "chrome")):
        # one pass: a first pass fitted on one site and applied to the other
        # would hand the trees inverted hints on these deliberately conflicting pages
        model = tiny_estimator(second_pass=False, max_iter=100).fit([*pages, *copies], sample_weight=1 + 9 * heavy)
        for labels in model.predict(pages[:3]):
            assert list(np.asarray(labels)[body]) == [expected] * len(body)


@pytest.mark.parametrize("weight", [[1.0], [-1.0] * 8, [np.nan] * 8, [0.0] * 8])
def test_bad_sample_weights_are_refused(weight):
    pages = [synthetic_page(i, "a.example") for i in range(8)]
    with pytest.raises(UsageError, match="sample_weight"):
        tiny_estimator().fit(pages, sample_weight=weight)


# --------------------------------------------------------------------------- label bias


def test_shift_priors_adds_to_log_probabilities():
    proba = np.array([[0.5, 0.2, 0.1, 0.1, 0.1], [0.05, 0.05, 0.1, 0.2, 0.6]])
    bias = np.array([0.0, 1.0, 0.5, 2.0, -1.0])
    shifted = shift_priors(proba, bias)
    expected = np.exp(np.log(proba) + bias)
    assert np.allclose(shifted, expected / expected.sum(axis=1, keepdims=True))
    assert shift_priors(proba, None) is proba
    assert np.allclose(shift_priors(proba, [3.0] * 5), proba)  # the same offset everywhere changes nothing


@pytest.mark.parametrize("bias", [(1.0, 2.0), (0.0, 0.0, 0.0, np.inf, 0.0)])
def test_bad_label_bias_is_refused_before_fitting(training_docs, bias):
    with pytest.raises(ValueError, match="label_bias"):
        tiny_estimator(label_bias=bias).fit(training_docs)


def test_label_bias_shifts_predictions_of_the_same_trees(training_docs):
    plain = tiny_estimator().fit(training_docs)
    biased = clone(plain).set_params(label_bias=(0.0, 0.0, 0.0, 0.0, 0.0))
    # the same fitted state, a different decision rule
    for name in ("scaler_", "linear_model_", "tree_model_", "linear_pass_", "trees_", "classes_"):
        setattr(biased, name, getattr(plain, name))
    for a, b in zip(plain.predict_proba(training_docs), biased.predict_proba(training_docs)):
        assert np.allclose(a, b)
    biased.set_params(label_bias=(0.0, 0.0, 0.0, 0.0, 50.0))
    assert all((labels == "chrome").all() for labels in biased.predict(training_docs))
    for a, b in zip(plain.predict_proba(training_docs), biased.predict_proba(training_docs)):
        assert np.allclose(b, shift_priors(a, biased.label_bias))


def test_partial_labels_are_resolved_without_the_label_bias(training_docs):
    partial = [_partially_labelled(synthetic_page(i, "partial.example")) for i in range(3)]
    documents = [*training_docs, *partial]
    plain = tiny_estimator(partial_resolution="model").fit(documents)
    biased = tiny_estimator(partial_resolution="model", label_bias=(0.0, 0.0, 0.0, 0.0, 50.0)).fit(documents)
    # same trees (the bias only shifts predictions), so the partial lines were resolved alike
    for a, b in zip(plain.predict_proba(documents), biased.predict_proba(documents)):
        assert np.allclose(shift_priors(a, biased.label_bias), b)


# --------------------------------------------------------------------------- fewer trees


def test_a_model_cut_to_fewer_tree_iterations_is_the_model_fitted_with_that_many(training_docs):
    doc = read_dump(SEED_TXT)
    full = tiny_estimator(max_iter=6).fit(training_docs)
    before = full.predict_proba([doc])[0]
    cut = full.with_tree_iterations(3)
    fitted = tiny_estimator(max_iter=3).fit(training_docs)
    np.testing.assert_array_equal(cut.predict_proba([doc])[0], fitted.predict_proba([doc])[0])
    assert cut.get_params() == fitted.get_params()
    assert cut.tree_model_.n_iter_ == 3
    # the model it was cut from keeps all its trees
    np.testing.assert_array_equal(full.predict_proba([doc])[0], before)
    assert full.tree_model_.n_iter_ == 6 and full.max_iter == 6
    # and the cut copy pickles like any fitted model
    again = pickle.loads(pickle.dumps(cut))
    np.testing.assert_array_equal(again.predict_proba([doc])[0], fitted.predict_proba([doc])[0])


@pytest.mark.parametrize("iterations", [0, 7])
def test_a_model_cannot_be_cut_to_more_tree_iterations_than_it_has_or_none(training_docs, iterations):
    full = tiny_estimator(max_iter=6).fit(training_docs)
    with pytest.raises(ValueError, match="between 1 and 6"):
        full.with_tree_iterations(iterations)
