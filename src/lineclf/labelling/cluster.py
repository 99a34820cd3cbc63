"""Labelling on a Dask cluster (``pip install 'lineclf[dask]'``).

Two ways:

- ``lineclf predict ... --dask-scheduler tcp://host:8786`` (or
  ``predict_files(..., scheduler=address)``): pages are read here, labelled in
  tasks on the cluster's workers, and written here in input order, exactly
  as one process would write them. The model is sent to each worker once.
- :func:`label_bag` maps the model over a ``dask.bag`` of pages (Documents,
  JSON Lines records as dicts, or page texts) that you build yourself, for
  example with :func:`read_bag` (each input file read by a worker, so the
  files must be where the workers can read them), giving a bag of formatted
  outputs, one string per page, in the bag's order::

      from lineclf.labelling import cluster
      pages = cluster.read_bag(["crawl/a.wet.gz", "crawl/b.wet.gz"])
      cluster.label_bag(pages, output_format="text").to_textfiles("clean/*.jsonl")
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..document import Document
from ..errors import LineclfError, UsageError
from ..features import SiteCounts
from ..io import PageError, RecordSettings, detect_source, expand_sources, page_document, read_source, record_page
from ..io.readers import Decoded
from ..io.sources import DEFAULT_ID_FIELD, DEFAULT_TEXT_FIELD
from ..model.files import as_predictor
from ..model.predictor import Predictor
from .runners import TASKS_PER_WORKER, Runner
from .tasks import label_task, split_tasks

#: How long to wait for the scheduler to answer before giving up.
CONNECT_TIMEOUT_SECONDS = 30


def _require_dask():
    try:
        import dask.bag  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError("labelling on Dask needs dask and distributed: pip install 'lineclf[dask]'") from None


# --------------------------------------------------------------------------- predict --dask-scheduler


class DaskRunner(Runner):
    """Labels tasks on a Dask cluster: the model is scattered to every worker
    once, and each task is one Dask task."""

    def __init__(self, model: Predictor, output_format: str | None, keep: Sequence[str] | None, scheduler):
        super().__init__(model, output_format, keep)
        _require_dask()
        from distributed import Client

        self._own_client = not isinstance(scheduler, Client)
        if self._own_client:
            try:
                self._client = Client(scheduler, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise LineclfError(f"{scheduler}: cannot reach the Dask scheduler: {' '.join(str(exc).split())}") from None
        else:
            self._client = scheduler
        try:
            threads = sum(self._client.nthreads().values())
            self.window = TASKS_PER_WORKER * max(1, threads)
            self._model = self._client.scatter(self.model, broadcast=True, hash=False)
        except BaseException:
            self.close(True)
            raise

    def submit(self, documents: list[Document], site_counts: SiteCounts | None):
        return self._client.submit(
            label_task, self._model, documents, self.output_format, self.keep, site_counts, pure=False
        )

    def task_counts(self, documents: list[Document]) -> SiteCounts | None:
        return None if self.site_counts is None else self.site_counts.restricted_to(documents)

    def close(self, failed: bool) -> None:
        if self._own_client:
            self._client.close()


# --------------------------------------------------------------------------- dask.bag


def read_bag(
    inputs: Iterable[str | Path],
    input_format: str = "auto",
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    encoding_errors: str = "strict",
):
    """A ``dask.bag`` of the inputs' pages (Documents), one partition per input
    file, each read lazily by the worker that labels it. Folders are expanded
    here; the files must be readable by the workers. A page that cannot be
    read fails the computation with its DataFormatError."""
    _require_dask()
    import dask.bag as db

    paths = [str(p) for p in expand_sources(inputs, input_format)]
    if "-" in paths:
        raise UsageError("standard input cannot be read by Dask workers; give files")
    settings = RecordSettings(text_field, id_field, encoding_errors)
    return db.from_sequence(paths, npartitions=max(1, len(paths))).map_partitions(
        _read_partition, input_format, settings
    )


def _read_partition(paths: Iterable[str], input_format: str, settings: RecordSettings) -> list[Document]:
    # a list, not a generator: a partition may have to be sent between processes
    pages = []
    for path in paths:
        source = detect_source(path, input_format, settings.text_field)
        for page in read_source(source, settings):
            if isinstance(page, PageError):
                raise page.error
            pages.append(page)
    return pages


def label_bag(
    pages,
    model: str | Path | Predictor | None = None,  # or a fitted LineClassifier
    output_format: str | None = None,
    keep: Sequence[str] | None = None,
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    count_sites: bool = True,
):
    """Map the model over a ``dask.bag`` of pages: a bag of the pages'
    formatted outputs (one string per page, as ``lineclf predict`` writes it),
    in the bag's order.

    With ``count_sites`` (and a model with ``site_repetition``), the lines of
    each site are first counted over the whole bag, a map-reduce of
    :class:`~lineclf.features.SiteCounts` (so the bag is read twice unless it is
    persisted); else each partition's tasks count their own pages.

    Pages are :class:`Document` (e.g. from :func:`read_bag`), JSON Lines
    records (dicts with the page text in ``text_field``), or page texts
    (str, read as dumps). ``model`` is loaded here (a file, or None for the
    shipped model) and sent to each worker once. ``output_format`` None gives
    tsv for dumps and jsonl for records, as in :func:`lineclf.labelling.formats.page_format`.
    """
    _require_dask()
    import uuid

    import dask

    classifier = as_predictor(model)
    # one graph node for the model, which every partition depends on: a
    # worker receives it once (named, so that dask does not hash the model)
    model_node = dask.delayed(classifier, name=f"lineclf-model-{uuid.uuid4().hex}", traverse=False)
    keep = None if keep is None else tuple(keep)
    settings = RecordSettings(text_field, id_field)
    site_counts = None
    if count_sites and classifier.site_repetition:
        site_counts = pages.reduction(partial(_count_partition, settings=settings), _merge_counts)
    return pages.map_partitions(_label_partition, model_node, output_format, keep, settings, site_counts)


def _count_partition(items: Iterable[Any], settings: RecordSettings) -> SiteCounts:
    return SiteCounts.of(_as_document(item, n, settings) for n, item in enumerate(items, start=1))


def _merge_counts(parts: Iterable[SiteCounts]) -> SiteCounts:
    return functools.reduce(SiteCounts.merge, parts, SiteCounts())


def _label_partition(
    items: Iterable[Any], model: Predictor, output_format, keep, settings: RecordSettings, site_counts=None
) -> list[str]:
    documents = (_as_document(item, n, settings) for n, item in enumerate(items, start=1))
    texts = []
    for task in split_tasks(documents):
        for result in label_task(model, task, output_format, keep, site_counts):
            if result.error is not None:
                raise result.error
            texts.append(result.text)
    return texts


def _as_document(item: Any, number: int, settings: RecordSettings) -> Document:
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return page_document(f"page {number}", Decoded(item))
    return record_page(item, f"record {number}", settings, number=number)
