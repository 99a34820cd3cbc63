"""How fast lineclf labels lines, beside jusText and the C4 line rule, on the same lines.

On the gn1 dumps (the texts of ``../shared/corpus/gn1/*.tsv``; their labels
are not used), in one run and one process each unless said otherwise:

- lineclf, features and prediction only (``labelling.predict_many``, as a
  batch labels its pages);
- lineclf as ``lineclf predict`` runs a batch, features, prediction and tsv
  formatting of tasks of pages, in this process and in ``--jobs`` joblib
  worker processes (started, and the model loaded in each, before the clock
  starts; the start-up is reported on its own);
- jusText (default settings, English stoplist, one paragraph per line) and
  the C4 line rule, both as scripts/benchmark.py runs them;
- where lineclf's one-process time goes: the same batches, labelled stage
  by stage (page features, repetition across the batch, hashed words, first
  pass, second pass), each stage timed on its own; the labels are checked to
  be those of the whole run;
- start-up: ``lineclf predict`` on an empty file, the whole process (Python,
  the imports, loading the model).

Prints a table of lines per second and the ratios between them; --json FILE
writes the figures. Each tool runs --repeat times, interleaved, and the best
time counts (the machine's other work only ever slows a run down). Needs the
``bench`` extra (jusText):

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python scripts/speed.py --json speed.json

Native thread pools are held to one thread (OMP_NUM_THREADS=1, unless set)
so that "one process" means one core, as it does for jusText.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# before numpy and scikit-learn are imported: one process, one core
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ is not a package

import benchmark  # noqa: E402  (the jusText wrapper and the C4 rule)

import lineclf  # noqa: E402
from lineclf.document import Document  # noqa: E402
from lineclf.errors import LineclfError  # noqa: E402
from lineclf.io import atomic_writer, read_labelled_corpus  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
CORPUS_NAME = "gn1"
#: gn1 is English news.
STOPLIST = "English"
DEFAULT_JOBS = 2
DEFAULT_REPEAT = 3
#: The format the batch runs write (the default of `lineclf predict` for dumps).
BATCH_FORMAT = "tsv"

LINECLF_CORE = "lineclf: features + prediction, 1 process"
LINECLF_ALONE = "lineclf: the same, pages alone (no site counts)"
LINECLF_BATCH = "lineclf predict, 1 process"
JUSTEXT = "jusText"
C4_RULE = "C4 rule"


def lineclf_batch_name(jobs: int) -> str:
    return f"lineclf predict -j {jobs}"


# --------------------------------------------------------------------------- the tools


def time_call(
    run: Callable[[], Sequence], documents: Sequence[Document], name: str, labels_of: Callable[[Sequence], Sequence] = list
) -> float:
    """Seconds ``run`` takes; checks it labelled every line of every page
    (``labels_of`` its result, after the clock stops)."""
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    labels = labels_of(result)
    if len(labels) != len(documents):
        raise benchmark.BenchmarkError(f"{name}: {len(labels)} results for {len(documents)} pages")
    for doc, page in zip(documents, labels):
        if len(page) != doc.n_units:
            raise benchmark.BenchmarkError(f"{name}: {doc.name}: {len(page)} labels for {doc.n_units} lines")
    return seconds


def lineclf_core(model, documents: Sequence[Document], alone: bool = False) -> list:
    """Labels of the pages as one batch (lines counted across each site's
    pages), or each page as if alone."""
    from lineclf.features import SiteCounts
    from lineclf.labelling import predict_many

    return [labels for labels, _ in predict_many(model, documents, site_counts=SiteCounts() if alone else None)]


#: The stages of labelling a batch, in the order the model runs them.
PAGE_FEATURES = "page features"
REPETITION = "repetition across the batch"
HASHED_WORDS = "hashed words"
FIRST_PASS = "first pass (linear)"
SECOND_PASS = "second pass (trees)"
STAGES = (PAGE_FEATURES, REPETITION, HASHED_WORDS, FIRST_PASS, SECOND_PASS)


def lineclf_stages(model, documents: Sequence[Document]) -> tuple[dict[str, float], list]:
    """Label the pages as :func:`lineclf_core` does (the batches of
    ``predict_many``), timing each stage of ``LineClassifier.predict_proba``
    on its own: the seconds per stage, and the labels of each page."""
    import numpy as np

    from lineclf.features import SITE_FEATURE_NAMES, SiteCounts, batch_features, feature_names
    from lineclf.labelling import model_calls
    from lineclf.labels import label_names
    from lineclf.model.passes import hashed_text, site_columns, unit_offsets

    seconds = dict.fromkeys(STAGES, 0.0)
    clock = time.perf_counter

    def timed(stage: str, call: Callable, *args):
        start = clock()
        result = call(*args)
        seconds[stage] += clock() - start
        return result

    counts = timed(REPETITION, SiteCounts.of, documents) if model.site_repetition else None
    labels: list = []
    for batch, alone in model_calls(documents):
        if alone:
            raise benchmark.BenchmarkError(f"{documents[batch[0]].name}: a page too big to label in one piece; the stages are not timed")
        pages = [documents[i] for i in batch]
        offsets = unit_offsets(pages)
        if model.site_repetition:  # as passes.batch_input fills one array
            width = len(feature_names(model.context))
            X = np.empty((sum(doc.n_units for doc in pages), width + len(SITE_FEATURE_NAMES)))
            timed(PAGE_FEATURES, batch_features, pages, model.context, X[:, :width])
            X[:, width:] = timed(REPETITION, site_columns, pages, counts)
        else:
            X = timed(PAGE_FEATURES, batch_features, pages, model.context)
        T = timed(HASHED_WORDS, hashed_text, pages, model.hash_features)
        first = timed(FIRST_PASS, model.first_pass, X, T)
        labels += [label_names(p) for p in timed(SECOND_PASS, model.revise, X, first, offsets)]
    return seconds, labels


def lineclf_batch(runner, documents: Sequence[Document]) -> list[str]:
    """Run the pages through a runner as `lineclf predict` does (the batch's
    lines counted first, then tasks, in order); each page's tsv output
    (:func:`batch_labels` reads the labels back, off the clock)."""
    from lineclf.features import SiteCounts
    from lineclf.labelling import split_tasks

    if runner.model.site_repetition:
        runner.site_counts = SiteCounts.of(documents)
    return [result.text for _, result in runner.map_tasks(split_tasks(documents))]


def batch_labels(outputs: Sequence[str]) -> list[list[str]]:
    """The labels of each page's tsv output."""
    return [_labelled_lines(text) for text in outputs]


def check_same_labels(staged: Sequence, whole: Sequence) -> None:
    """The stage-by-stage run labels every line as the whole run does."""
    if len(staged) != len(whole) or any(list(a) != list(b) for a, b in zip(staged, whole)):
        raise benchmark.BenchmarkError("the stage-by-stage run labelled lines otherwise than predict_many")


def _labelled_lines(tsv: str) -> list[str]:
    """The labels of a tsv output (blank lines, kept as they were, have none)."""
    from lineclf.labels import LABELS

    return [label for label, _, _ in (line.partition("\t") for line in tsv.splitlines()) if label in LABELS]


def warm_up(runner, documents: Sequence[Document], jobs: int) -> float:
    """Start the worker processes and load the model in each (a small task
    per worker slot); the seconds it took."""
    start = time.perf_counter()
    few = list(documents[: max(1, jobs)])
    for _ in runner.map_tasks([[doc] for doc in few * max(1, runner.window // len(few))]):
        pass
    return time.perf_counter() - start


# --------------------------------------------------------------------------- report


def startup_seconds(model: Path | None, repeat: int) -> float:
    """``lineclf predict`` on an empty file, as a process of its own: the best of ``repeat`` runs."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lineclf-speed-") as folder:
        empty = Path(folder) / "empty.txt"
        empty.write_bytes(b"")
        command = [sys.executable, "-m", "lineclf", "predict", str(empty), *(["--model", str(model)] if model else [])]
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            best = min(best, time.perf_counter() - start)
    return best


def lines_per_second(lines: int, seconds: float) -> int:
    return round(lines / max(seconds, 1e-9))


def ratio_rows(speeds: dict[str, int], jobs: int) -> list[tuple[str, float]]:
    """The comparisons that matter: lineclf against jusText and the C4 rule, and -j N against one process."""
    parallel = lineclf_batch_name(jobs)
    pairs = [
        (LINECLF_CORE, JUSTEXT),
        (LINECLF_BATCH, JUSTEXT),
        (parallel, JUSTEXT),
        (LINECLF_CORE, C4_RULE),
        (parallel, LINECLF_BATCH),
        (LINECLF_BATCH, LINECLF_CORE),
        (LINECLF_CORE, LINECLF_ALONE),
    ]
    return [
        (f"{a} / {b}", round(speeds[a] / speeds[b], 2))
        for a, b in pairs
        if a in speeds and b in speeds and speeds[b]
    ]


def render(payload: dict) -> str:
    settings = payload["settings"]
    out = [
        f"# lineclf speed on {settings['corpus_name']}",
        "",
        f"Command: `{settings['command']}`",
        "",
        (
            f"{payload['pages']:,} pages, {payload['lines']:,} lines; model {settings['model']}; "
            f"{settings['cpus']} CPUs (load average {settings['load_average']} at the start), "
            f"OMP_NUM_THREADS={settings['omp_num_threads']}; best of {settings['repeat']} runs; "
            + ", ".join(f"{k} {v}" for k, v in settings["versions"].items())
            + "."
        ),
        "",
        "| tool | seconds | lines/s |",
        "|---|---|---|",
    ]
    for name, tool in payload["tools"].items():
        out.append(f"| {name} | {tool['seconds']:.2f} | {tool['lines_per_second']:,} |")
    out += ["", "| ratio of lines/s | |", "|---|---|"]
    out += [f"| {name} | {value:.2f} |" for name, value in payload["ratios"].items()]
    stages = payload.get("stages")
    if stages:
        total = sum(stages.values())
        out += ["", "Where lineclf's one-process time goes (the same batches, stage by stage):", "",
                "| stage | seconds | share |", "|---|---|---|"]
        out += [f"| {name} | {value:.2f} | {value / max(total, 1e-9):.0%} |" for name, value in stages.items()]
        out.append(f"| all stages | {total:.2f} | 100% |")
        if JUSTEXT in payload["tools"]:
            out += ["", f"jusText took {payload['tools'][JUSTEXT]['seconds']:.2f} s for the same lines."]
    if payload.get("startup_seconds") is not None:
        out += ["", f"Start-up: `lineclf predict` on an empty file took {payload['startup_seconds']:.2f} s (the whole process)."]
    if payload.get("worker_start_seconds") is not None:
        out += [
            "",
            (
                f"Starting {settings['jobs']} worker processes and loading the model in each took "
                f"{payload['worker_start_seconds']:.1f} s (not in the -j {settings['jobs']} time)."
            ),
        ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder holding {CORPUS_NAME}/ (default: %(default)s)")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    parser.add_argument("--jobs", "-j", type=int, default=DEFAULT_JOBS,
                        help="worker processes of the parallel run (default: %(default)s; 1 skips it)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="runs per tool, best counts (default: %(default)s)")
    parser.add_argument("--limit-pages", type=int, metavar="N", help="only the first N pages (quick runs)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeat < 1 or (args.limit_pages is not None and args.limit_pages < 1):
        parser.error("--jobs, --repeat and --limit-pages must be at least 1")
    if not (args.corpus / CORPUS_NAME).is_dir():
        parser.error(f"--corpus: no {args.corpus / CORPUS_NAME}")
    if args.model is not None and not args.model.is_file():
        parser.error(f"--model: {args.model}: no such file")
    try:
        import justext  # noqa: F401
    except ImportError:
        parser.error("jusText is not installed: pip install -e '.[bench]'")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from functools import partial

    from lineclf.labelling import JoblibRunner, Runner

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        documents = read_labelled_corpus([args.corpus / CORPUS_NAME])[: args.limit_pages]
        model = lineclf.load_model(args.model)
    except LineclfError as exc:
        print(f"speed: error: {exc}", file=sys.stderr)
        return 1
    # the texts only: no tool may see the labels
    documents = [Document(name=d.name, lines=d.lines, line_ends=d.line_ends) for d in documents]
    lines = sum(doc.n_units for doc in documents)
    stoplist = benchmark.load_stoplist(STOPLIST)
    tools: dict[str, Callable[[], Sequence]] = {
        LINECLF_CORE: partial(lineclf_core, model, documents),
        LINECLF_ALONE: partial(lineclf_core, model, documents, alone=True),
        JUSTEXT: lambda: [benchmark.justext_document(doc, stoplist) for doc in documents],
        C4_RULE: lambda: [benchmark.c4_document(doc) for doc in documents],
    }
    single = Runner(model, BATCH_FORMAT, None)
    tools[LINECLF_BATCH] = partial(lineclf_batch, single, documents)
    batch_tools = {LINECLF_BATCH, lineclf_batch_name(args.jobs)}
    parallel = None
    worker_start = None
    try:
        if args.jobs > 1:
            parallel = JoblibRunner(model, BATCH_FORMAT, None, args.jobs)
            worker_start = warm_up(parallel, documents, args.jobs)
            tools[lineclf_batch_name(args.jobs)] = partial(lineclf_batch, parallel, documents)
        seconds: dict[str, list[float]] = {name: [] for name in tools}
        stage_seconds: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for run in range(1, args.repeat + 1):
            for name, call in tools.items():
                labels_of = batch_labels if name in batch_tools else list
                seconds[name].append(time_call(call, documents, name, labels_of))
                print(f"speed: run {run}/{args.repeat}: {name}: {seconds[name][-1]:.2f} s", file=sys.stderr)
            per_stage, labels = lineclf_stages(model, documents)
            check_same_labels(labels, lineclf_core(model, documents))
            for stage, value in per_stage.items():
                stage_seconds[stage].append(value)
    except benchmark.BenchmarkError as exc:
        print(f"speed: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if parallel is not None:
            parallel.close(failed=False)
    startup = startup_seconds(args.model, args.repeat)
    best = {name: min(values) for name, values in seconds.items()}
    speeds = {name: lines_per_second(lines, s) for name, s in best.items()}
    payload = {
        "settings": {
            "command": " ".join(["scripts/speed.py", *(argv if argv is not None else sys.argv[1:])]),
            "corpus_name": CORPUS_NAME,
            "corpus": str(args.corpus / CORPUS_NAME),
            "model": str(args.model) if args.model else "shipped (models/default.joblib)",
            "jobs": args.jobs,
            "repeat": args.repeat,
            "limit_pages": args.limit_pages,
            "cpus": os.cpu_count(),
            "load_average": None if load is None else round(load[0], 2),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "versions": benchmark.versions(),
        },
        "pages": len(documents),
        "lines": lines,
        "tools": {
            name: {"seconds": round(best[name], 3), "runs": [round(s, 3) for s in seconds[name]], "lines_per_second": speeds[name]}
            for name in tools
        },
        "ratios": dict(ratio_rows(speeds, args.jobs)),
        # best run of each stage
        "stages": {stage: round(min(values), 3) for stage, values in stage_seconds.items()},
        "worker_start_seconds": None if worker_start is None else round(worker_start, 2),
        "startup_seconds": round(startup, 2),
    }
    sys.stdout.write(render(payload))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(args.json) as handle:
            handle.write((json.dumps(payload, indent=2) + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
