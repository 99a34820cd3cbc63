"""The shipped default model on the German example page."""

from __future__ import annotations

import pytest

from conftest import SEED_TXT, labels_of_tsv_output, run_cli
from lineclf.model import default_model_path


@pytest.fixture(scope="module")
def shipped_model():
    path = default_model_path()
    if not path.is_file():
        pytest.skip(f"the default model {path} has not been trained and committed yet")
    return path


def _shipped_labels():
    result = run_cli("predict", SEED_TXT)  # no --model: the shipped one
    assert result.exit_code == 0, (result.output, result.exception)
    return labels_of_tsv_output(result.stdout_bytes.decode("utf-8"), SEED_TXT.read_text("utf-8"))


def test_default_model_labels_every_line_of_the_german_example(shipped_model):
    # labels_of_tsv_output also checks every line's text comes back unchanged
    assert len(_shipped_labels()) == 24


def test_default_model_labels_the_german_example(shipped_model, seed_doc):
    labels = _shipped_labels()
    agree = sum(a == b for a, b in zip(labels, seed_doc.labels))
    assert agree >= 21, f"only {agree} of 24 labels agree with data/labels/seed-de.tsv: {labels}"


def test_default_model_has_every_parameter_of_this_version(shipped_model):
    # a model file written before a parameter was added would break get_params and clone
    from sklearn.base import clone

    from lineclf.model import LineClassifier, load_model

    model = load_model()
    assert set(model.get_params()) == set(LineClassifier().get_params())
    assert clone(model).get_params() == model.get_params()
