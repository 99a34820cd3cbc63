"""Labelling runs: from inputs to formatted, written output.

Imports run one way, from the run down to the model:

- :mod:`.run`: a run over inputs (:func:`predict_files`), which picks a runner;
- :mod:`.planning`: recognising the inputs and planning the output files;
- :mod:`.runners`, :mod:`.cluster`: where tasks are labelled (this process,
  joblib workers, a Dask cluster; also ``dask.bag`` labelling);
- :mod:`.writer`: writing the labelled pages in input order;
- :mod:`.tasks`: a task's pages labelled and formatted;
- :mod:`.documents`: pages labelled with bounded memory (oversized pages in
  pieces, ordinary ones grouped into calls of the model);
- :mod:`.formats`: the output format of each kind of input.
"""

from __future__ import annotations

from .documents import CALL_CHARS, CALL_LINES, MAX_LINE_CHARS, PIECE_CHARS, PIECE_LINES, model_calls, predict_document, predict_many
from .formats import FORMATS, OUTPUT_SUFFIXES, TEXT_KEEP, format_prediction, output_suffix, page_format
from .planning import detect_sources, plan_outputs
from .run import ON_ERROR, count_site_lines, open_runner, predict_files, predict_paths
from .runners import JoblibRunner, Runner
from .tasks import TASK_CHARS, TASK_LINES, TASK_PAGES, PageResult, label_task, split_tasks
from .writer import Outcome

__all__ = [
    "CALL_CHARS",
    "CALL_LINES",
    "FORMATS",
    "MAX_LINE_CHARS",
    "ON_ERROR",
    "OUTPUT_SUFFIXES",
    "PIECE_CHARS",
    "PIECE_LINES",
    "TASK_CHARS",
    "TASK_LINES",
    "TASK_PAGES",
    "TEXT_KEEP",
    "JoblibRunner",
    "Outcome",
    "PageResult",
    "Runner",
    "count_site_lines",
    "detect_sources",
    "format_prediction",
    "label_task",
    "model_calls",
    "open_runner",
    "output_suffix",
    "page_format",
    "plan_outputs",
    "predict_document",
    "predict_files",
    "predict_many",
    "predict_paths",
    "split_tasks",
]
