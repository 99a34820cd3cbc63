"""Quick site-grouped cross-validation of lineclf variants on the five-label corpora.

Cheaper than scripts/benchmark.py (no peers, no turku-quality, by default 3
folds and lighter trees), for comparing training choices side by side: which
feature families, the second pass's region features, corpus weights, and
relabelling a corpus's lines for training. Every variant is scored on the
labels as the files have them, line-weighted, per corpus (macro-F1 over the
five labels, macro-F1 without teaser, and each label's F1). Appends one JSON
line per run to --out (and prints it):

    .venv/bin/python scripts/ablation.py base --drop-family thread_features \\
        --drop-family shape_features --no-region --data-weight de-news=3 --data-weight web=3
    .venv/bin/python scripts/ablation.py features --data-weight de-news=3 --data-weight web=3
    .venv/bin/python scripts/ablation.py relabel --data-weight de-news=3 --data-weight web=3 \\
        --relabel gn1:chrome=noise --params '{"partial_weight": 1.0}'

One fit's scores move with its random_state (the seed of the linear first
pass and of the trees) by about as much as most variants do: on the same
folds, seed 1 against seed 0 moved gn1's body F1 from 0.903 to 0.888.
`--seeds 0 1` fits each seed and reports the mean (each seed's scores under
"per_seed"); compare variants on the same seeds.

Each run fits FOLDS models per seed on about 70,000 lines: some tens of
minutes on one core (set OMP_NUM_THREADS=1 when two runs share two cores).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from lineclf.document import document_groups
from lineclf.evaluation import Report, most_probable_labels
from lineclf.io import read_labelled_corpus
from lineclf.labels import LABELS
from lineclf.model import LineClassifier
from lineclf.training import parse_relabel, relabel_document

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("gn1", "de-news", "web")
#: Lighter trees than the shipped model's (200 at 0.1): about half the time, for comparisons.
QUICK_PARAMS = {"max_iter": 100, "learning_rate": 0.2, "inner_folds": 2}

logger = logging.getLogger("ablation")


def drop_families(names: list[str]) -> None:
    """Leave these line feature families out of every model fitted here."""
    from lineclf.features import matrix

    known = {family.__name__ for family in matrix.LINE_FAMILIES}
    unknown = set(names) - known
    if unknown:
        raise SystemExit(f"ablation: no feature family {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    matrix.LINE_FAMILIES = tuple(f for f in matrix.LINE_FAMILIES if f.__name__ not in names)
    matrix._base_names.cache_clear()


def drop_region() -> None:
    """Leave the second pass's region features out (they are its last columns)."""
    from lineclf.model import revision

    revision.region_features = lambda pages, proba, is_long, body_sums: np.zeros((int(pages.length.sum()), 0))
    revision.REGION_COLUMNS = 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="what to call this run in the output")
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT.parent / "shared" / "corpus")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--params", type=json.loads, default={}, help="LineClassifier parameters over the quick ones")
    parser.add_argument("--data-weight", action="append", default=[], metavar="DATA=WEIGHT")
    parser.add_argument("--relabel", action="append", default=[], metavar="DATA:LABEL=NEW")
    parser.add_argument("--drop-family", action="append", default=[], metavar="NAME")
    parser.add_argument("--no-region", action="store_true", help="without the second pass's region features")
    parser.add_argument("--limit-pages", type=int, metavar="N", help="only the first N pages of each corpus (a smoke test)")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                        help="fit with each random_state and report the mean (one seed moves gn1's body F1 by 0.015)")
    parser.add_argument("--out", type=Path, default=Path("ablation.jsonl"))
    parser.add_argument("--predictions", type=Path, metavar="FILE",
                        help="also write each page's held-out labels here (JSON Lines: corpus, page, labels, predicted)")
    args = parser.parse_args(argv)
    if args.seeds and "random_state" in args.params:
        raise SystemExit("ablation: give the random_state in --params or --seeds, not both")
    logging.basicConfig(level=logging.INFO, format="ablation: %(message)s", stream=sys.stderr)
    if args.drop_family:
        drop_families(args.drop_family)
    if args.no_region:
        drop_region()
    weights = {name: float(value) for name, _, value in (item.rpartition("=") for item in args.data_weight)}
    relabel: dict[str, dict[str, str]] = {}
    for data, label, new in map(parse_relabel, args.relabel):
        relabel.setdefault(data, {})[label] = new

    docs, parts = [], []
    for name in CORPORA:
        pages = read_labelled_corpus([args.corpus / name], [args.corpus / f"{name}-manifest.tsv"])[: args.limit_pages]
        docs += pages
        parts += [name] * len(pages)
    training = [relabel_document(doc, relabel.get(part, {})) for doc, part in zip(docs, parts)]
    groups = document_groups(docs)
    weight = np.array([weights.get(part, 1.0) for part in parts])
    params = {**QUICK_PARAMS, **args.params}
    result: dict = {"name": args.name, "argv": sys.argv[1:] if argv is None else argv, "params": params}
    seeds = args.seeds or [params.get("random_state", 0)]
    per_seed, records = {}, []
    for seed in seeds:
        seed_params = {**params, "random_state": seed}
        predicted = cross_validate(docs, training, parts, groups, weight, seed_params, args.folds, args.name)
        per_seed[seed] = scores(docs, parts, predicted)
        if args.predictions:
            records += [
                {"corpus": part, "page": str(doc.name), "labels": list(doc.labels), "predicted": list(labels)}
                | ({"seed": seed} if len(seeds) > 1 else {})
                for doc, part, labels in zip(docs, parts, predicted)
            ]
    result["seeds"] = seeds
    if len(seeds) == 1:
        result.update(per_seed[seeds[0]])
    else:
        # the mean over seeds, and each seed's own scores: how far a seed alone moves them
        for name in CORPORA:
            keys = per_seed[seeds[0]][name]
            result[name] = {key: round(float(np.mean([per_seed[s][name][key] for s in seeds])), 4) for key in keys}
        result["per_seed"] = {str(s): per_seed[s] for s in seeds}
    if args.predictions:
        with open(args.predictions, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")
    line = json.dumps(result)
    print(line)
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return 0


def cross_validate(docs, training, parts, groups, weight, params: dict, folds: int, name: str) -> list:
    """Each page's held-out labels: site-grouped folds, a model per fold."""
    probas: list = [None] * len(docs)
    start = time.perf_counter()
    for fold, (train, test) in enumerate(GroupKFold(n_splits=folds).split(docs, groups=groups), start=1):
        model = LineClassifier(**params).fit([training[i] for i in train], groups=[groups[i] for i in train],
                                             sample_weight=weight[train])
        for corpus in CORPORA:
            batch = [i for i in test if parts[i] == corpus]
            for i, proba in zip(batch, model.predict_proba([docs[i] for i in batch])):
                probas[i] = proba
        logger.info("%s: fold %d of %d done, %.0f s", name, fold, folds, time.perf_counter() - start)
    return most_probable_labels(probas)


def scores(docs, parts, predicted) -> dict:
    """Per corpus, line-weighted: macro-F1, macro-F1 without teaser, each label's F1."""
    result = {}
    for name in CORPORA:
        index = [i for i in range(len(docs)) if parts[i] == name]
        report = Report.from_documents([docs[i] for i in index], [predicted[i] for i in index])
        f1 = {label: round(report.label_f1(label), 4) for label in LABELS}
        result[name] = {
            "macro_f1": round(report.macro_f1, 4),
            "macro_f1_without_teaser": round(float(np.mean([f1[x] for x in LABELS if x != "teaser"])), 4),
            **f1,
        }
    return result


if __name__ == "__main__":
    sys.exit(main())
