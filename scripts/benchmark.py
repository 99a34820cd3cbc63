"""Benchmark lineclf against the peers people use on text dumps, on the same lines.

On gn1 (English) and de-news (German), each: lineclf in site-grouped
cross-validation (folds by site over both corpora together, each fold's model
trained on the other folds of both, as ``scripts/train_default.sh`` does),
next to an all-chrome baseline, the C4 line rule and jusText, all labelling
exactly the same non-blank lines. Scores are per-label precision, recall and
F1, macro-F1, body F1 and content F1, line-weighted and character-weighted,
and lines per second.

On turku-quality (de, en, es, fi): content F1 (body, headline, caption = 1;
teaser, chrome = 0) on a document-grouped cross-validation of each language's
train.json, for lineclf, jusText with that language's stoplist, and the
trivial all-content answer.

Writes a Markdown report to stdout (and --markdown FILE), a JSON file
(--json FILE) and, with --png-dir, a confusion-matrix PNG for lineclf per
corpus. Needs the ``bench`` extra (jusText; matplotlib for the PNGs):

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python scripts/benchmark.py --markdown benchmarks/results.md \\
        --json benchmarks/results.json --png-dir benchmarks

The full run trains lineclf six times on gn1 + de-news (five folds, then once
on everything for turku-quality). For quick runs: --limit-pages 40
--turku-limit 50, or --skip-lineclf for the peers alone.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

import lineclf
from lineclf.features import SiteCounts
from lineclf.document import Document
from lineclf.errors import LineclfError, UsageError
from lineclf.io import atomic_writer, read_labelled_corpus
from lineclf.labels import CONTENT_LABELS, LABELS
from lineclf.evaluation import DEFAULT_FOLDS, Report, document_groups, most_probable_labels
from lineclf.training import parse_bias_labels, relabel_document
from lineclf.evaluation.tuning import nested_label_bias

logger = logging.getLogger("benchmark")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"

#: The five-label corpora: name -> jusText stoplist (the corpus language), or
#: None where each page's language is in the manifest's language column (web).
CORPORA = {"gn1": "English", "de-news": "German", "web": None}
#: Language codes of a manifest's language column -> jusText stoplist.
STOPLISTS = {"en": "English", "de": "German"}
#: turku-quality languages -> jusText stoplist.
TURKU_LANGUAGES = {"de": "German", "en": "English", "es": "Spanish", "fi": "Finnish"}
TURKU_DIR = "turku-quality"
TURKU_FILE = "train.json"
#: lineclf's cross-validation parts for turku-quality pages it trains on (--train-turku).
TURKU_PART = "turku-"
#: What --data-weight may name: the five-label corpora and turku-quality (all its languages).
WEIGHTED_DATA = (*CORPORA, TURKU_DIR)
#: turku-quality's line labels: 1 = main text, 0 = noise.
TURKU_CONTENT, TURKU_NOISE = 1, 0

#: What the binary peers' kept and dropped lines count as.
KEPT_LABEL = "body"
DROPPED_LABEL = "chrome"

#: The C4 line rule (Raffel et al. 2020). C4 keeps lines ending in ".", "!",
#: "?" or a closing quotation mark; the dumps use typographic quotes too
#: (English ” and German “ or « »), so those count as closing marks as well.
C4_TERMINAL_MARKS = (".", "!", "?", '"', "\u201d", "\u201c", "\u00bb", "\u00ab")
C4_MIN_WORDS = 3
#: Lines containing any of these (lower-cased) are dropped.
C4_BANNED = ("javascript", "lorem ipsum", "{")

#: Tool names as they appear in the tables.
LINECLF = "lineclf"
#: lineclf with each page labelled as if alone: no counts of lines across the
#: pages of its site (what `lineclf predict` does with --no-count-sites).
LINECLF_ALONE = "lineclf, pages alone"


def lineclf_cut_name(iterations: int) -> str:
    """lineclf with its second pass cut to its trees' first ``iterations``
    (``--tree-iterations``): the same fits, fewer trees walked."""
    return f"lineclf, trees cut to {iterations} iterations"
ALL_CHROME = "all chrome"
C4_RULE = "C4 rule"
JUSTEXT = "jusText"
ALL_CONTENT = "all content"

#: Decimal places of the scores in the JSON file and the tables.
JSON_DIGITS = 4
TABLE_DIGITS = 3


class BenchmarkError(Exception):
    """The benchmark cannot be run or its tools disagree on the lines."""


# --------------------------------------------------------------------------- peers


def c4_keeps(line: str) -> bool:
    """Whether the C4 line rule keeps ``line``: it ends in a terminal mark, has
    at least C4_MIN_WORDS words and contains no banned string."""
    text = line.strip()
    lowered = text.lower()
    return (
        text.endswith(C4_TERMINAL_MARKS)
        and len(text.split()) >= C4_MIN_WORDS
        and not any(banned in lowered for banned in C4_BANNED)
    )


def c4_labels(units: Sequence[str]) -> list[str]:
    """The C4 rule's label for each line: kept = body, dropped = chrome."""
    return [KEPT_LABEL if c4_keeps(line) else DROPPED_LABEL for line in units]


def justext_labels(units: Sequence[str], stoplist: frozenset[str], name: str = "<page>") -> list[str]:
    """jusText's label for each line, every line one paragraph: good = body, else chrome.

    jusText takes HTML, so each line becomes one ``<p>`` of HTML-escaped text.
    Its paragraphs are checked against the lines (same number, same text after
    jusText's whitespace normalisation), so a line that the HTML parser split,
    merged or dropped stops the benchmark instead of shifting every later label.
    """
    import justext
    from justext.utils import normalize_whitespace

    page = "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in units) + "</body></html>"
    paragraphs = justext.justext(page, stoplist)
    if len(paragraphs) != len(units):
        raise BenchmarkError(f"{name}: jusText made {len(paragraphs)} paragraphs of {len(units)} lines")
    for number, (paragraph, line) in enumerate(zip(paragraphs, units), start=1):
        if paragraph.text != normalize_whitespace(line.strip()):
            raise BenchmarkError(f"{name}: line {number}: jusText's paragraph text differs from the line")
    return [KEPT_LABEL if paragraph.class_type == "good" else DROPPED_LABEL for paragraph in paragraphs]


def justext_document(doc: Document, stoplist: frozenset[str]) -> list[str]:
    """jusText's label for each line of a document."""
    return justext_labels(doc.units, stoplist, doc.name)


def c4_document(doc: Document) -> list[str]:
    """The C4 rule's label for each line of a document."""
    return c4_labels(doc.units)


@lru_cache(maxsize=None)
def load_stoplist(language: str) -> frozenset[str]:
    """jusText's stoplist for a language name such as ``"German"``."""
    import justext

    return justext.get_stoplist(language)


def run_tool(
    label_lines: Callable[[Document], Sequence[str]], documents: Sequence[Document]
) -> tuple[list[list[str]], float]:
    """Labels of every document's lines by a per-document tool, and the seconds it took."""
    start = time.perf_counter()
    predictions = [list(label_lines(doc)) for doc in documents]
    return predictions, time.perf_counter() - start


# --------------------------------------------------------------------------- lineclf


def part_data(part: str) -> str:
    """The training corpus a cross-validation part belongs to (turku-quality for
    each of its languages), as `lineclf train` names its DATA."""
    return TURKU_DIR if part.startswith(TURKU_PART) else part


def part_weight(part: str, data_weights: dict[str, float]) -> float:
    """How much each line of a cross-validation part counts in training: its
    corpus's --data-weight (turku-quality's for every turku language), else 1."""
    return data_weights.get(part_data(part), 1.0)


def parse_relabel(item: str) -> tuple[str, str, str]:
    """``DATA:LABEL=NEW`` of --relabel, as `lineclf train --relabel` takes it."""
    from lineclf.training import parse_relabel as parse

    try:
        data, label, new = parse(item)
    except LineclfError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if data not in WEIGHTED_DATA:
        raise argparse.ArgumentTypeError(f"{item!r}: DATA must be one of {', '.join(WEIGHTED_DATA)}")
    return data, label, new


def positive_int(item: str) -> int:
    try:
        value = int(item)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {item!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {item!r}")
    return value


def parse_data_weight(item: str) -> tuple[str, float]:
    """``NAME=WEIGHT`` of --data-weight, as `lineclf train --data-weight` takes it."""
    from lineclf.training import parse_data_weight as parse

    try:
        name, weight = parse(item)
    except LineclfError:
        name, weight = "", float("nan")
    if name not in WEIGHTED_DATA or not 0 < weight < float("inf"):
        raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT with NAME one of {', '.join(WEIGHTED_DATA)} and WEIGHT > 0, not {item!r}")
    return name, weight


def lineclf_cross_validation(
    documents: Sequence[Document],
    groups: Sequence[str],
    parts: Sequence[str],
    folds: int,
    params: dict,
    data_weights: dict[str, float] | None = None,
    tune_label_bias: bool = False,
    bias_labels: Sequence[str] | None = None,
    relabel: dict[str, dict[str, str]] | None = None,
    jobs: int = 1,
    tree_iterations: Sequence[int] = (),
) -> dict[str, tuple[list[np.ndarray], dict[str, float]]]:
    """Site-grouped cross-validated labels of every document (the same folds as
    lineclf.evaluation.cross_val_predict), and per part (corpus) the seconds spent
    predicting its test pages (features and model; fitting is not counted).

    Keyed by variant: LINECLF labels each corpus's test pages as one batch,
    whose lines are counted across the pages of each site (the fold holds
    every page of its sites); LINECLF_ALONE, for a model with site
    repetition, labels the same pages as if each were alone. ``data_weights``:
    how much each line of a part counts in training (``--data-weight``).
    ``tune_label_bias``: the labels are those of per-label offsets tuned, as
    `lineclf train --tune-label-bias` tunes them, on the pages of the other
    folds (each part a source; partially labelled ones scored by content F1;
    each variant on its own probabilities); ``bias_labels``: the labels whose
    offsets are tuned (default all). ``relabel``: per corpus, what its lines
    of a label are trained as (``--relabel``); scores keep the labels as written.
    ``jobs``: folds fitted side by side, in as many processes (each with one
    OpenMP thread). ``tree_iterations``: also label the pages with each
    fold's model cut to that many boosting iterations of its trees
    (``lineclf_cut_name``; see ``LineClassifier.with_tree_iterations``)."""
    from joblib import Parallel, delayed
    from sklearn.model_selection import GroupKFold

    threads = 1 if jobs > 1 else None

    weights = [part_weight(part, data_weights or {}) for part in parts]
    training = [relabel_document(doc, (relabel or {}).get(part_data(part), {})) for doc, part in zip(documents, parts)]

    n_splits = min(folds, len(set(groups)))
    if n_splits < 2:
        raise BenchmarkError("cross-validation needs pages from at least two sites")
    # each variant: the site counts it labels with (None: of the batch), and the trees' iterations it keeps
    variants: dict[str, tuple[SiteCounts | None, int | None]] = {LINECLF: (None, None)}
    settings = lineclf.LineClassifier(**params)
    if settings.site_repetition:
        variants[LINECLF_ALONE] = (SiteCounts(), None)  # no other pages: every line counts once
    max_iter = settings.max_iter
    for iterations in tree_iterations:
        if not 1 <= iterations < max_iter:
            raise BenchmarkError(f"--tree-iterations {iterations}: the trees have {max_iter} iterations; cut to fewer")
        variants[lineclf_cut_name(iterations)] = (None, iterations)
    probas = {variant: [None] * len(documents) for variant in variants}
    seconds = {variant: dict.fromkeys(parts, 0.0) for variant in variants}
    fold_of = np.zeros(len(documents), dtype=np.int64)
    splits = list(GroupKFold(n_splits=n_splits).split(documents, groups=groups))
    # one predict call per corpus, so that each corpus gets its own speed
    tasks = [
        delayed(_cross_validation_fold)(
            params,
            [training[i] for i in train],
            [groups[i] for i in train],
            [weights[i] for i in train],
            {part: [documents[i] for i in test if parts[i] == part] for part in dict.fromkeys(parts)},
            variants,
            threads,
        )
        for train, test in splits
    ]
    if jobs > 1:
        import cloudpickle  # what joblib's worker processes pickle tasks with

        # scripts/ is no package: the worker processes get this module's functions by value
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    outcomes = Parallel(n_jobs=jobs)(tasks) if jobs > 1 else (task[0](*task[1], **task[2]) for task in tasks)
    for fold, ((train, test), (fit_seconds, labelled)) in enumerate(zip(splits, outcomes), start=1):
        logger.info("lineclf fold %d/%d: trained on %d pages in %.0f s", fold, n_splits, len(train), fit_seconds)
        fold_of[test] = fold
        for part in dict.fromkeys(parts):
            batch = [i for i in test if parts[i] == part]
            for variant in variants:
                page_probas, spent = labelled[part][variant]
                seconds[variant][part] += spent
                for i, proba in zip(batch, page_probas):
                    probas[variant][i] = proba
    predictions = {variant: most_probable_labels(page_probas) for variant, page_probas in probas.items()}
    if tune_label_bias:
        labels = [doc.labels for doc in documents]
        # one source per training corpus, as `lineclf train` has them (turku-quality's languages together)
        sources = [part_data(part) for part in parts]
        for variant, page_probas in probas.items():
            predictions[variant], per_fold = nested_label_bias(page_probas, labels, fold_of, sources, bias_labels)
            logger.info("%s: label offsets per fold %s", variant, [fold.round(2).tolist() for fold in per_fold])
    return {variant: (predictions[variant], seconds[variant]) for variant in variants}  # type: ignore[misc]


def _cross_validation_fold(
    params: dict,
    train: list[Document],
    groups: list[str],
    weights: list[float],
    test: dict[str, list[Document]],
    variants: dict[str, tuple[SiteCounts | None, int | None]],
    threads: int | None,
) -> tuple[float, dict[str, dict[str, tuple[list[np.ndarray], float]]]]:
    """Fit one fold's model; per test corpus and variant, its pages' probabilities
    and the seconds they took. ``threads``: the most OpenMP threads the trees
    may use (folds run side by side must not crowd each other's cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        start = time.perf_counter()
        model = lineclf.LineClassifier(**params).fit(train, groups=groups, sample_weight=weights)
        fit_seconds = time.perf_counter() - start
        models = {iterations: model if iterations is None else model.with_tree_iterations(iterations)
                  for _, iterations in variants.values()}
        labelled: dict[str, dict[str, tuple[list[np.ndarray], float]]] = {}
        for part, pages in test.items():
            labelled[part] = {}
            for variant, (site_counts, iterations) in variants.items():
                start = time.perf_counter()
                page_probas = models[iterations].predict_proba(pages, site_counts)
                labelled[part][variant] = (page_probas, time.perf_counter() - start)
    return fit_seconds, labelled


# --------------------------------------------------------------------------- scores


def weighted_report(expected: Sequence[str], predicted: Sequence[str], weights: np.ndarray) -> Report:
    """A Report whose confusion matrix adds up ``weights`` (e.g. characters) instead of lines."""
    index = {name: i for i, name in enumerate(LABELS)}
    true = np.array([index[x] for x in expected], dtype=np.int64)
    pred = np.array([index[x] for x in predicted], dtype=np.int64)
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    np.add.at(confusion, (true, pred), weights)
    return Report(LABELS, confusion)


def score_dict(report: Report) -> dict:
    """The scores of a report, rounded for JSON; ``total`` and ``support`` are
    in the report's weight (lines or characters)."""
    return {
        "total": int(report.confusion.sum()),
        "accuracy": round(report.accuracy, JSON_DIGITS),
        "macro_f1": round(report.macro_f1, JSON_DIGITS),
        # gn1 labels most teasers chrome (LABELS.md): its scores without teaser
        "macro_f1_without_teaser": round(
            float(np.mean([report.label_f1(label) for label in LABELS if label != "teaser"])), JSON_DIGITS
        ),
        "body_f1": round(report.label_f1("body"), JSON_DIGITS),
        "content_f1": round(report.content_f1, JSON_DIGITS),
        "per_label": {
            label: {
                "precision": round(float(p), JSON_DIGITS),
                "recall": round(float(r), JSON_DIGITS),
                "f1": round(float(f), JSON_DIGITS),
                "support": int(s),
            }
            for label, p, r, f, s in zip(report.labels, report.precision, report.recall, report.f1, report.support)
        },
        "confusion_rows_true_cols_predicted": report.confusion.tolist(),
    }


def tool_scores(documents: Sequence[Document], predictions: Sequence[Sequence[str]], seconds: float | None) -> dict:
    """Line- and character-weighted scores of one tool on a corpus, and its speed."""
    for doc, labels in zip(documents, predictions):
        if len(labels) != doc.n_units:
            raise BenchmarkError(f"{doc.name}: {len(labels)} labels for {doc.n_units} lines")
    expected = [label for doc in documents for label in doc.labels]
    predicted = [str(label) for labels in predictions for label in labels]
    characters = np.array([len(text) for doc in documents for text in doc.units], dtype=np.int64)
    return {
        "lines_per_second": None if seconds is None else round(len(expected) / max(seconds, 1e-9)),
        "line_weighted": score_dict(weighted_report(expected, predicted, np.ones(len(expected), dtype=np.int64))),
        "character_weighted": score_dict(weighted_report(expected, predicted, characters)),
    }


def binary_f1(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> float:
    """Weighted F1 of the positive class (content) of two boolean arrays."""
    tp = float(weights[truth & predicted].sum())
    denominator = float(weights[truth].sum() + weights[predicted].sum())
    return 2 * tp / denominator if denominator else 0.0


# --------------------------------------------------------------------------- data


def load_corpora(corpus: Path, limit: int | None) -> dict[str, list[Document]]:
    """The labelled corpora with their sites from the manifests, the first
    ``limit`` pages (by file name) of each when a limit is given."""
    corpora = {}
    for name in CORPORA:
        documents = read_labelled_corpus([corpus / name], [corpus / f"{name}-manifest.tsv"])
        corpora[name] = documents[:limit] if limit else documents
        logger.info("%s: %d pages, %d lines", name, len(corpora[name]), sum(d.n_units for d in corpora[name]))
    return corpora


def page_stoplists(corpus: Path, name: str, documents: Sequence[Document]) -> list[str]:
    """The jusText stoplist of each page of a corpus: the corpus language, or
    (web) the page's own from the manifest's ``name<TAB>lang<TAB>site<TAB>url``."""
    if CORPORA[name] is not None:
        return [CORPORA[name]] * len(documents)
    languages = {}
    for line in (corpus / f"{name}-manifest.tsv").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 4:
            languages[fields[0]] = fields[1]
    stoplists = []
    for doc in documents:
        language = languages.get(Path(doc.name).stem)
        if language not in STOPLISTS:
            raise BenchmarkError(f"{doc.name}: no language ({', '.join(STOPLISTS)}) in {name}-manifest.tsv")
        stoplists.append(STOPLISTS[language])
    return stoplists


@dataclass
class TurkuDocument:
    """One turku-quality text as a Document, with its lines' content flags."""

    document: Document
    content: np.ndarray  # bool per line: True = main text


def parse_turku_label(value, where: str) -> bool:
    """turku-quality writes labels as 1/0 or "1"/"0"; anything else is refused."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number not in (TURKU_CONTENT, TURKU_NOISE):
        raise BenchmarkError(f"{where}: label {value!r} is neither 1 nor 0")
    return number == TURKU_CONTENT


def load_turku(path: Path, limit: int | None) -> list[TurkuDocument]:
    """A turku-quality file's documents (the first ``limit`` when given).

    Its texts have no blank lines; one would not be a line lineclf labels, so
    it, like a line holding a line end, is refused rather than skipped.
    """
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: cannot read: {exc}") from None
    documents = []
    for number, record in enumerate(records[:limit] if limit else records):
        where = f"{path}: document {number}"
        lines, labels = record["text"], record["labels"]
        if len(lines) != len(labels):
            raise BenchmarkError(f"{where}: {len(lines)} lines but {len(labels)} labels")
        for line in lines:
            if not line.strip() or any(end in line for end in "\r\n"):
                raise BenchmarkError(f"{where}: a blank line or a line holding a line end: {line!r}")
        content = np.array([parse_turku_label(value, where) for value in labels], dtype=bool)
        documents.append(TurkuDocument(Document.from_lines(lines, name=f"{path}#{number}"), content))
    return documents


# --------------------------------------------------------------------------- benchmarks


def benchmark_corpora(
    corpora: dict[str, list[Document]], args: argparse.Namespace, extra: dict[str, list[Document]] | None = None
) -> tuple[dict, dict[str, tuple[list, float]]]:
    """Every tool on every five-label corpus, on the same lines. Pages of
    ``extra`` (turku-quality's) join lineclf's cross-validation, each its own
    group; their cross-validated labels and seconds are returned by name."""
    # per lineclf variant, per corpus: its cross-validated labels and seconds
    by_variant: dict[str, dict[str, tuple[list, float]]] = {}
    if not args.skip_lineclf:
        everything = {**corpora, **(extra or {})}
        union = [doc for docs in everything.values() for doc in docs]
        parts = [name for name, docs in everything.items() for _ in docs]
        variants = lineclf_cross_validation(
            union, document_groups(union), parts, args.folds, args.params, args.data_weight, args.tune_label_bias,
            args.bias_labels, args.relabel, args.jobs, args.tree_iterations,
        )
        for variant, (predictions, seconds) in variants.items():
            by_variant[variant] = {
                name: ([p for p, part in zip(predictions, parts) if part == name], seconds[name]) for name in everything
            }
    lineclf_results = by_variant.get(LINECLF, {})
    results: dict = {}
    for name, docs in corpora.items():
        stoplists = page_stoplists(args.corpus, name, docs)
        language = " and ".join(dict.fromkeys(stoplists))
        tools: dict = {}
        for variant, results_of in by_variant.items():
            tools[variant] = tool_scores(docs, *results_of[name])
        tools[ALL_CHROME] = tool_scores(docs, [[DROPPED_LABEL] * d.n_units for d in docs], None)
        tools[C4_RULE] = tool_scores(docs, *run_tool(c4_document, docs))
        by_page = dict(zip(map(id, docs), (load_stoplist(language) for language in stoplists)))
        tools[JUSTEXT] = tool_scores(docs, *run_tool(lambda doc: justext_document(doc, by_page[id(doc)]), docs))
        results[name] = {
            "language": language,
            "pages": len(docs),
            "sites": len(set(document_groups(docs))),
            "lines": sum(d.n_units for d in docs),
            "characters": sum(len(text) for d in docs for text in d.units),
            "tools": tools,
        }
        logger.info("%s: scored %s", name, ", ".join(tools))
    return results, {name: lineclf_results[name] for name in (extra or {}) if name in lineclf_results}


def turku_training_pages(corpus: Path, limit: int | None) -> dict[str, list[Document]]:
    """turku-quality's texts as training pages, by ``turku-<language>``, with
    partial labels (main text -> content, noise -> noise), as
    scripts/main_text_to_tsv.py writes them for `lineclf train`."""
    pages = {}
    for language in TURKU_LANGUAGES:
        texts = load_turku(corpus / TURKU_DIR / language / TURKU_FILE, limit)
        pages[TURKU_PART + language] = [
            text.document.with_labels(np.where(text.content, "content", "noise").tolist()) for text in texts
        ]
    return pages


def load_given_model(path: Path, probe: Document) -> tuple:
    """A fitted model file for turku-quality and a sentence saying what it is.

    Loaded, and tried on one page, before the long cross-validation, so that a
    damaged file or one written for other features stops the run at once.
    """
    from lineclf.model import load_bundle

    bundle = load_bundle(path)
    try:
        bundle["estimator"].predict([probe])
    except ValueError as exc:
        # a model file written before the features changed no longer fits them
        raise BenchmarkError(f"{path}: the model does not fit this lineclf's features: {exc}") from None
    trained_on = bundle["metadata"].get("trained_on", {})
    what = ", ".join(f"{name} ({info['pages']} pages)" for name, info in trained_on.items()) or "unknown data"
    return bundle["estimator"], f"the model file {path}, trained on {what}"


def fit_turku_model(
    corpora: dict[str, list[Document]],
    params: dict,
    data_weights: dict[str, float] | None = None,
    relabel: dict[str, dict[str, str]] | None = None,
) -> tuple:
    """A model fitted on all pages of the five-label corpora, and a sentence saying what it is."""
    union = [relabel_document(doc, (relabel or {}).get(name, {})) for name, docs in corpora.items() for doc in docs]
    weights = [part_weight(name, data_weights or {}) for name, docs in corpora.items() for _ in docs]
    start = time.perf_counter()
    model = lineclf.LineClassifier(**params).fit(union, groups=document_groups(union), sample_weight=weights)
    logger.info("lineclf for turku-quality: trained on %d pages in %.0f s", len(union), time.perf_counter() - start)
    pages = ", ".join(f"{name} ({len(docs)} pages)" for name, docs in corpora.items())
    return model, f"a LineClassifier with parameters {json.dumps(params)} trained on all of {pages}"


def turku_scores(
    texts: Sequence[TurkuDocument], flags: Sequence[np.ndarray], seconds: float | None, folds: list
) -> dict:
    """Content F1 of one tool's per-line content flags: over all documents
    (line- and character-weighted), per fold, and the tool's speed."""
    truth = np.concatenate([text.content for text in texts])
    pred = np.concatenate(flags)
    characters = np.array([len(line) for text in texts for line in text.document.units], dtype=np.int64)
    per_fold = []
    for _, test in folds:
        fold_truth = np.concatenate([texts[i].content for i in test])
        fold_pred = np.concatenate([flags[i] for i in test])
        per_fold.append(round(binary_f1(fold_truth, fold_pred, np.ones(len(fold_truth))), JSON_DIGITS))
    return {
        "content_f1": round(binary_f1(truth, pred, np.ones(len(truth))), JSON_DIGITS),
        "content_f1_characters": round(binary_f1(truth, pred, characters), JSON_DIGITS),
        "fold_content_f1": per_fold,
        "lines_per_second": None if seconds is None else round(len(truth) / max(seconds, 1e-9)),
    }


def benchmark_turku(
    corpus: Path,
    corpora: dict[str, list[Document]],
    args: argparse.Namespace,
    given: tuple | None,
    cross_validated: dict[str, tuple[list, float]] | None = None,
) -> dict:
    """Content F1 of lineclf, jusText and all-content per turku-quality language.
    lineclf's labels are ``cross_validated`` ones (--train-turku: turku pages
    in the same site-grouped cross-validation as gn1 and de-news), or those of
    a model ``given`` (model, description) or fitted on ``corpora``."""
    from sklearn.model_selection import GroupKFold

    model = None
    if args.skip_lineclf:
        note = "lineclf skipped (--skip-lineclf)."
    elif cross_validated:
        note = (
            f"lineclf is cross-validated ({args.folds} folds) over {', '.join(corpora)} and turku-quality together, each "
            "turku text its own group, trained with turku's main text and noise as the partial labels content and "
            "noise. "
            "Its labels body, headline and caption count as content."
        )
    else:
        model, described = given or fit_turku_model(corpora, args.params, args.data_weight, args.relabel)
        # turku's labels are binary (content or not); LineClassifier learns only
        # from the five labels, so no turku page is in its training data
        note = (
            f"lineclf is {described}; it is not trained on turku-quality. "
            "Its labels body, headline and caption count as content."
        )
    languages = {}
    for language, stoplist_name in TURKU_LANGUAGES.items():
        texts = load_turku(corpus / TURKU_DIR / language / TURKU_FILE, args.turku_limit)
        n_splits = min(args.folds, len(texts))
        if n_splits < 2:
            raise BenchmarkError(f"turku-quality {language}: {len(texts)} documents, too few for cross-validation")
        # one group per document: no document is split across folds
        folds = list(GroupKFold(n_splits=n_splits).split(texts, groups=np.arange(len(texts))))
        documents = [text.document for text in texts]
        stoplist = load_stoplist(stoplist_name)
        tools = {}
        if cross_validated:
            labels, seconds = cross_validated[TURKU_PART + language]
            tools[LINECLF] = turku_scores(texts, [np.isin(seq, CONTENT_LABELS) for seq in labels], seconds, folds)
        elif model is not None:
            start = time.perf_counter()
            labels = model.predict(documents)
            seconds = time.perf_counter() - start
            tools[LINECLF] = turku_scores(texts, [np.isin(seq, CONTENT_LABELS) for seq in labels], seconds, folds)
        labels, seconds = run_tool(partial(justext_document, stoplist=stoplist), documents)
        tools[JUSTEXT] = turku_scores(texts, [np.isin(seq, CONTENT_LABELS) for seq in labels], seconds, folds)
        tools[ALL_CONTENT] = turku_scores(texts, [np.ones(d.n_units, dtype=bool) for d in documents], None, folds)
        languages[language] = {
            "stoplist": stoplist_name,
            "documents": len(texts),
            "lines": sum(d.n_units for d in documents),
            "content_lines": int(sum(text.content.sum() for text in texts)),
            "tools": tools,
        }
        logger.info("turku-quality %s: %d documents scored", language, len(texts))
    return {"folds": args.folds, "lineclf_model": note, "languages": languages}


# --------------------------------------------------------------------------- outputs


def fmt(value: float) -> str:
    return f"{value:.{TABLE_DIGITS}f}"


def fmt_speed(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def corpus_markdown(name: str, result: dict) -> list[str]:
    """The tables of one five-label corpus."""
    tools = result["tools"]
    out = [
        f"## {name} ({result['language']})",
        "",
        (
            f"{result['pages']} pages from {result['sites']} sites, {result['lines']:,} lines, "
            f"{result['characters']:,} characters."
        ),
        "",
        (
            "| tool | macro-F1 | macro-F1 without teaser | body F1 | teaser F1 | content F1 | accuracy "
            "| macro-F1 (chars) | body F1 (chars) | content F1 (chars) | lines/s |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tool, scores in tools.items():
        lw, cw = scores["line_weighted"], scores["character_weighted"]
        out.append(
            f"| {tool} | {fmt(lw['macro_f1'])} | {fmt(lw['macro_f1_without_teaser'])} | {fmt(lw['body_f1'])} | "
            f"{fmt(lw['per_label']['teaser']['f1'])} | {fmt(lw['content_f1'])} | "
            f"{fmt(lw['accuracy'])} | {fmt(cw['macro_f1'])} | {fmt(cw['body_f1'])} | {fmt(cw['content_f1'])} | "
            f"{fmt_speed(scores['lines_per_second'])} |"
        )
    for weighting, unit in (("line_weighted", "lines"), ("character_weighted", "characters")):
        any_tool = next(iter(tools.values()))[weighting]["per_label"]
        out += [
            "",
            f"Per label, {weighting.replace('_', '-')}: precision / recall / F1 (support in {unit}).",
            "",
            "| tool | " + " | ".join(f"{label} ({any_tool[label]['support']:,})" for label in LABELS) + " |",
            "|---" * (1 + len(LABELS)) + "|",
        ]
        for tool, scores in tools.items():
            per = scores[weighting]["per_label"]
            cells = [f"{fmt(per[x]['precision'])} / {fmt(per[x]['recall'])} / {fmt(per[x]['f1'])}" for x in LABELS]
            out.append(f"| {tool} | " + " | ".join(cells) + " |")
    return out + [""]


def turku_markdown(turku: dict) -> list[str]:
    """The turku-quality table: content F1 per language and tool."""
    tools = list(next(iter(turku["languages"].values()))["tools"])
    out = [
        "## turku-quality: content F1",
        "",
        (
            "Content = body, headline or caption (turku label 1). Line-weighted content F1 over all documents, "
            f"in brackets the lowest and highest of the {turku['folds']} document-grouped folds; "
            "character-weighted in the JSON file."
        ),
        "",
        "| language | documents | lines | content lines | " + " | ".join(tools) + " |",
        "|---" * (4 + len(tools)) + "|",
    ]
    for language, result in turku["languages"].items():
        cells = []
        for tool in tools:
            scores = result["tools"][tool]
            folds = scores["fold_content_f1"]
            cells.append(f"{fmt(scores['content_f1'])} [{fmt(min(folds))}–{fmt(max(folds))}]")
        out.append(
            f"| {language} | {result['documents']} | {result['lines']:,} | {result['content_lines']:,} | "
            + " | ".join(cells) + " |"
        )
    return out + ["", turku["lineclf_model"]]


def render_markdown(payload: dict) -> str:
    """The whole report as Markdown."""
    settings = payload["settings"]
    versions = ", ".join(f"{name} {version}" for name, version in settings["versions"].items())
    out = [
        "# lineclf benchmark",
        "",
        f"Command: `{settings['command']}`",
        "",
        f"{versions}; OMP_NUM_THREADS={settings['omp_num_threads']}, {settings['cpus']} CPUs.",
        "",
        (
            f"lineclf: site-grouped {settings['folds']}-fold cross-validation over {', '.join(payload['corpora'])} "
            "together (folds never split a site; each corpus's lines are predicted by models trained on the other "
            "folds of all). Peers on exactly the same lines: all chrome; the C4 line rule (ends in . ! ? or a closing "
            f"quotation mark, at least {C4_MIN_WORDS} words, none of {', '.join(repr(b) for b in C4_BANNED)}; "
            "kept = body, else chrome); jusText with default settings and the page language's stoplist, one "
            "paragraph per line (good = body, else chrome). Lines per second: lineclf's features and prediction "
            "on the test folds (training not counted), the peers' own run."
        ),
        "",
    ]
    if settings.get("data_weights"):
        weights = ", ".join(f"{name} {weight:g}" for name, weight in settings["data_weights"].items())
        out += [f"lineclf's training lines are weighted by corpus (`--data-weight`): {weights}; others 1.", ""]
    if settings.get("tune_label_bias"):
        out += [
            "lineclf's labels are those of per-label offsets on its log probabilities (`--tune-label-bias`"
            + (f", offsets of {', '.join(settings['bias_labels'])} only" if settings.get("bias_labels") else "")
            + "), tuned for each fold on the other folds' cross-validated probabilities (the mean over the "
            "training corpora of gn1's and de-news's macro-F1 and, with --train-turku, turku-quality's content F1), "
            "as `lineclf train --tune-label-bias` tunes the shipped model's; no page is scored with offsets tuned on it.",
            "",
        ]
    if settings["limit_pages"]:
        out += [f"**Development run: only the first {settings['limit_pages']} pages of each corpus.**", ""]
    for name, result in payload["corpora"].items():
        out += corpus_markdown(name, result)
    out += turku_markdown(payload["turku"])
    return "\n".join(out) + "\n"


def write_confusion_png(path: Path, scores: dict, title: str) -> bool:
    """A confusion-matrix picture (row-normalised colours, line counts written
    in); False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    confusion = np.array(scores["confusion_rows_true_cols_predicted"])
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=30)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            ax.text(j, i, f"{confusion[i, j]:,}", ha="center", va="center",
                    color="white" if share[i, j] > 0.5 else "black", fontsize=9)
    fig.colorbar(image, ax=ax, label="share of the true label's lines")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 file atomically, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as handle:
        handle.write(text.encode("utf-8"))


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="folder with gn1/, de-news/, web/, their manifests and turku-quality/ (default: %(default)s)")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="cross-validation folds (default: %(default)s)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="fit N cross-validation folds side by side, each in its own process with one thread "
                             "(lines per second are then measured on a busier machine; default: %(default)s)")
    parser.add_argument("--limit-pages", type=int, metavar="N",
                        help="use only the first N pages of each five-label corpus (quick development runs)")
    parser.add_argument("--turku-limit", type=int, metavar="N",
                        help="use only the first N documents of each turku-quality language")
    parser.add_argument("--params", type=json.loads, default={}, metavar="JSON",
                        help='LineClassifier parameters, e.g. \'{"max_iter": 100}\'')
    parser.add_argument("--data-weight", type=parse_data_weight, action="append", default=[], metavar="NAME=WEIGHT",
                        help="how much each line of one training corpus counts, as `lineclf train --data-weight` "
                             f"(NAME: {', '.join(WEIGHTED_DATA)}; repeatable; default 1)")
    parser.add_argument("--relabel", type=parse_relabel, action="append", default=[], metavar="DATA:LABEL=NEW",
                        help="train a corpus's LABEL lines as NEW (a label or partial label), as `lineclf train "
                             "--relabel`, e.g. gn1:chrome=noise; scores compare with the labels as written")
    parser.add_argument("--tune-label-bias", action="store_true",
                        help="label with per-label offsets tuned on the other folds' cross-validated probabilities, "
                             "as `lineclf train --tune-label-bias`")
    parser.add_argument("--bias-labels", metavar="LABEL,...",
                        help="with --tune-label-bias: tune only these labels' offsets, as `lineclf train --bias-labels`")
    parser.add_argument("--tree-iterations", type=positive_int, action="append", default=[], metavar="N",
                        help="also score each fold's model with its trees cut to their first N boosting iterations "
                             "(the same fits; repeatable): what fewer trees cost in accuracy")
    parser.add_argument("--skip-lineclf", action="store_true", help="score the peers only")
    parser.add_argument("--train-turku", action="store_true",
                        help="train lineclf on turku-quality too (partial labels: main text as content, noise as "
                             "noise), in the same cross-validation")
    parser.add_argument("--model", type=Path,
                        help="for turku-quality, use this fitted model file instead of training one on gn1 + de-news")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the Markdown report here")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON here")
    parser.add_argument("--png-dir", type=Path, metavar="DIR",
                        help="write lineclf's confusion matrix per corpus as a PNG here (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    for option in ("limit_pages", "turku_limit"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    args.data_weight = dict(args.data_weight)
    relabel: dict[str, dict[str, str]] = {}
    for data, label, new in args.relabel:
        relabel.setdefault(data, {})[label] = new
    args.relabel = relabel
    if not isinstance(args.params, dict):
        parser.error("--params must be a JSON object")
    # JSON has no tuples; LineClassifier's sequence parameters (context) are tuples
    args.params = {k: tuple(v) if isinstance(v, list) else v for k, v in args.params.items()}
    try:
        lineclf.LineClassifier().set_params(**args.params)
    except ValueError as exc:
        parser.error(f"--params: {exc}")
    if args.skip_lineclf and (
        args.model or args.params or args.train_turku or args.data_weight or args.tune_label_bias or args.relabel
    ):
        parser.error("--model, --params, --data-weight, --relabel, --tune-label-bias and --train-turku need lineclf; "
                     "drop --skip-lineclf")
    if args.tune_label_bias and args.params.get("label_bias") is not None:
        parser.error("--tune-label-bias tunes the label bias; drop label_bias from --params")
    if args.bias_labels is not None:
        if not args.tune_label_bias:
            parser.error("--bias-labels needs --tune-label-bias")
        try:
            args.bias_labels = parse_bias_labels(args.bias_labels)
        except UsageError as exc:
            parser.error(str(exc))
    if args.model and (args.data_weight or args.tune_label_bias or args.relabel):
        parser.error("--data-weight, --relabel and --tune-label-bias are for training; a --model given is not trained here")
    if args.model and args.train_turku:
        parser.error("--train-turku cross-validates lineclf on turku-quality; it cannot use a given --model")
    if args.model and not args.model.is_file():
        parser.error(f"--model: {args.model}: no such file")
    missing = [str(args.corpus / name) for name in CORPORA if not (args.corpus / name).is_dir()]
    if missing:
        parser.error(f"--corpus: missing {', '.join(missing)}")
    try:
        import justext  # noqa: F401
    except ImportError:
        parser.error("jusText is not installed: pip install -e '.[bench]'")
    return args


def versions() -> dict[str, str]:
    """Versions of what was measured."""
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "lineclf": lineclf.__version__,
        "scikit-learn": version("scikit-learn"),
        "jusText": version("jusText"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="benchmark: %(message)s", stream=sys.stderr)
    try:
        corpora = load_corpora(args.corpus, args.limit_pages)
        probe = next(doc for docs in corpora.values() for doc in docs)
        given = load_given_model(args.model, probe) if args.model else None
        extra = turku_training_pages(args.corpus, args.turku_limit) if args.train_turku else None
        results, cross_validated = benchmark_corpora(corpora, args, extra)
        turku = benchmark_turku(args.corpus, corpora, args, given, cross_validated)
    except (BenchmarkError, LineclfError) as exc:
        print(f"benchmark: error: {exc}", file=sys.stderr)
        return 1
    payload = {
        "settings": {
            "command": " ".join(["scripts/benchmark.py", *(argv if argv is not None else sys.argv[1:])]),
            "corpus": str(args.corpus),
            "folds": args.folds,
            "jobs": args.jobs,
            "limit_pages": args.limit_pages,
            "turku_limit": args.turku_limit,
            "params": args.params,
            "data_weights": args.data_weight,
            "relabel": args.relabel,
            "tune_label_bias": args.tune_label_bias,
            "bias_labels": args.bias_labels,
            "model": None if args.model is None else str(args.model),
            "skip_lineclf": args.skip_lineclf,
            "train_turku": args.train_turku,
            "versions": versions(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
            "cpus": os.cpu_count(),
        },
        "corpora": results,
        "turku": turku,
    }
    markdown = render_markdown(payload)
    sys.stdout.write(markdown)
    if args.markdown:
        write_text(args.markdown, markdown)
    if args.json:
        write_text(args.json, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    if args.png_dir and not args.skip_lineclf:
        for name in results:
            path = args.png_dir / f"confusion-{name}.png"
            if not write_confusion_png(path, results[name]["tools"][LINECLF]["line_weighted"], f"lineclf on {name}"):
                logger.info("matplotlib is not installed: no confusion-matrix pictures (pip install -e '.[bench]')")
                break
            logger.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
