"""lineclf._native, the C loops of prediction, against what they replace; and
labelling with a model file imports neither scikit-learn nor scipy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import sparse
from scipy.special import expit as scipy_expit

from conftest import SEED_TXT
from lineclf._native import csr_dot, expit
from lineclf.labels import LABELS
from lineclf.model import load_predictor


def test_expit_is_scipys_bit_for_bit():
    values = np.random.default_rng(0).normal(scale=30, size=100_000)
    values[:6] = [np.inf, -np.inf, 800.0, -800.0, 0.0, -0.0]
    got = values.copy()
    expit(got)
    np.testing.assert_array_equal(got, scipy_expit(values))


def test_csr_dot_is_scipys_product_bit_for_bit():
    rng = np.random.default_rng(1)
    # with a row without entries, which stays zero
    matrix = sparse.vstack([sparse.random(299, 500, density=0.05, random_state=2), sparse.csr_matrix((1, 500))], format="csr")
    weights = rng.normal(size=(500, 5))
    out = np.zeros((300, 5))
    csr_dot(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data, weights, out, 500, 5)
    np.testing.assert_array_equal(out, matrix @ weights)


def test_csr_dot_refuses_indices_outside_the_weights():
    out = np.zeros((1, 2))
    indptr, data = np.array([0, 1], dtype=np.int64), np.ones(1)
    for column in (3, -1):
        try:
            csr_dot(indptr, np.array([column], dtype=np.int32), data, np.ones((3, 2)), out, 3, 2)
        except ValueError as exc:
            assert "out of range" in str(exc)
        else:
            raise AssertionError(f"column {column} was accepted")


def test_a_saved_predictor_labels_as_the_classifier(model_file, tiny_model, training_docs):
    for got, want in zip(load_predictor(model_file).predict_proba(training_docs), tiny_model.predict_proba(training_docs)):
        np.testing.assert_array_equal(got, want)


def test_labelling_imports_neither_scikit_learn_nor_scipy(model_file):
    """What keeps `lineclf predict` starting in well under a second: the model
    file holds arrays, and labelling needs numpy and lineclf's C loops only."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['lineclf', 'predict', {str(SEED_TXT)!r}, '--model', {str(model_file)!r}]\n"
        "try:\n    runpy.run_module('lineclf', run_name='__main__')\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy'))\n"
        "print('IMPORTED', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "IMPORTED []" in done.stderr, done.stderr[-2000:]
    labelled = [line for line in done.stdout.splitlines() if line.split("\t")[0] in LABELS]
    assert len(labelled) == len([line for line in SEED_TXT.read_text("utf-8").splitlines() if line.strip()])
