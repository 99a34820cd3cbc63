"""Every bad input gets a clear answer, nothing is ever lost, models are safe to load.

The catalogue of bad inputs (docs/errors.md): each test feeds
exactly that input through the command line and checks the exit status, the
one line on stderr (naming the file, and the line or byte), that there is no
traceback, and that no partial output is left behind. Then: --on-error skip,
--encoding-errors replace, interrupted runs (a real signal to a real process),
and loading models (the shipped model's recorded SHA-256, the warning for any
other file, skops files).
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import (
    assert_clean_error,
    labels_of_tsv_output,
    run_cli,
    synthetic_pages,
    write_bytes,
    write_labelled_dir,
)

from lineclf.errors import UntrustedModelWarning
from lineclf.io import format_tsv, read_labelled_corpus, split_lines
from lineclf.labels import LABELS
from lineclf.model.files import MODEL_PROTOCOL

PAGE = "Home | News | Sport\n\nCouncil approves the budget\n\nThe council approved the budget on Monday after a long debate.\n"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def page(tmp_path: Path) -> Path:
    return write_bytes(tmp_path, "page.txt", PAGE.encode())


def predict(model_file, *args, input=None):
    return run_cli("predict", *args, "--model", model_file, input=input)


def files_in(folder: Path) -> list[str]:
    """Every file in a folder, hidden temporary files included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# =========================================================================== the catalogue
# --------------------------------------------------------------------------- paths


def test_missing_path(model_file, tmp_path):
    missing = tmp_path / "nope.txt"
    message = assert_clean_error(predict(model_file, missing, "--out-dir", tmp_path / "out"), exit_code=2)
    assert message == f"lineclf: error: {missing}: no such file or directory"
    assert files_in(tmp_path / "out") == []


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_missing_labelled_path(model_file, tmp_path, command):
    args = ["--model", tmp_path / "new.joblib"] if command == "train" else ["--model", model_file]
    message = assert_clean_error(run_cli(command, tmp_path / "nope", *args), exit_code=2)
    assert message == f"lineclf: error: {tmp_path / 'nope'}: no such file or directory"
    assert not (tmp_path / "new.joblib").exists()


def test_directory_with_no_dumps(model_file, tmp_path):
    folder = tmp_path / "dumps"
    write_bytes(folder, "notes.md", b"not a dump\n")
    message = assert_clean_error(predict(model_file, folder), exit_code=2)
    assert message == (
        f"lineclf: error: {folder}: directory holds no input files (.txt, .jsonl, .ndjson, .warc, .wet, each also .gz, .bz2 or .xz)"
    )


def test_directory_with_no_labelled_files(tmp_path):
    folder = tmp_path / "labelled"
    write_bytes(folder, "page.txt", PAGE.encode())
    message = assert_clean_error(run_cli("train", folder, "--model", tmp_path / "m.joblib"), exit_code=2)
    assert message == f"lineclf: error: {folder}: directory holds no .tsv files"


@pytest.mark.skipif(IS_ROOT, reason="root reads a file whatever its permissions")
def test_unreadable_file(model_file, tmp_path, page):
    page.chmod(0)
    try:
        message = assert_clean_error(predict(model_file, page))
    finally:
        page.chmod(0o644)
    assert message == f"lineclf: error: {page}: cannot read: Permission denied"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_that_fails_to_read(model_file):
    # reading /proc/self/mem from its start fails with an I/O error, even for root
    message = assert_clean_error(predict(model_file, "/proc/self/mem"))
    assert message == "lineclf: error: /proc/self/mem: cannot read: Input/output error"


# --------------------------------------------------------------------------- bytes that are not text


@pytest.mark.parametrize("mode", ["strict", "replace"])
def test_binary_file(model_file, tmp_path, mode):
    path = write_bytes(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    out = tmp_path / "out"
    message = assert_clean_error(predict(model_file, path, "--encoding-errors", mode, "-o", out))
    assert message == f"lineclf: error: {path}: byte 8: NUL byte, this looks like a binary file, not a text dump"
    assert files_in(out) == []


def test_invalid_utf8_is_refused_by_default(model_file, tmp_path):
    path = write_bytes(tmp_path, "latin1.txt", "Grüße aus Köln\n".encode("latin-1"))
    out = tmp_path / "out"
    message = assert_clean_error(predict(model_file, path, "-o", out))
    assert message == f"lineclf: error: {path}: byte 2: not UTF-8; convert the file to UTF-8"
    assert files_in(out) == []


def test_invalid_utf8_replaced_on_request(model_file, tmp_path):
    dump = "Grüße aus Köln\n\nEin Satz über das Wetter in der Stadt.\n".encode("latin-1")
    path = write_bytes(tmp_path, "latin1.txt", dump)
    result = predict(model_file, path, "--encoding-errors", "replace")
    assert result.exit_code == 0, (result.output, result.exception)
    # every byte that is not UTF-8 is one U+FFFD, in the output text too
    expected = dump.decode("latin-1").translate({ord(c): "\ufffd" for c in "üßö"})
    labels_of_tsv_output(result.stdout, expected)
    assert result.stderr == f"lineclf: warning: {path}: byte 2: 4 byte(s) that are not UTF-8 replaced by U+FFFD\n"


def test_truncated_utf8_sequence_replaced(model_file, tmp_path):
    # a three-byte character cut after two bytes, then valid text
    path = write_bytes(tmp_path, "cut.txt", b"Euro \xe2\x82 sign\n")
    result = predict(model_file, path, "--encoding-errors", "replace")
    assert result.exit_code == 0, result.output
    labels_of_tsv_output(result.stdout, "Euro \ufffd\ufffd sign\n")
    assert "byte 5: 2 byte(s)" in result.stderr


def test_utf8_bom_is_kept_as_text(model_file, tmp_path):
    dump = "\ufeffHome\n\nA sentence of body text that is long enough.\n"
    path = write_bytes(tmp_path, "bom.txt", dump.encode())
    result = predict(model_file, path)
    assert result.exit_code == 0, result.output
    labels_of_tsv_output(result.stdout, dump)  # the BOM stays in the first line's text
    assert result.stdout.split("\n")[0].split("\t")[1] == "\ufeffHome"


def test_labelled_file_with_a_bom_is_refused(model_file, tmp_path):
    path = write_bytes(tmp_path, "bom.tsv", "\ufeffchrome\tHome\n\nbody\tText.\n".encode())
    message = assert_clean_error(run_cli("evaluate", path, "--model", model_file))
    assert message == f"lineclf: error: {path}:1: starts with a byte order mark (U+FEFF); save the file as UTF-8 without BOM"


@pytest.mark.parametrize(
    "encoding, fragment",
    [
        ("utf-16", "looks like UTF-16 text; convert it to UTF-8 first"),
        ("utf-16-le", "byte 1: NUL byte, looks like UTF-16 text without a byte order mark; convert it to UTF-8 first"),
        ("utf-16-be", "byte 0: NUL byte, looks like UTF-16 text without a byte order mark; convert it to UTF-8 first"),
    ],
)
def test_utf16_text(model_file, tmp_path, encoding, fragment):
    path = write_bytes(tmp_path, "wide.txt", PAGE.encode(encoding))
    message = assert_clean_error(predict(model_file, path))
    assert message == f"lineclf: error: {path}: {fragment}"


# --------------------------------------------------------------------------- shapes of text


@pytest.mark.parametrize(
    "dump, units",
    [
        ("Home\r\n\r\nA sentence of body text here.\r\nFooter\r\n", 3),
        ("Home\r\rA sentence of body text here.\rFooter\r", 3),
        ("Home\r\n\rA sentence of body text here.\nFooter\r\nlast line without an end", 4),
    ],
    ids=["crlf", "cr-only", "mixed"],
)
def test_line_ends(model_file, tmp_path, dump, units):
    path = write_bytes(tmp_path, "ends.txt", dump.encode())
    result = predict(model_file, path)
    assert result.exit_code == 0, result.output
    # each line's text unchanged, each line end as it was (a missing last one becomes \n)
    assert len(labels_of_tsv_output(result.stdout_bytes.decode(), dump)) == units


@pytest.mark.parametrize("data", [b"", b" \n\t\n\r\n\xc2\xa0\n  "], ids=["empty", "whitespace-only"])
def test_empty_and_whitespace_only_file(model_file, tmp_path, data):
    path = write_bytes(tmp_path, "blank.txt", data)
    result = predict(model_file, path)
    assert result.exit_code == 0, result.output
    assert labels_of_tsv_output(result.stdout_bytes.decode(), data.decode()) == []
    out = tmp_path / "out"
    result = predict(model_file, path, "-o", out, "-f", "jsonl")
    assert result.exit_code == 0, result.output
    assert (out / "blank.jsonl").read_bytes() == b""  # zero lines out


def test_one_line_of_ten_megabytes(model_file, tmp_path):
    line = "word " * 2_000_000
    path = write_bytes(tmp_path, "huge.txt", line.encode() + b"\n")
    started = time.monotonic()
    result = predict(model_file, path)
    assert result.exit_code == 0, result.output
    label, _, text = result.stdout_bytes.decode().partition("\t")
    assert label in LABELS and text == line + "\n"
    # the model sees the line's first MAX_LINE_CHARS characters: seconds, not minutes
    assert time.monotonic() - started < 30


def test_a_million_lines(model_file, tmp_path):
    # mostly blank lines, so that the default run stays fast; every line is
    # still read, kept, labelled in bounded pieces and written back
    lines = [f"Line {i} of a very long dump" if i % 500 == 0 else "" for i in range(1_000_000)]
    dump = "\n".join(lines) + "\n"
    path = write_bytes(tmp_path, "million.txt", dump.encode())
    out = tmp_path / "out"
    result = predict(model_file, path, "-o", out)
    assert result.exit_code == 0, result.output
    written = (out / "million.tsv").read_text("utf-8")
    assert len(labels_of_tsv_output(written, dump)) == 2000


def test_a_huge_dump_is_labelled_in_bounded_pieces(tiny_model):
    from lineclf.document import Document
    from lineclf.labelling import predict_document

    class Spy:
        """The tiny model, noting the size of each document it is given."""

        classes_ = tiny_model.classes_
        site_repetition = tiny_model.site_repetition

        def __init__(self):
            self.seen: list[tuple[int, int]] = []

        def predict_proba(self, documents, site_counts=None):
            (doc,) = documents
            self.seen.append((len(doc.lines), max(map(len, doc.lines), default=0)))
            return tiny_model.predict_proba(documents, site_counts)

    lines = [("" if i % 4 == 3 else f"Line {i} " + "word " * (i % 30)) for i in range(1000)] + ["x" * 5000]
    doc = Document.from_lines(lines)
    spy = Spy()
    labels, proba = predict_document(spy, doc, max_line_chars=200, piece_lines=100, piece_chars=5000)
    assert len(labels) == len(proba) == doc.n_units
    assert sum(n for n, _ in spy.seen) == len(lines)
    assert all(n <= 100 and longest <= 200 for n, longest in spy.seen)
    # pieces end after a blank line, so that blocks of lines stay together
    ends = np.cumsum([n for n, _ in spy.seen])[:-1]
    assert all(lines[end - 1] == "" for end in ends)
    # a dump within the limits is labelled whole, exactly as the model labels it
    spy.seen.clear()
    small = Document.from_lines(lines[:50])
    labels, proba = predict_document(spy, small)
    assert spy.seen == [(50, max(map(len, lines[:50])))]
    assert np.array_equal(proba, tiny_model.predict_proba([small])[0])


# --------------------------------------------------------------------------- labelled files


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("boilerplate\tHome", "unknown label 'boilerplate'; expected one of body, headline, caption, teaser, chrome"),
        ("chrome Home", "no tab; a labelled line is 'label<TAB>text'"),
        ("Home", "no tab; a labelled line is 'label<TAB>text'"),
        ("body \tA sentence.", "unknown label 'body ' (write it as 'body': labels are lower-case, without spaces)"),
        (" body\tA sentence.", "unknown label ' body' (write it as 'body'"),
        ("Body\tA sentence.", "unknown label 'Body' (write it as 'body'"),
        ("HEADLINE\tA title", "unknown label 'HEADLINE' (write it as 'headline'"),
        ("body\t   ", "label 'body' has no text after the tab"),
        ("\tA sentence.", "unknown label ''"),
    ],
    ids=["unknown", "space-not-tab", "one-column", "trailing-space", "leading-space", "capital", "upper", "no-text", "no-label"],
)
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_bad_labelled_line(model_file, tmp_path, line, fragment, command):
    folder = tmp_path / "labelled"
    write_labelled_dir(folder, synthetic_pages()[:2])
    bad = write_bytes(folder, "zz-edited.tsv", f"chrome\tHome\n\nheadline\tA title\n{line}\n".encode())
    model = tmp_path / "new.joblib"
    args = ["--model", model, "--folds", "0"] if command == "train" else ["--model", model_file]
    message = assert_clean_error(run_cli(command, folder, *args))
    assert message.startswith(f"lineclf: error: {bad}:4: {fragment}"), message
    assert not model.exists()


def test_labelled_file_carries_its_own_text(model_file, tmp_path):
    # A labelled file holds the dump's text itself (label<TAB>text): there is
    # no separate dump for it to disagree with. What can go wrong is a line
    # that lost its tab -- a label and text squashed into one column -- which
    # is refused, not read as an unlabelled line.
    path = write_bytes(tmp_path, "page.tsv", b"chrome\tHome\n\nbody The council approved the budget.\n")
    message = assert_clean_error(run_cli("evaluate", path, "--model", model_file))
    assert message == f"lineclf: error: {path}:3: no tab; a labelled line is 'label<TAB>text'"


# --------------------------------------------------------------------------- model files


def _altered_bundle(model_file: Path, path: Path, **changes) -> Path:
    bundle = joblib.load(model_file)
    bundle.update(changes)
    joblib.dump(bundle, path)
    return path


def _model_cases(model_file: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    data = model_file.read_bytes()
    cases = {
        "missing": (folder / "none.joblib", "no such model file"),
        "truncated": (write_bytes(folder, "cut.joblib", data[: len(data) // 2]), "not a readable model file"),
        "not-joblib": (write_bytes(folder, "text.joblib", b"this is a text file, not a model\n"), "not a readable model file"),
        "empty": (write_bytes(folder, "empty.joblib", b""), "not a readable model file"),
        "a-folder": (folder, "no such model file"),
    }
    other = folder / "other.joblib"
    joblib.dump({"weights": [1, 2, 3]}, other)
    cases["joblib-not-lineclf"] = (other, "not a lineclf model file")
    # a file of protocol 3 holds the estimator, tied to its scikit-learn release
    old_sklearn = _altered_bundle(model_file, folder / "old-sklearn.joblib", sklearn_version="1.2.2", protocol=3, estimator=None)
    cases["other-sklearn"] = (old_sklearn, "written with scikit-learn 1.2.2, this is ")
    old_lineclf = _altered_bundle(model_file, folder / "old-lineclf.joblib", protocol=0, lineclf_version="0.0.1")
    cases["other-lineclf"] = (
        old_lineclf, f"model file protocol 0 is not {MODEL_PROTOCOL}; it was written by lineclf 0.0.1, retrain it with this version"
    )
    return cases


MODEL_CASES = ["missing", "truncated", "not-joblib", "empty", "a-folder", "joblib-not-lineclf", "other-sklearn", "other-lineclf"]


@pytest.mark.parametrize("case", MODEL_CASES)
def test_bad_model_file_for_predict(model_file, tmp_path, page, case):
    folder = tmp_path / "models"
    folder.mkdir()
    path, fragment = _model_cases(model_file, folder)[case]
    out = tmp_path / "out"
    message = assert_clean_error(run_cli("predict", page, "--model", path, "-o", out))
    assert message.startswith(f"lineclf: error: {path}: {fragment}"), message
    assert files_in(out) == []


@pytest.mark.parametrize("case", ["truncated", "other-sklearn"])
def test_bad_model_file_for_evaluate(model_file, tmp_path, labelled_dir, case):
    folder = tmp_path / "models"
    folder.mkdir()
    path, fragment = _model_cases(model_file, folder)[case]
    report = tmp_path / "report.json"
    message = assert_clean_error(run_cli("evaluate", labelled_dir, "--model", path, "--json", report))
    assert message.startswith(f"lineclf: error: {path}: {fragment}")
    assert not report.exists()


# --------------------------------------------------------------------------- outputs


def test_out_dir_under_a_file(model_file, tmp_path, page):
    out = page / "labelled"
    message = assert_clean_error(predict(model_file, page, "-o", out))
    assert message == f"lineclf: error: {out}: cannot create output folder: Not a directory"


def test_out_dir_that_is_a_file(model_file, tmp_path, page):
    out = write_bytes(tmp_path, "out", b"a file\n")
    message = assert_clean_error(predict(model_file, page, "-o", out))
    assert message == f"lineclf: error: {out}: is a file, not a folder; choose another --out-dir"
    assert out.read_bytes() == b"a file\n"


@pytest.mark.skipif(IS_ROOT, reason="root writes into a folder whatever its permissions")
def test_out_dir_without_write_permission(model_file, tmp_path, page):
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    try:
        message = assert_clean_error(predict(model_file, page, "-o", out))
    finally:
        out.chmod(0o755)
    assert message == f"lineclf: error: {out}: cannot write here: Permission denied"
    assert files_in(out) == []


def test_two_inputs_with_the_same_stem(model_file, tmp_path):
    first = write_bytes(tmp_path / "a", "page.txt", PAGE.encode())
    second = write_bytes(tmp_path / "b", "page.txt", b"Another page\n")
    out = tmp_path / "out"
    message = assert_clean_error(predict(model_file, tmp_path / "a", second, "-o", out), exit_code=2)
    assert message == (
        f"lineclf: error: {first} and {second} would both be written to {out / 'page.tsv'}; "
        "label them into separate --out-dir folders"
    )
    assert files_in(out) == []


def test_train_model_path_that_cannot_be_written(tmp_path, labelled_dir):
    model = tmp_path / "no-such-folder" / "m.joblib"
    message = assert_clean_error(run_cli("train", labelled_dir, "--model", model, "--folds", "0"))
    # refused before any training
    assert message == f"lineclf: error: {model.parent}: no such folder to write m.joblib in"


def test_stdout_that_cannot_be_written(model_file, page):
    # a full disk: /dev/full refuses every write with ENOSPC. In a real process
    # (no PYTHONWARNINGS here), the model trust warning is one line too.
    env = {k: v for k, v in _env().items() if k != "PYTHONWARNINGS"}
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [str(a) for a in [*_predict_cmd(model_file), page]],
            check=False, stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=120,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"lineclf: warning: loading model file {model_file} runs code from it: load only model files you trust",
        "lineclf: error: stdout: cannot write: No space left on device",
    ]


def test_reader_of_stdout_going_away(model_file, tmp_path):
    folder = tmp_path / "dumps"
    for i in range(50):
        write_bytes(folder, f"p{i:02}.txt", PAGE.encode())
    process = subprocess.Popen(
        [str(a) for a in [*_predict_cmd(model_file), folder]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
    )
    process.stdout.close()  # like `lineclf predict ... | head -0`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    # quietly: not even the trust warning, which PYTHONWARNINGS="ignore:loading model file" silences
    assert stderr == ""


# =========================================================================== --on-error


def _mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dumps"
    write_bytes(folder, "a.txt", PAGE.encode())
    write_bytes(folder, "b.txt", b"binary\x00junk")
    write_bytes(folder, "c.txt", PAGE.encode())
    write_bytes(folder, "d.txt", "Köln\n".encode("latin-1"))
    write_bytes(folder, "e.txt", PAGE.encode())
    return folder


def test_batch_stops_at_the_first_bad_file_by_default(model_file, tmp_path):
    folder = _mixed_folder(tmp_path)
    out = tmp_path / "out"
    message = assert_clean_error(predict(model_file, folder, "-o", out))
    assert message.startswith(f"lineclf: error: {folder / 'b.txt'}: byte 6: NUL byte")
    # what was written before is complete; nothing after the bad file
    assert files_in(out) == ["a.tsv"]
    labels_of_tsv_output((out / "a.tsv").read_text("utf-8"), PAGE)


def test_batch_skips_bad_files_on_request(model_file, tmp_path):
    folder = _mixed_folder(tmp_path)
    out = tmp_path / "out"
    result = predict(model_file, folder, "-o", out, "--on-error", "skip")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    b, d = folder / "b.txt", folder / "d.txt"
    assert result.stderr.splitlines() == [
        f"lineclf: skipped: {b}: byte 6: NUL byte, this looks like a binary file, not a text dump",
        f"lineclf: skipped: {d}: byte 1: not UTF-8; convert the file to UTF-8",
        f"lineclf: wrote 3 file(s) to {out}",
        f"lineclf: error: skipped 2 of 5 file(s) that could not be read: {b}, {d}",
    ]
    assert files_in(out) == ["a.tsv", "c.tsv", "e.tsv"]


def test_skip_to_stdout_writes_the_good_pages(model_file, tmp_path):
    folder = _mixed_folder(tmp_path)
    result = predict(model_file, folder, "--on-error", "skip")
    assert result.exit_code == 1
    single = predict(model_file, folder / "a.txt").stdout
    assert result.stdout == single * 3


def test_skip_with_nothing_bad_exits_zero(model_file, tmp_path, page):
    result = predict(model_file, page, "--on-error", "skip")
    assert result.exit_code == 0 and result.stderr == ""


def _labelled_with_bad_files(tmp_path: Path) -> tuple[Path, list[Path]]:
    folder = tmp_path / "labelled"
    write_labelled_dir(folder, synthetic_pages())
    bad = [
        write_bytes(folder, "bad-label.tsv", b"chrome\tHome\nBody\tText.\n"),
        write_bytes(folder, "bad-bytes.tsv", b"chrome\tK\xf6ln\n"),
    ]
    return folder, sorted(bad)


def test_evaluate_skips_bad_labelled_files_on_request(model_file, tmp_path):
    folder, bad = _labelled_with_bad_files(tmp_path)
    report = tmp_path / "report.json"
    result = run_cli("evaluate", folder, "--model", model_file, "--on-error", "skip", "--json", report)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("lineclf: skipped: ")] == [
        f"lineclf: skipped: {bad[0]}: byte 8: not UTF-8; convert the file to UTF-8",
        (
            f"lineclf: skipped: {bad[1]}:2: unknown label 'Body' (write it as 'body': labels are lower-case, without spaces); "
            "expected one of body, headline, caption, teaser, chrome"
        ),
    ]
    assert lines[-1] == f"lineclf: error: skipped 2 of 8 file(s) that could not be read: {bad[0]}, {bad[1]}"
    good = [p for p in sorted(folder.glob("*.tsv")) if p not in bad]
    assert json.loads(report.read_text("utf-8"))["lines"] == sum(d.n_units for d in read_labelled_corpus(good))


def test_train_skips_bad_labelled_files_on_request(tmp_path):
    from lineclf.model import load_bundle

    folder, bad = _labelled_with_bad_files(tmp_path)
    # (written as .skops where skops is installed: that path of train is tested here too)
    model = tmp_path / ("m.skops" if _has_skops() else "m.joblib")
    result = run_cli("train", folder, "--model", model, "--folds", "0", "--on-error", "skip")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == f"lineclf: error: skipped 2 of 8 file(s) that could not be read: {bad[0]}, {bad[1]}"
    assert load_bundle(model)["metadata"]["trained_on"]["labelled"]["pages"] == 6


def _has_skops() -> bool:
    try:
        import skops.io  # noqa: F401
    except ImportError:
        return False
    return True


def test_nothing_readable_is_an_error_even_when_skipping(model_file, tmp_path):
    folder = tmp_path / "labelled"
    bad = write_bytes(folder, "only.tsv", b"Body\tText.\n")
    result = run_cli("evaluate", folder, "--model", model_file, "--on-error", "skip")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "lineclf: error: no labelled file could be read (1 skipped); nothing to evaluate"
    result = run_cli("train", folder, "--model", tmp_path / "m.joblib", "--on-error", "skip", "--folds", "0")
    message = assert_clean_error(result)
    assert message.startswith(f"lineclf: error: no labelled file could be read (1 skipped); the first: {bad}:1: unknown label 'Body'")


def test_missing_manifest(tmp_path, labelled_dir):
    manifest = tmp_path / "sites.tsv"
    result = run_cli("train", labelled_dir, "--model", tmp_path / "m.joblib", "--groups", manifest)
    assert assert_clean_error(result, exit_code=2) == f"lineclf: error: {manifest}: no such manifest file"


# =========================================================================== nothing lost: real signals


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore:loading model file"}


def _predict_cmd(model_file: Path) -> list:
    return [sys.executable, "-m", "lineclf", "predict", "--model", model_file]


def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("lineclf: error")]


def _wait_for(condition, process: subprocess.Popen, timeout: float = 60) -> bool:
    """Poll until ``condition()`` or the process ends; True if the condition held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return condition()
        time.sleep(0.001)
    raise AssertionError("timed out")


def _many_pages(folder: Path, count: int) -> dict[str, str]:
    pages = {}
    for i in range(count):
        # pages of different lengths, so that writes take different times
        text = PAGE + "".join(f"Paragraph {k} of page {i}, with a few words of body text.\n\n" for k in range(i % 40))
        write_bytes(folder, f"p{i:03}.txt", text.encode())
        pages[f"p{i:03}"] = text
    return pages


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_predict_leaves_only_complete_outputs(model_file, tmp_path, sig):
    pages = _many_pages(tmp_path / "dumps", 150)
    out = tmp_path / "out"
    out.mkdir()
    old = b"chrome\tcomplete output of an earlier run\n"
    (out / "p149.tsv").write_bytes(old)
    process = subprocess.Popen(
        [str(a) for a in [*_predict_cmd(model_file), tmp_path / "dumps", "-o", out, "--overwrite"]],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(),
    )
    try:
        # kill it once it has started writing: after its first output is in place
        _wait_for(lambda: len(list(out.glob("*.tsv"))) >= 3, process)
        process.send_signal(sig)
        process.wait(timeout=60)
    finally:
        process.kill()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if sig == signal.SIGTERM and process.returncode != 0:  # it may have finished first
        assert process.returncode == 143 and stderr.splitlines()[-1] == "lineclf: terminated", stderr
    outputs = sorted(out.glob("*.tsv"))
    assert len(outputs) < 150 or process.returncode == 0, "killed too late to test anything"
    for path in outputs:
        data = path.read_bytes()
        if path.name == "p149.tsv" and data == old:
            continue  # the old complete file, untouched
        labels_of_tsv_output(data.decode("utf-8"), pages[path.stem])  # new and complete
    temporary = [name for name in files_in(out) if not name.endswith(".tsv")]
    if sig == signal.SIGTERM:
        assert temporary == []  # cleaned up on the way out
    assert all(name.startswith(".") and name.endswith(".tmp") for name in temporary)
    # hidden temporary files are never taken for outputs, or for inputs of a next step
    assert {Path(d.name).stem for d in read_labelled_corpus([out])} == {p.stem for p in outputs}


def test_killed_train_keeps_the_old_model_or_writes_the_new_one_whole(tmp_path, model_file):
    folder = tmp_path / "labelled"
    write_labelled_dir(folder, synthetic_pages())
    model = tmp_path / "m.joblib"
    shutil.copyfile(model_file, model)
    old = model.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-m", "lineclf", "train", str(folder), "--model", str(model), "--folds", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )
    try:
        # kill it while the model is being written: when its temporary file appears
        writing = _wait_for(lambda: any(tmp_path.glob(".m.joblib.*.tmp")), process, timeout=120)
        process.kill()
        process.wait(timeout=60)
    finally:
        process.kill()
    data = model.read_bytes()
    if data != old:
        bundle = joblib.load(model)  # the new model, whole
        assert bundle["metadata"]["trained_on"]["labelled"]["pages"] == 6
    else:
        assert writing, "train ended without writing its model"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".m.joblib."))
    assert all(name.endswith(".tmp") for name in leftovers)


def test_interrupted_write_removes_its_temporary_file(tmp_path):
    from lineclf.io import atomic_writer

    target = write_bytes(tmp_path, "out.tsv", b"old\n")
    with pytest.raises(KeyboardInterrupt), atomic_writer(target) as handle:
        handle.write(b"half of a new")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old\n"
    assert files_in(tmp_path) == ["out.tsv"]


def test_an_interrupt_at_any_step_of_a_write_leaves_the_old_file_or_the_new_one(tmp_path):
    """A signal can be handled between any two bytecodes of the writer
    (SIGTERM is raised as an interrupt by the CLI). Raise one at each of
    them in turn: the interrupt itself must come out (not an error of the
    cleanup), with the old file or, once renamed, the new one, and no
    temporary file."""
    from lineclf.io import atomic_writer

    code = inspect.unwrap(atomic_writer).__code__
    target = tmp_path / "out.tsv"
    for step in itertools.count(1):
        assert step < 10_000, "the writer never finished"
        target.write_bytes(b"old\n")
        seen = 0

        def on_event(frame, event, arg):
            nonlocal seen
            if event in ("line", "opcode"):
                seen += 1
                if seen == step:
                    raise KeyboardInterrupt
            return on_event

        def on_call(frame, event, arg):
            if frame.f_code is not code:
                return None
            frame.f_trace_opcodes = True
            return on_event

        previous = sys.gettrace()  # a coverage tool's, say
        sys.settrace(on_call)
        try:
            with atomic_writer(target) as handle:
                handle.write(b"new\n")
            interrupted = False
        except KeyboardInterrupt:
            interrupted = True
        finally:
            sys.settrace(previous)
        assert files_in(tmp_path) == ["out.tsv"], f"interrupted at step {step}"
        assert target.read_bytes() in (b"old\n", b"new\n")
        if not interrupted:
            assert target.read_bytes() == b"new\n" and step > 20
            break


def test_failed_write_is_one_error_naming_the_file(tmp_path):
    from lineclf.errors import OutputError
    from lineclf.io import atomic_writer

    target = tmp_path / "out.tsv"
    with pytest.raises(OutputError, match=r"out\.tsv: cannot write: No space left on device"), atomic_writer(target):
        raise OSError(28, "No space left on device")  # as a full disk does
    assert files_in(tmp_path) == []


# =========================================================================== loading models safely


def test_recorded_hash_matches_the_shipped_model():
    from lineclf.model import HASH_SUFFIX, default_model_path, file_sha256

    path = default_model_path()
    if not path.is_file():
        pytest.skip(f"the default model {path} has not been trained yet")
    record = path.with_name(path.name + HASH_SUFFIX)
    assert record.read_text("utf-8") == f"{file_sha256(path)}  {path.name}\n", (
        "models/default.joblib changed without its hash: run (cd models && sha256sum default.joblib > default.joblib.sha256)"
    )


@pytest.fixture
def fake_default(tmp_path, model_file, monkeypatch) -> Path:
    """The tiny model standing in for the shipped one, with its hash recorded."""
    import lineclf.model.files
    from lineclf.model import file_sha256

    path = tmp_path / "shipped" / "default.joblib"
    path.parent.mkdir()
    shutil.copyfile(model_file, path)
    (path.parent / "default.joblib.sha256").write_text(f"{file_sha256(path)}  default.joblib\n")
    monkeypatch.setattr(lineclf.model.files, "default_model_path", lambda: path)
    monkeypatch.setattr(lineclf.model.files, "_TRUST_WARNED", False)
    return path


def test_default_model_is_checked_and_loaded_without_a_warning(fake_default, page):
    from lineclf.model import load_model

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model()
        load_model(fake_default)  # named explicitly: still the shipped model
    result = run_cli("predict", page)
    assert result.exit_code == 0 and result.stderr == ""


def test_default_model_that_does_not_match_its_hash_is_refused(fake_default, page):
    with open(fake_default, "ab") as handle:
        handle.write(b"\0")  # one byte more: damaged, or replaced
    message = assert_clean_error(run_cli("predict", page))
    assert message.startswith(f"lineclf: error: {fake_default}: SHA-256 ")
    assert "is not the one recorded in default.joblib.sha256; the shipped model is damaged or was replaced" in message


def test_default_model_without_its_hash_is_refused(fake_default, page):
    (fake_default.parent / "default.joblib.sha256").unlink()
    message = assert_clean_error(run_cli("predict", page))
    assert message == f"lineclf: error: {fake_default}: its recorded SHA-256 (default.joblib.sha256) is missing; reinstall lineclf"


def test_other_model_files_warn_once_per_process(model_file, tmp_path, monkeypatch):
    import lineclf.model.files
    from lineclf.model import load_model

    monkeypatch.setattr(lineclf.model.files, "_TRUST_WARNED", False)
    copy = tmp_path / "copy.joblib"
    shutil.copyfile(model_file, copy)
    expected = f"loading model file {model_file} runs code from it: load only model files you trust"
    with pytest.warns(UntrustedModelWarning, match=f"^{re.escape(expected)}$"):
        load_model(model_file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(copy)  # the process has been told


def test_cli_shows_the_trust_warning_as_one_line(model_file, page, monkeypatch):
    import lineclf.model.files

    monkeypatch.setattr(lineclf.model.files, "_TRUST_WARNED", False)
    result = predict(model_file, page)
    assert result.exit_code == 0
    assert result.stderr == f"lineclf: warning: loading model file {model_file} runs code from it: load only model files you trust\n"


# --------------------------------------------------------------------------- skops


@pytest.fixture(scope="module")
def skops_file(tmp_path_factory, tiny_model) -> Path:
    pytest.importorskip("skops.io")
    from lineclf.model import save_model

    path = tmp_path_factory.mktemp("skops") / "tiny.skops"
    save_model(tiny_model, path, metadata={"purpose": "tests"})
    return path


def test_skops_model_predicts_like_the_joblib_one_without_a_warning(skops_file, model_file, page, monkeypatch):
    import lineclf.model.files

    monkeypatch.setattr(lineclf.model.files, "_TRUST_WARNED", False)
    result = run_cli("predict", page, "--model", skops_file, "-f", "jsonl")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # nothing is unpickled: no warning
    monkeypatch.setattr(lineclf.model.files, "_TRUST_WARNED", True)
    assert result.stdout == run_cli("predict", page, "--model", model_file, "-f", "jsonl").stdout


def test_skops_file_with_untrusted_types_is_refused(tmp_path, page):
    sio = pytest.importorskip("skops.io")
    from fractions import Fraction  # a type skops does not trust

    path = tmp_path / "odd.skops"
    sio.dump({"format": "lineclf-model", "estimator": Fraction(1, 3)}, path)
    message = assert_clean_error(run_cli("predict", page, "--model", path))
    assert message == f"lineclf: error: {path}: holds types lineclf does not trust (fractions.Fraction); not loading it"


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 broken zip", b"not a zip at all"])
def test_damaged_skops_file_is_refused(tmp_path, page, data):
    pytest.importorskip("skops.io")
    path = write_bytes(tmp_path, "bad.skops", data)
    message = assert_clean_error(run_cli("predict", page, "--model", path))
    assert message.startswith(f"lineclf: error: {path}: not a readable .skops model file")


def test_skops_needs_skops(tmp_path, page, monkeypatch):
    monkeypatch.setitem(sys.modules, "skops", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "skops.io", None)
    path = write_bytes(tmp_path, "m.skops", b"PK")
    message = assert_clean_error(run_cli("predict", page, "--model", path))
    assert message == f"lineclf: error: {path}: .skops model files need skops; pip install 'lineclf[skops]'"


def test_error_lines_never_hide_a_bug_behind_a_traceback(model_file, page, monkeypatch):
    # an unexpected exception is still one line, and --debug shows it whole
    import lineclf.labelling.documents
    import lineclf.labelling.tasks

    def broken(*args, **kwargs):
        raise ValueError("something no test foresaw")

    monkeypatch.setattr(lineclf.labelling.tasks, "predict_many", broken)
    message = assert_clean_error(predict(model_file, page))
    assert message == "lineclf: error: unexpected ValueError: something no test foresaw (run again with --debug for the traceback)"
    result = predict(model_file, page, "--debug")
    assert isinstance(result.exception, ValueError)


def test_labelled_output_reads_back(model_file, tmp_path, page):
    # what predict --out-dir writes is valid labelled data, text unchanged
    out = tmp_path / "out"
    assert predict(model_file, page, "-o", out).exit_code == 0
    (doc,) = read_labelled_corpus([out])
    assert format_tsv(doc, doc.labels) == (out / "page.tsv").read_text("utf-8")
    assert split_lines(PAGE)[0] == list(doc.lines)
