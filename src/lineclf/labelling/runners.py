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
from pathlib import Path

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
    not with every task.
    """

    def __init__(self, model: Predictor, output_format: str | None, keep: Sequence[str] | None, jobs: int):
        super().__init__(model, output_format, keep)
        import joblib
        from joblib.externals.loky import get_reusable_executor

        self.window = jobs * TASKS_PER_WORKER
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

    def task_counts(self, documents: list[Document]) -> SiteCounts | None:
        return None if self.site_counts is None else self.site_counts.restricted_to(documents)

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


# The model a worker process has loaded, (file, classifier): a worker is a
# process that labels task after task, so the process is where it is kept.
_WORKER_MODEL: tuple[str, Predictor] | None = None


def label_task_from_file(model_file: str, documents, output_format, keep, site_counts=None):
    """label_task in a worker, with the model loaded from ``model_file`` once per process."""
    global _WORKER_MODEL
    if _WORKER_MODEL is None or _WORKER_MODEL[0] != model_file:
        import joblib

        # a file this run wrote from the model it loaded (and checked): not an untrusted file
        _WORKER_MODEL = (model_file, joblib.load(model_file))
    return label_task(_WORKER_MODEL[1], documents, output_format, keep, site_counts)
