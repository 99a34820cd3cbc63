"""The lineclf command, run in-process through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_TXT, assert_clean_error, labels_of_tsv_output, run_cli, write_bytes
from lineclf.io import read_labelled_corpus
from lineclf.labels import LABELS
from lineclf.evaluation import evaluate
from lineclf.model import LineClassifier, load_bundle, load_model

DUMP = (
    "Home | News | Sport\n"
    "\n"
    "  Headline with trailing spaces   \n"
    "\t\n"
    "First\u00a0paragraph with no-break spaces, long enough to read as body text.\n"
    "col1\tcol2\tcol3\n"
    "\n"
    "\n"
    "Impressum\n"
    "© 2024 Example"
)


@pytest.fixture
def dump_path(tmp_path: Path) -> Path:
    return write_bytes(tmp_path, "page.txt", DUMP.encode("utf-8"))


def predict_stdout(model_file: Path, *args) -> str:
    result = run_cli("predict", *args, "--model", model_file)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout_bytes.decode("utf-8")


# --------------------------------------------------------------------------- predict


def test_predict_tsv_to_stdout_keeps_every_line(model_file, dump_path):
    out = predict_stdout(model_file, dump_path)
    labels = labels_of_tsv_output(out, DUMP)
    assert len(labels) == 6


def test_predict_keeps_crlf_and_cr_line_ends(model_file, tmp_path):
    dump = "Home\r\n\r\nA long sentence of body text is here.\rFooter\r\n"
    path = write_bytes(tmp_path, "crlf.txt", dump.encode())
    out = predict_stdout(model_file, path)
    assert len(labels_of_tsv_output(out, dump)) == 3


def test_predict_from_stdin(model_file, dump_path):
    result = run_cli("predict", "-", "--model", model_file, input=DUMP.encode("utf-8"))
    assert result.exit_code == 0, result.output
    from_stdin = result.stdout_bytes.decode("utf-8")
    labels_of_tsv_output(from_stdin, DUMP)
    assert from_stdin == predict_stdout(model_file, dump_path)


def test_predict_several_inputs_one_after_another(model_file, dump_path):
    single = predict_stdout(model_file, dump_path)
    seed = predict_stdout(model_file, SEED_TXT)
    assert predict_stdout(model_file, dump_path, SEED_TXT) == single + seed


def test_predict_a_directory_of_dumps(model_file, tmp_path, dump_path):
    folder = tmp_path / "dumps"
    write_bytes(folder, "b.txt", SEED_TXT.read_bytes())
    write_bytes(folder, "a.txt", DUMP.encode())
    write_bytes(folder, "ignored.md", b"not a dump\n")
    assert predict_stdout(model_file, folder) == predict_stdout(model_file, dump_path, SEED_TXT)


def test_predict_jsonl(model_file, dump_path):
    out = predict_stdout(model_file, dump_path, "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    lines = DUMP.split("\n")
    assert [r["line"] for r in records] == [i + 1 for i, text in enumerate(lines) if text.strip()]
    for record in records:
        assert record["text"] == lines[record["line"] - 1]
        assert record["label"] in LABELS
        assert set(record["proba"]) == set(LABELS)
        assert sum(record["proba"].values()) == pytest.approx(1.0, abs=1e-3)
        assert record["label"] == max(record["proba"], key=record["proba"].get)
        assert record["doc"] == str(dump_path)


def test_predict_jsonl_labels_match_tsv(model_file, dump_path):
    tsv_labels = labels_of_tsv_output(predict_stdout(model_file, dump_path), DUMP)
    records = [json.loads(line) for line in predict_stdout(model_file, dump_path, "-f", "jsonl").splitlines()]
    assert [r["label"] for r in records] == tsv_labels


def test_predict_text_with_keep(model_file):
    dump = SEED_TXT.read_text("utf-8")
    labels = labels_of_tsv_output(predict_stdout(model_file, SEED_TXT), dump)
    units = [line for line in dump.split("\n") if line.strip()]
    keep = {"body", "caption"}
    out = predict_stdout(model_file, SEED_TXT, "--format", "text", "--keep", "body,caption")
    expected = [text for text, label in zip(units, labels) if label in keep]
    assert expected, "the tiny model should find body lines in the German example"
    assert [line for line in out.split("\n") if line] == expected


def test_predict_text_keeps_headline_and_body_by_default(model_file):
    default = predict_stdout(model_file, SEED_TXT, "--format", "text")
    explicit = predict_stdout(model_file, SEED_TXT, "--format", "text", "--keep", "headline,body")
    assert default == explicit and default


def test_predict_tsv_with_keep_keeps_blank_lines(model_file, dump_path):
    full = predict_stdout(model_file, dump_path)
    kept = predict_stdout(model_file, dump_path, "--keep", "chrome")
    lines = full.splitlines(keepends=True)
    assert kept == "".join(line for line in lines if not line.strip() or line.startswith("chrome\t"))
    assert kept.count("\n") >= 4  # the four blank lines at least


def test_predict_refuses_unknown_keep_label(model_file, dump_path):
    message = assert_clean_error(run_cli("predict", dump_path, "--model", model_file, "--keep", "Body"))
    assert "unknown label 'Body'" in message


# --------------------------------------------------------------------------- predict --out-dir


def test_out_dir_writes_one_tsv_per_input(model_file, tmp_path, dump_path):
    out_dir = tmp_path / "out"
    result = run_cli("predict", dump_path, SEED_TXT, "--model", model_file, "--out-dir", out_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert sorted(p.name for p in out_dir.iterdir()) == ["page.tsv", "seed-de.tsv"]
    assert (out_dir / "page.tsv").read_text("utf-8") == predict_stdout(model_file, dump_path)
    assert (out_dir / "seed-de.tsv").read_text("utf-8") == predict_stdout(model_file, SEED_TXT)
    assert "wrote 2 file(s)" in result.stderr


def test_out_dir_suffix_follows_format(model_file, tmp_path, dump_path):
    out_dir = tmp_path / "out"
    result = run_cli("predict", dump_path, "-m", model_file, "-o", out_dir, "-f", "jsonl")
    assert result.exit_code == 0, result.output
    assert [p.name for p in out_dir.iterdir()] == ["page.jsonl"]


def test_out_dir_for_stdin_is_named_stdin(model_file, tmp_path):
    out_dir = tmp_path / "out"
    result = run_cli("predict", "-", "-m", model_file, "-o", out_dir, input=DUMP.encode())
    assert result.exit_code == 0, result.output
    labels_of_tsv_output((out_dir / "stdin.tsv").read_text("utf-8"), DUMP)


def test_out_dir_refuses_two_inputs_with_the_same_stem(model_file, tmp_path):
    first = write_bytes(tmp_path / "a", "page.txt", DUMP.encode())
    second = write_bytes(tmp_path / "b", "page.txt", DUMP.encode())
    out_dir = tmp_path / "out"
    result = run_cli("predict", first, second, "--model", model_file, "--out-dir", out_dir)
    message = assert_clean_error(result, exit_code=2)
    assert "page.tsv" in message
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_out_dir_refuses_to_replace_existing_output(model_file, tmp_path, dump_path):
    out_dir = tmp_path / "out"
    existing = write_bytes(out_dir, "page.tsv", b"hand-corrected labels\n")
    result = run_cli("predict", dump_path, "--model", model_file, "--out-dir", out_dir)
    message = assert_clean_error(result, exit_code=2)
    assert "--overwrite" in message
    assert existing.read_bytes() == b"hand-corrected labels\n"
    assert [p.name for p in out_dir.iterdir()] == ["page.tsv"]


def test_out_dir_overwrite_replaces_existing_output(model_file, tmp_path, dump_path):
    out_dir = tmp_path / "out"
    existing = write_bytes(out_dir, "page.tsv", b"old\n")
    result = run_cli("predict", dump_path, "--model", model_file, "--out-dir", out_dir, "--overwrite")
    assert result.exit_code == 0, result.output
    labels_of_tsv_output(existing.read_text("utf-8"), DUMP)


def test_out_dir_refuses_to_overwrite_an_input(model_file, tmp_path):
    folder = tmp_path / "in"
    page = write_bytes(folder, "page.txt", DUMP.encode())
    result = run_cli("predict", page, "-m", model_file, "-o", folder, "-f", "text", "--overwrite")
    assert_clean_error(result, exit_code=2)
    assert page.read_text("utf-8") == DUMP


# --------------------------------------------------------------------------- predict: bad input


def test_predict_missing_input_is_a_usage_error(model_file, tmp_path):
    result = run_cli("predict", tmp_path / "missing.txt", "--model", model_file)
    message = assert_clean_error(result, exit_code=2)
    assert message == f"lineclf: error: {tmp_path / 'missing.txt'}: no such file or directory"
    assert result.stdout == ""


def test_predict_non_utf8_dump(model_file, tmp_path):
    path = write_bytes(tmp_path, "latin1.txt", "Grüße\n".encode("latin-1"))
    message = assert_clean_error(run_cli("predict", path, "--model", model_file))
    assert str(path) in message and "byte 2" in message
    assert message == f"lineclf: error: {path}: byte 2: not UTF-8; convert the file to UTF-8"


@pytest.mark.parametrize("data", [b"text\x00more\n", "Hello\n".encode("utf-16")], ids=["nul", "utf-16"])
def test_predict_binary_or_utf16_dump(model_file, tmp_path, data):
    path = write_bytes(tmp_path, "odd.txt", data)
    assert str(path) in assert_clean_error(run_cli("predict", path, "--model", model_file))


def test_predict_broken_model_file(tmp_path, dump_path):
    model = write_bytes(tmp_path, "broken.joblib", b"\x80\x04 definitely not a model")
    message = assert_clean_error(run_cli("predict", dump_path, "--model", model))
    assert str(model) in message


def test_predict_truncated_model_file(tmp_path, dump_path, model_file):
    data = model_file.read_bytes()
    model = write_bytes(tmp_path, "cut.joblib", data[: len(data) // 3])
    assert_clean_error(run_cli("predict", dump_path, "--model", model))


def test_predict_missing_model_file(tmp_path, dump_path):
    message = assert_clean_error(run_cli("predict", dump_path, "--model", tmp_path / "none.joblib"))
    assert "no such model file" in message


def test_debug_shows_the_real_exception(model_file, tmp_path):
    from lineclf.errors import DataFormatError

    path = write_bytes(tmp_path, "latin1.txt", b"caf\xe9\n")
    result = run_cli("predict", path, "--model", model_file, "--debug")
    assert result.exit_code == 1
    assert isinstance(result.exception, DataFormatError)


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\n"], ids=["empty", "blank-only"])
def test_predict_dump_without_text_lines(model_file, tmp_path, data):
    path = write_bytes(tmp_path, "nothing.txt", data)
    result = run_cli("predict", path, "--model", model_file)
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout_bytes == data


# --------------------------------------------------------------------------- train


def test_train_writes_model_and_json(labelled_dir, tmp_path, training_docs):
    model = tmp_path / "trained.joblib"
    report = tmp_path / "cv.json"
    result = run_cli("train", labelled_dir, "--model", model, "--folds", "2", "--json", report)
    assert result.exit_code == 0, (result.output, result.exception)
    assert isinstance(load_model(model), LineClassifier)
    scores = json.loads(report.read_text("utf-8"))
    assert list(scores) == ["all"]
    assert scores["all"]["lines"] == sum(d.n_units for d in training_docs)
    assert 0 <= scores["all"]["macro_f1"] <= 1
    assert "cross-validated (2 folds, grouped by file): all" in result.stderr
    assert f"model written to {model}" in result.stderr
    assert result.stdout == ""


def test_train_weights_a_data_argument(labelled_dir, tmp_path):
    model = tmp_path / "trained.joblib"
    result = run_cli("train", labelled_dir, "--model", model, "--folds", "0", "--data-weight", f"{labelled_dir.name}=2")
    assert result.exit_code == 0, (result.output, result.exception)
    assert load_bundle(model)["metadata"]["trained_on"][labelled_dir.name]["weight"] == 2.0


@pytest.mark.parametrize("option, message", [("labelled", "expected DATA=WEIGHT"), ("labelled=lots", "expected DATA=WEIGHT"), ("other=2", "no such DATA")])
def test_train_refuses_bad_data_weight(labelled_dir, tmp_path, option, message):
    model = tmp_path / "m.joblib"
    result = run_cli("train", labelled_dir, "--model", model, "--folds", "0", "--data-weight", option)
    assert message in assert_clean_error(result, exit_code=2)
    assert not model.exists()


def test_train_tunes_the_label_bias(labelled_dir, tmp_path):
    model = tmp_path / "trained.joblib"
    result = run_cli("train", labelled_dir, "--model", model, "--folds", "2", "--tune-label-bias")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "label bias tuned on the other folds): all" in result.stderr
    assert "label bias (log-probability offsets) tuned on all folds: body " in result.stderr
    assert load_model(model).label_bias is not None


@pytest.mark.parametrize(
    "options, message",
    [
        (["--tune-label-bias", "--bias-labels", "body,teasers"], "unknown label 'teasers'"),
        (["--tune-label-bias", "--bias-labels", "chrome"], "no label offset to tune"),
        (["--bias-labels", "body"], "needs --tune-label-bias"),
    ],
)
def test_train_refuses_bad_bias_labels(labelled_dir, tmp_path, options, message):
    model = tmp_path / "m.joblib"
    result = run_cli("train", labelled_dir, "--model", model, "--folds", "2", *options)
    assert message in assert_clean_error(result, exit_code=2)
    assert not model.exists()


def test_train_refuses_to_tune_the_label_bias_without_folds(labelled_dir, tmp_path):
    result = run_cli("train", labelled_dir, "--model", tmp_path / "m.joblib", "--folds", "0", "--tune-label-bias")
    assert "at least 2 folds" in assert_clean_error(result, exit_code=2)


def test_train_refuses_bad_labelled_file(tmp_path):
    folder = tmp_path / "data"
    write_bytes(folder, "good.tsv", b"chrome\tHome\n\nbody\tA sentence.\n")
    bad = write_bytes(folder, "odd.tsv", b"chrome\tHome\n\nBody\tA sentence.\n")
    model = tmp_path / "m.joblib"
    message = assert_clean_error(run_cli("train", folder, "--model", model, "--folds", "0"))
    assert f"{bad}:3:" in message
    assert not model.exists()


def test_train_missing_data_is_a_usage_error(tmp_path):
    result = run_cli("train", tmp_path / "nothing", "--model", tmp_path / "m.joblib")
    assert "no such file or directory" in assert_clean_error(result, exit_code=2)


def test_train_needs_two_files_to_cross_validate(tmp_path):
    folder = tmp_path / "data"
    write_bytes(folder, "only.tsv", b"chrome\tHome\n\nbody\tA sentence.\n")
    result = run_cli("train", folder, "--model", tmp_path / "m.joblib", "--folds", "2")
    assert "at least two" in assert_clean_error(result, exit_code=2)


# --------------------------------------------------------------------------- evaluate


def test_evaluate_prints_table_and_writes_json(model_file, labelled_dir, tmp_path):
    report = tmp_path / "scores.json"
    result = run_cli("evaluate", labelled_dir, "--model", model_file, "--json", report)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "macro-F1" in result.output and "confusion (rows: true, columns: predicted)" in result.output
    for label in LABELS:
        assert label in result.output
    expected = evaluate(load_model(model_file), read_labelled_corpus([labelled_dir])).to_dict()
    assert json.loads(report.read_text("utf-8")) == expected


def test_evaluate_refuses_bad_labelled_file(model_file, tmp_path):
    bad = write_bytes(tmp_path, "bad.tsv", b"body\tfine\nbody text without a tab\n")
    message = assert_clean_error(run_cli("evaluate", bad, "--model", model_file))
    assert message.startswith(f"lineclf: error: {bad}:2: ")


def test_evaluate_broken_model_file(tmp_path, labelled_dir):
    model = write_bytes(tmp_path, "broken.joblib", b"PK\x03\x04")
    assert_clean_error(run_cli("evaluate", labelled_dir, "--model", model))


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("train", "evaluate", "predict"):
        assert command in result.stdout
