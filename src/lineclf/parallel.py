"""Where chunks of pages are labelled: in this process, in joblib's worker
processes, or on a Dask cluster (:mod:`lineclf.dask`).

Each runner takes the chunks of a page stream in order and gives them back
in the same order with each page's :class:`~lineclf.predicting.PageResult`,
keeping at most a few chunks per worker in flight: reading stays just ahead
of labelling, and memory is bounded by the chunks in flight, not by the
batch. Every runner calls the same :func:`~lineclf.predicting.label_chunk`
on the same chunks, so their outputs are identical.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .batch import SiteCounts
from .document import Document
from .errors import UsageError
from .model import LineClassifier

#: Chunks in flight per worker: one being labelled, one waiting, so that a
#: worker never idles while the next chunk is read and sent.
CHUNKS_PER_WORKER = 2
#: Idle worker processes exit after this many seconds (they hold a model each).
WORKER_IDLE_SECONDS = 60
#: Thread pools that scikit-learn's and numpy's native code start: one thread
#: per worker's share of the cores, so that N workers do not run N x cores threads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class _Done:
    """A result computed at once, with the interface of a future."""

    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value

    def cancel(self) -> bool:
        return False


class Runner:
    """Labels chunks of pages in this process."""

    #: Chunks in flight at once.
    window = 1
    #: Line counts of the whole batch (None: each chunk counts its own pages).
    site_counts: SiteCounts | None = None

    def __init__(self, model: LineClassifier, output_format: str | None, keep: Sequence[str] | None):
        self.model = model
        self.output_format = output_format
        self.keep = None if keep is None else tuple(keep)

    def submit(self, documents: list[Document], site_counts: SiteCounts | None):
        from .predicting import label_chunk

        return _Done(label_chunk(self.model, documents, self.output_format, self.keep, site_counts))

    def chunk_counts(self, documents: list[Document]) -> SiteCounts | None:
        """What a chunk's labelling needs of the batch's counts: here all of
        them; a runner that sends chunks elsewhere sends just the chunk's."""
        return self.site_counts

    def close(self, failed: bool) -> None:
        """Release the workers; ``failed``: the batch was interrupted, drop what is in flight."""

    def map_chunks(self, chunks: Iterable[list]) -> Iterator[tuple[object, object]]:
        """Each item of each chunk with its PageResult (None for items that are
        not pages), in order, with at most ``window`` chunks in flight."""
        pending: deque = deque()
        try:
            for chunk in chunks:
                documents = [item for item in chunk if isinstance(item, Document)]
                pending.append((chunk, self.submit(documents, self.chunk_counts(documents)) if documents else _Done([])))
                while len(pending) >= self.window:
                    yield from _unpack(*pending.popleft())
            while pending:
                yield from _unpack(*pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()


def _unpack(chunk: list, future) -> Iterator[tuple[object, object]]:
    results = iter(future.result())
    for item in chunk:
        yield item, (next(results) if isinstance(item, Document) else None)


class JoblibRunner(Runner):
    """Labels chunks in ``jobs`` joblib (loky) worker processes.

    The model is written once to a temporary file, which each worker loads
    the first time it is given a chunk and keeps: it is sent to a worker once,
    not with every chunk.
    """

    def __init__(self, model: LineClassifier, output_format: str | None, keep: Sequence[str] | None, jobs: int):
        super().__init__(model, output_format, keep)
        import joblib
        from joblib.externals.loky import get_reusable_executor

        self.window = jobs * CHUNKS_PER_WORKER
        self._folder = tempfile.mkdtemp(prefix="lineclf-model-")
        try:
            self._model_file = str(Path(self._folder) / "model.joblib")
            # uncompressed: each worker loads it, and loading is then faster
            joblib.dump(model, self._model_file)
            self._executor = get_reusable_executor(
                max_workers=jobs, timeout=WORKER_IDLE_SECONDS, env=thread_limits(jobs)
            )
        except BaseException:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise

    def submit(self, documents: list[Document], site_counts: SiteCounts | None):
        return self._executor.submit(
            label_chunk_from_file, self._model_file, documents, self.output_format, self.keep, site_counts
        )

    def chunk_counts(self, documents: list[Document]) -> SiteCounts | None:
        return None if self.site_counts is None else self.site_counts.restricted_to(documents)

    def close(self, failed: bool) -> None:
        try:
            if failed:
                # an error or an interrupt: stop the workers now rather than
                # let them finish chunks nobody will write
                self._executor.shutdown(wait=False, kill_workers=True)
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def thread_limits(jobs: int) -> dict[str, str]:
    """Environment for worker processes: each gets its share of the cores
    for native threads (a variable already set is kept)."""
    share = str(max(1, (os.cpu_count() or 1) // jobs))
    return {name: os.environ.get(name, share) for name in THREAD_VARIABLES}


# the model a worker process has loaded: (file, classifier)
_WORKER_MODEL: tuple[str, LineClassifier] | None = None


def label_chunk_from_file(model_file: str, documents, output_format, keep, site_counts=None):
    """label_chunk in a worker, with the model loaded from ``model_file`` once per process."""
    global _WORKER_MODEL
    from .predicting import label_chunk

    if _WORKER_MODEL is None or _WORKER_MODEL[0] != model_file:
        import joblib

        # a file this run wrote from the model it loaded (and checked): not an untrusted file
        _WORKER_MODEL = (model_file, joblib.load(model_file))
    return label_chunk(_WORKER_MODEL[1], documents, output_format, keep, site_counts)


@contextlib.contextmanager
def open_runner(
    model: LineClassifier,
    output_format: str | None,
    keep: Sequence[str] | None,
    jobs: int = 1,
    scheduler: str | None = None,
    site_counts: SiteCounts | None = None,
) -> Iterator[Runner]:
    """The runner for a batch: in this process (``jobs`` 1), joblib workers,
    or a Dask cluster (``scheduler``), released when the batch is done.
    ``site_counts``: the batch's line counts, for every chunk."""
    if scheduler is not None:
        from .dask import DaskRunner

        runner: Runner = DaskRunner(model, output_format, keep, scheduler)
    elif jobs > 1:
        runner = JoblibRunner(model, output_format, keep, jobs)
    elif jobs == 1:
        runner = Runner(model, output_format, keep)
    else:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    runner.site_counts = site_counts
    failed = True
    try:
        yield runner
        failed = False
    finally:
        runner.close(failed)
