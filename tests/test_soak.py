"""Load: one batch of many small dumps, and memory that does not grow with it.

Small by default (a few seconds); set LINECLF_SOAK=N for a batch of N dumps,
e.g. LINECLF_SOAK=100000. LINECLF_SOAK also runs a real million-line dump
through a separate process and bounds its peak memory.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineclf.labelling import plan_outputs, predict_files

DUMPS = int(os.environ.get("LINECLF_SOAK", "0")) or 1000
#: Resident memory the process may gain over each of two more batches of DUMPS dumps,
#: after a first one of the same size: allocator noise (measured: 0.1 MB over
#: 1,000 dumps, 0.3 MB over 5,000). Keeping each dump's features (~30 kB for
#: these pages) exceeds it within a few hundred dumps; a kept Document,
#: however small, is caught by counting them.
GROWTH_LIMIT = 8 * 1024 * 1024


def _dump(i: int) -> str:
    """A small page; sizes vary so that no two dumps are quite alike."""
    body = "".join(f"Paragraph {k} of page {i} says something in a sentence of body text.\n\n" for k in range(i % 7))
    return f"Home | News | Sport\n\nHeadline number {i}\n\n{body}Related: another story {i * 7}\n© 2024 Example {i % 13}\n"


def _resident() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _live_documents() -> int:
    from lineclf.document import Document

    gc.collect()
    return sum(isinstance(obj, Document) for obj in gc.get_objects())


def _label_batch(folder: Path, out: Path, model_file: Path) -> int:
    targets = plan_outputs([folder], out, ".tsv")
    count = 0
    for outcome in predict_files([folder], model_file, targets=targets):
        assert outcome.error is None and outcome.target is not None
        count += 1
    return count


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="measures memory through Linux /proc")
def test_memory_does_not_grow_with_the_number_of_dumps(tmp_path: Path, model_file: Path, monkeypatch):
    folder = tmp_path / "dumps"
    folder.mkdir()
    for i in range(DUMPS):
        (folder / f"d{i:06}.txt").write_text(_dump(i), "utf-8")
    # this test is about memory; waiting for the disk to flush each small
    # output would take most of its time
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    open_files = len(os.listdir("/proc/self/fd"))

    # The whole first batch is the warm-up: one-time allocations (the model,
    # caches, first-use imports, a worker thread's malloc arena touched for the
    # first time when the machine is busy) land in it, mostly. One landed in the
    # second batch once, in the full suite (10.9 MB), so the second and third
    # batches are both measured: a leak grows with every dump, so it shows in
    # both, while a one-time allocation shows in one at most.
    assert _label_batch(folder, tmp_path / "out1", model_file) == DUMPS
    base, documents = _resident(), _live_documents()
    assert _label_batch(folder, tmp_path / "out2", model_file) == DUMPS
    middle = _resident()
    assert _label_batch(folder, tmp_path / "out3", model_file) == DUMPS
    grown = min(middle - base, _resident() - middle)

    assert grown < GROWTH_LIMIT, f"{grown / 2**20:.1f} MB more resident after each of two more batches of {DUMPS} dumps"
    # none is kept once it is written (the count includes the session's training pages)
    assert _live_documents() <= documents
    assert len(os.listdir("/proc/self/fd")) == open_files
    assert len(list((tmp_path / "out3").iterdir())) == DUMPS


#: Runs `lineclf ARGS` and prints its own peak resident memory (kB) on stderr last.
_MEASURED = """
import resource, sys
from lineclf.cli import main
sys.argv = ["lineclf", *sys.argv[1:]]
try:
    main()
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


@pytest.mark.skipif(not os.environ.get("LINECLF_SOAK"), reason="set LINECLF_SOAK=N to run (takes minutes)")
def test_a_million_text_lines_in_bounded_memory(tmp_path: Path, model_file: Path):
    # every line non-blank: labelled whole, its features alone would take
    # gigabytes (a few kB a line); in pieces, a few hundred MB
    path = tmp_path / "million.txt"
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(f"Line {i} of a very long dump, with a few words.\n" for i in range(1_000_000))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, "predict", str(path), "--model", str(model_file), "-o", str(out)],
        check=False, capture_output=True, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore:loading model file"},
    )
    assert result.returncode == 0, result.stderr
    peak_mb = int(result.stderr.split()[-1]) / 1024
    assert peak_mb < 1500, f"peak memory {peak_mb:.0f} MB"
    with open(out / "million.tsv", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 1_000_000
