"""Batches in chunks, in this process or in joblib worker processes (-j):
same output, in input order, with a bounded number of chunks in flight."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from conftest import (
    SAMPLE_TEXTS,
    SEED_TXT,
    assert_clean_error,
    jsonl_bytes,
    run_cli,
    sample_records,
    synthetic_pages,
    write_bytes,
)

from sklearn.base import clone

from lineclf.features import SITE_FEATURE_NAMES, SiteCounts
from lineclf.document import Document
from lineclf.labelling import Runner
from lineclf.io import PageError, SourceEnd, SourceStart, iter_pages
from lineclf.labelling import (
    TASK_PAGES,
    PageResult,
    model_calls,
    predict_document,
    predict_files,
    predict_many,
    split_tasks,
)


def predict(model_file, *args):
    return run_cli("predict", *args, "--model", model_file)


@pytest.fixture
def batch(tmp_path):
    """A folder of every kind of input, pages of many lengths, and a bad file."""
    folder = tmp_path / "batch"
    for i, doc in enumerate(synthetic_pages()):
        write_bytes(folder, f"d{i}.txt", "".join(line + "\n" for line in doc.lines[: 5 + 3 * i]).encode())
    write_bytes(folder, "seed.txt.gz", gzip.compress(SEED_TXT.read_bytes()))
    write_bytes(folder, "e-bad.txt", b"binary\x00junk")
    records = sample_records(SAMPLE_TEXTS * 40)
    write_bytes(folder, "f.jsonl", jsonl_bytes(records[:70]) + b"{broken\n" + jsonl_bytes(records[70:]))
    return folder


def test_pages_labelled_together_get_what_they_get_alone_with_the_batch_counts(tiny_model, training_docs, monkeypatch):
    import lineclf.labelling.documents
    import lineclf.labelling.tasks

    docs = training_docs + [Document.from_lines([]), Document.from_lines(["   ", ""])] + training_docs[:2]
    counts = SiteCounts.of(docs)
    monkeypatch.setattr(lineclf.labelling.documents, "CALL_LINES", 40)  # many calls of the model
    together = predict_many(tiny_model, docs)
    for doc, (labels, proba) in zip(docs, together):
        alone_labels, alone_proba = predict_document(tiny_model, doc, site_counts=counts)
        assert np.array_equal(proba, alone_proba)  # exactly: each line is labelled from its own page
        assert list(labels) == list(alone_labels)


def test_a_batch_counts_lines_across_the_pages_of_a_site(tiny_model, training_docs):
    alpha = [doc for doc in training_docs if doc.site == "alpha.example"]
    assert len(alpha) == 2
    alone = predict_document(tiny_model, alpha[0])[1]
    assert np.array_equal(alone, predict_document(tiny_model, alpha[0], site_counts=SiteCounts.of(alpha[:1]))[1])
    # what the model sees of the page: its lines' shares of the site's other
    # pages, which a batch of both pages has and a page alone has not (whether
    # a tiny model's trees happen to split on them is another matter)
    n_site = len(SITE_FEATURE_NAMES)
    batch_site = tiny_model.layout(alpha)[0][: alpha[0].n_units, -n_site:]
    alone_site = tiny_model.layout(alpha[:1])[0][:, -n_site:]
    assert not np.array_equal(batch_site, alone_site)
    # and the batch labels the page with them: as the model labels both pages together
    assert np.array_equal(predict_many(tiny_model, alpha)[0][1], tiny_model.predict_proba(alpha)[0])
    # a model without the feature labels each page on its own
    plain = clone(tiny_model).set_params(site_repetition=False).fit(training_docs)
    assert np.array_equal(predict_many(plain, alpha)[0][1], predict_document(plain, alpha[0])[1])


def test_a_batch_of_files_is_counted_whole_across_chunks(tiny_model, tmp_path, monkeypatch):
    import lineclf.labelling.documents
    import lineclf.labelling.tasks

    pages = synthetic_pages()
    folder = tmp_path / "site"
    for i, doc in enumerate(pages):
        write_bytes(folder, f"p{i}.txt", "".join(line + "\n" for line in doc.lines).encode())
    docs = [Document.from_lines(doc.lines, name=f"p{i}") for i, doc in enumerate(pages)]  # dumps have no site
    expected = [proba for proba in tiny_model.predict_proba(docs, SiteCounts.of(docs))]
    monkeypatch.setattr(lineclf.labelling.tasks, "TASK_PAGES", 2)  # three chunks
    outcomes = list(predict_files([folder], tiny_model, output_format="jsonl"))
    for outcome, proba in zip(outcomes, expected):
        rows = [json.loads(line) for line in outcome.text.splitlines()]
        assert [row["label"] for row in rows if "label" in row] == list(tiny_model.classes_[proba.argmax(axis=1)])
    # from a stream, or without counting, each chunk counts its own pages
    uncounted = list(predict_files([folder], tiny_model, output_format="jsonl", count_sites=False))
    assert [o.text for o in uncounted] != [o.text for o in outcomes]


def test_oversized_pages_in_a_batch_are_labelled_alone_in_pieces(tiny_model, training_docs):
    big = Document.from_lines([f"Line {i} of a long list of links" for i in range(250)])
    docs = [training_docs[0], big, training_docs[1]]
    together = predict_many(tiny_model, docs, piece_lines=100)
    assert np.array_equal(together[1][1], predict_document(tiny_model, big, piece_lines=100)[1])
    # the ordinary pages with their lines counted across the batch, as predict_many counts them
    counts = SiteCounts.of(docs)
    assert np.array_equal(together[2][1], predict_document(tiny_model, training_docs[1], site_counts=counts)[1])


def test_page_batches_keep_order_limits_and_oversized_pages_apart(monkeypatch):
    import lineclf.labelling.documents
    import lineclf.labelling.tasks

    monkeypatch.setattr(lineclf.labelling.documents, "CALL_LINES", 10)
    small = [Document.from_lines([f"Line {i}." for i in range(n)]) for n in (4, 4, 4, 0)]
    big = Document.from_lines([f"Row {i}" for i in range(30)])
    docs = [small[0], small[1], big, small[2], small[3]]
    batches = list(model_calls(docs, piece_lines=20))
    assert batches == [([0, 1], False), ([2], True), ([3, 4], False)]
    # every page once, in order; no ordinary batch over the limit
    assert [i for batch, _ in batches for i in batch] == list(range(len(docs)))
    assert list(model_calls([])) == []


@pytest.mark.parametrize("format_args", [(), ("--format", "jsonl"), ("--format", "text")], ids=["default", "jsonl", "text"])
def test_jobs_give_the_same_output(model_file, batch, format_args):
    single = predict(model_file, batch, *format_args, "--on-error", "skip")
    double = predict(model_file, batch, *format_args, "--on-error", "skip", "-j", "2")
    assert single.exit_code == double.exit_code == 1
    assert double.stdout_bytes == single.stdout_bytes and double.stdout_bytes
    assert double.stderr == single.stderr


def test_jobs_write_the_same_files(model_file, batch, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert predict(model_file, batch, "-o", one, "--on-error", "skip").exit_code == 1
    assert predict(model_file, batch, "-o", two, "--on-error", "skip", "-j", "2").exit_code == 1
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir()) and "f.jsonl" in names and "e-bad.tsv" not in names
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_jobs_stop_at_the_first_bad_input(model_file, batch, tmp_path):
    out = tmp_path / "out"
    message = assert_clean_error(predict(model_file, batch, "-o", out, "-j", "2"))
    assert message.startswith(f"lineclf: error: {batch / 'e-bad.txt'}: byte 6: NUL byte")
    # everything before it is complete, nothing after it written
    assert sorted(p.name for p in out.iterdir()) == [f"d{i}.tsv" for i in range(6)]


def test_jobs_and_a_dask_scheduler_do_not_mix(model_file, batch):
    result = predict(model_file, batch, "-j", "2", "--dask-scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "give either --jobs or --dask-scheduler" in result.output


def test_jobs_from_python(tiny_model, batch):
    single = [(o.name, o.text, str(o.error)) for o in predict_files([batch], tiny_model, on_error="skip")]
    double = [(o.name, o.text, str(o.error)) for o in predict_files([batch], tiny_model, on_error="skip", jobs=2)]
    assert double == single


# --------------------------------------------------------------------------- chunks


def _pages(n: int, lines: int = 3) -> list[Document]:
    return [Document.from_lines([f"page {i} line {k}" for k in range(lines)], name=f"p{i}") for i in range(n)]


def test_chunks_are_bounded_and_keep_the_stream_in_order():
    items = [*_pages(TASK_PAGES + 10), SourceEnd(None), *_pages(5)]
    chunks = list(split_tasks(iter(items)))
    assert [len(c) for c in chunks] == [TASK_PAGES, 16]
    assert [item for c in chunks for item in c] == items


def test_stop_reads_nothing_after_the_first_error():
    error = PageError("bad", ValueError("bad"))
    consumed = []

    def stream():
        for item in [*_pages(3), error, *_pages(3)]:
            consumed.append(item)
            yield item

    assert list(split_tasks(stream(), on_error="stop")) == [[*consumed]]
    assert len(consumed) == 4
    assert sum(map(len, split_tasks(iter([*_pages(2), error, *_pages(2)]), on_error="skip"))) == 5


class _CountingRunner(Runner):
    """A runner whose futures stay pending until read, counting how many are in flight."""

    window = 3

    def __init__(self):
        self.in_flight = self.most = 0

    def submit(self, documents, site_counts):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        runner = self

        class Pending:
            def result(self):
                runner.in_flight -= 1
                return [PageResult(doc.name, doc.n_units) for doc in documents]

            def cancel(self):
                return True

        return Pending()


def test_at_most_a_window_of_chunks_is_in_flight():
    runner = _CountingRunner()
    chunks = [[SourceStart(None), *_pages(2)], [SourceEnd(None)], *[_pages(1) for _ in range(10)]]
    read = []

    def stream():
        for chunk in chunks:
            read.append(chunk)
            yield chunk

    out = runner.map_tasks(stream())
    first = next(out)
    assert first == (chunks[0][0], None) and len(read) == runner.window  # read just ahead of what is written
    rest = list(out)
    assert runner.most <= runner.window
    pages = [(item.name, result.text) for item, result in [first, *rest] if result is not None]
    assert pages == [(doc.name, doc.name) for chunk in chunks for doc in chunk if isinstance(doc, Document)]


def test_iter_pages_is_lazy(tmp_path):
    folder = tmp_path / "in"
    for i in range(3):
        write_bytes(folder, f"{i}.jsonl", jsonl_bytes(sample_records()))
    stream = iter_pages([folder])
    first = [next(stream) for _ in range(2)]
    assert isinstance(first[0], SourceStart) and isinstance(first[1], Document)


def test_progress_text():
    from lineclf.cli import progress_text

    assert progress_text(1234, 56789, 2.0) == "1,234 pages (617.0/s), 56,789 lines (28,394/s)"
    assert progress_text(0, 0, 0.0).startswith("0 pages (0.0/s)")


# --------------------------------------------------------------------------- interrupted


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/stat"), reason="finds worker processes through Linux /proc")
def test_terminated_jobs_leave_no_workers_and_no_partial_file(model_file, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    pages = write_bytes(tmp_path, "pages.jsonl", jsonl_bytes(sample_records(SAMPLE_TEXTS * 2500)))
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore:loading model file"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lineclf", "predict", str(pages), "--model", str(model_file), "-o", str(out), "-j", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        labelling = False
        # once the workers are labelling (a temporary output file is open)
        while time.monotonic() < deadline and process.poll() is None:
            workers = _children(process.pid)
            if len(workers) >= 2 and out.is_dir() and list(out.iterdir()):
                labelling = True
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        process.kill()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode == 0:
        pytest.skip("the batch finished before it could be terminated")
    assert process.returncode == 143 and stderr.splitlines()[-1] == "lineclf: terminated", stderr
    # the unfinished file is removed, not left half written (on a busy machine
    # the output folder may not even have been made yet)
    assert not out.exists() or list(out.iterdir()) == []
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
    if not labelling:
        pytest.skip("the workers had not started labelling within 60 s (a busy machine); terminated earlier")


def test_progress_display_on_a_terminal_keeps_messages_whole(monkeypatch):
    import io
    import sys

    import warnings

    from lineclf.cli import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    before = warnings.showwarning
    with progress.page_progress(show=True) as display:
        display.advance(120)
        display.say("lineclf: skipped: pages.jsonl:3: not valid JSON")
        display.advance(80)
    assert warnings.showwarning is before  # messages go straight to stderr again
    shown = terminal.getvalue()
    assert "lineclf: skipped: pages.jsonl:3: not valid JSON\n" in shown
    # not shown unless asked (stdout is the terminal) or stderr is a terminal
    with progress.page_progress(show=False) as display:
        display.advance(1)
    assert terminal.getvalue() == shown


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_interrupt_between_pages_releases_the_workers_before_lineclf_exits(model_file, tmp_path, monkeypatch, jobs):
    """An interrupt that lands while the command writes a page (outside the
    labelling generator) must still close the runner there and then, killing
    the workers: left to the garbage collector, the workers would go on with
    the tasks in flight, and the process would wait for them at exit."""
    import sys

    import typer

    import lineclf.cli  # noqa: F401  (registers the commands)
    from lineclf.labelling import runners

    predict_command = sys.modules["lineclf.cli.predict"]  # the package's `predict` is the command function

    events: list[str] = []
    for cls in (runners.Runner, runners.JoblibRunner):
        original = cls.close

        def close(self, failed, original=original):
            events.append(f"close failed={failed}")
            return original(self, failed)

        monkeypatch.setattr(cls, "close", close)

    def interrupted_write(text):
        events.append("write")
        raise KeyboardInterrupt

    monkeypatch.setattr(predict_command, "write_stdout", interrupted_write)
    monkeypatch.setattr(typer, "echo", lambda message="", err=False, **kw: events.append(str(message)))
    dumps = [write_bytes(tmp_path, f"d{i}.txt", "\n".join(SAMPLE_TEXTS[i % len(SAMPLE_TEXTS)] for _ in range(3)).encode()) for i in range(6)]
    result = run_cli("predict", *dumps, "--model", model_file, "-j", str(jobs))
    assert result.exit_code == 130
    assert events[:3] == ["write", "close failed=True", "lineclf: interrupted"], events
