"""Where tasks of pages are labelled: in this process, in joblib's worker
processes, or on a Dask cluster (:mod:`.cluster`).

Each runner takes the tasks of a page stream in order and gives them back
in the same order with each page's :class:`~lineclf.labelling.tasks.PageResult`,
keeping at most a few tasks per worker in flight: reading stays just ahead
of labelling, and memory is bounded by the tasks in flight, not by the
batch. Every runner calls the same :func:`~lineclf.labelling.tasks.label_task`
on the same tasks, so their outputs are identical.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..document import Document
from ..features import SiteCounts
from ..model.files import as_predictor
from ..model.predictor import Predictor
from .tasks import label_task

#: Tasks in flight per worker: one being labelled, one waiting, so that a
#: worker never idles while the next task is read and sent.
TASKS_PER_WORKER = 2
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
    """Labels tasks of pages in this process."""

    #: Tasks in flight at once.
    window = 1
    #: Line counts of the whole batch (None: each task counts its own pages).
    site_counts: SiteCounts | None = None

    def __init__(self, model: Predictor, output_format: str | None, keep: Sequence[str] | None):
        # a fitted LineClassifier is labelled with, and sent to workers as, its predictor
        self.model = as_predictor(model)
        self.output_format = output_format
        self.keep = None if keep is None else tuple(keep)

    def submit(self, documents: list[Document], site_counts: SiteCounts | None):
        return _Done(label_task(self.model, documents, self.output_format, self.keep, site_counts))

    def task_counts(self, documents: list[Document]) -> SiteCounts | None:
        """What a task's labelling needs of the batch's counts: here all of
        them; a runner that sends tasks elsewhere sends just the task's."""
        return self.site_counts

    def close(self, failed: bool) -> None:
        """Release the workers; ``failed``: the batch was interrupted, drop what is in flight."""

    def map_tasks(self, tasks: Iterable[list]) -> Iterator[tuple[object, object]]:
        """Each item of each task with its PageResult (None for items that are
        not pages), in order, with at most ``window`` tasks in flight."""
        pending: deque = deque()
        try:
            for task in tasks:
                documents = [item for item in task if isinstance(item, Document)]
                pending.append((task, self.submit(documents, self.task_counts(documents)) if documents else _Done([])))
                while len(pending) >= self.window:
                    yield from _unpack(*pending.popleft())
            while pending:
                yield from _unpack(*pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()


def _unpack(task: list, future) -> Iterator[tuple[object, object]]:
    results = iter(future.result())
    for item in task:
        yield item, (next(results) if isinstance(item, Document) else None)


class JoblibRunner(Runner):
    """Labels tasks in ``jobs`` joblib (loky) worker processes.

    The model is written once to a temporary file, which each worker loads
    the first time it is given a task and keeps: it is sent to a worker once,
    not with every task. So are the batch's line counts (:class:`CountsFile`),
    which the workers map: a task carries only its sites' page counts.
    """

    def __init__(self, model: Predictor, output_format: str | None, keep: Sequence[str] | None, jobs: int):
        super().__init__(model, output_format, keep)
        import joblib
        from joblib.externals.loky import get_reusable_executor

        self.window = jobs * TASKS_PER_WORKER
        self._site_counts: SiteCounts | None = None
        self._counts_file: CountsFile | None = None
        self._saved_counts = 0
        self._folder = tempfile.mkdtemp(prefix="lineclf-model-")
        try:
            self._model_file = str(Path(self._folder) / "model.joblib")
            # uncompressed: each worker loads it, and loading is then faster
            joblib.dump(self.model, self._model_file)
            self._executor = get_reusable_executor(
                max_workers=jobs, timeout=WORKER_IDLE_SECONDS, env=thread_limits(jobs)
            )
        except BaseException:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise

    def submit(self, documents: list[Document], site_counts: SiteCounts | None):
        return self._executor.submit(
            label_task_from_file, self._model_file, documents, self.output_format, self.keep, site_counts
        )

    @property
    def site_counts(self) -> SiteCounts | None:
        return self._site_counts

    @site_counts.setter
    def site_counts(self, counts: SiteCounts | None) -> None:
        self._site_counts, self._counts_file = counts, None
        if counts is not None and len(counts.keys):
            self._saved_counts += 1
            self._counts_file = CountsFile.save(counts, Path(self._folder) / f"counts-{self._saved_counts}")

    def task_counts(self, documents: list[Document]) -> "SiteCounts | CountsFile | None":
        if self._counts_file is None:
            # no counts, or none of a line: the task's part is all there is
            return None if self._site_counts is None else self._site_counts.restricted_to(documents)
        return self._counts_file.for_sites(documents, self._site_counts)

    def close(self, failed: bool) -> None:
        try:
            if failed:
                # an error or an interrupt: stop the workers now rather than
                # let them finish tasks nobody will write
                self._executor.shutdown(wait=False, kill_workers=True)
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def thread_limits(jobs: int) -> dict[str, str]:
    """Environment for worker processes: each gets its share of the cores
    for native threads (a variable already set is kept)."""
    share = str(max(1, (os.cpu_count() or 1) // jobs))
    return {name: os.environ.get(name, share) for name in THREAD_VARIABLES}


@dataclass(frozen=True)
class CountsFile:
    """A batch's line counts saved once (two numpy ``.npy`` files, keys and
    counts) for worker processes to map, with the page counts of one task's
    sites. Sending this instead of the task's share of the counts spares the
    main process, which feeds every worker, hashing each task's lines again
    to find that share; the workers share the mapped files' pages."""

    prefix: str
    site_pages: dict

    @classmethod
    def save(cls, counts: SiteCounts, prefix: Path) -> "CountsFile":
        np.save(f"{prefix}.keys.npy", counts.keys)
        np.save(f"{prefix}.counts.npy", counts.counts)
        return cls(str(prefix), {})

    def for_sites(self, documents: Sequence[Document], counts: SiteCounts) -> "CountsFile":
        """This file with the page counts of the documents' sites, from ``counts``."""
        return CountsFile(self.prefix, {doc.site: counts.pages_of(doc) for doc in documents})

    def load(self) -> SiteCounts:
        """The counts, mapped once per process (the arrays are kept while
        tasks name the same file)."""
        global _WORKER_COUNTS
        if _WORKER_COUNTS is None or _WORKER_COUNTS[0] != self.prefix:
            arrays = tuple(np.load(f"{self.prefix}.{name}.npy", mmap_mode="r") for name in ("keys", "counts"))
            _WORKER_COUNTS = (self.prefix, arrays)
        keys, counts = _WORKER_COUNTS[1]
        return SiteCounts(keys, counts, self.site_pages)


# What a worker process has loaded, (file, classifier) and (file prefix,
# arrays): a worker is a process that labels task after task, so the process
# is where they are kept.
_WORKER_MODEL: tuple[str, Predictor] | None = None
_WORKER_COUNTS: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None


def label_task_from_file(model_file: str, documents, output_format, keep, site_counts=None):
    """label_task in a worker, with the model loaded from ``model_file`` once
    per process (and the batch's counts mapped once, for a :class:`CountsFile`)."""
    global _WORKER_MODEL
    if _WORKER_MODEL is None or _WORKER_MODEL[0] != model_file:
        import joblib

        # a file this run wrote from the model it loaded (and checked): not an untrusted file
        _WORKER_MODEL = (model_file, joblib.load(model_file))
    if isinstance(site_counts, CountsFile):
        site_counts = site_counts.load()
    return label_task(_WORKER_MODEL[1], documents, output_format, keep, site_counts)
