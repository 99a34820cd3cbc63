"""What a few corrected pages of a site buy: the k-pages adaptation benchmark.

For the gn1 sites with at least MIN_SITE_PAGES pages: a base model is
trained with the shipped model's recipe (scripts/train_default.sh: gn1,
de-news and web, turku-quality as partial labels, de-news and web weighted 3)
on everything but a group of such sites. Each held-out site's pages are put in
a seeded random order; its first k (k = 0, 1, 2, 5) are the pages a user
corrected (labelled as gn1 has them) and its pages after the fifth are scored,
the same pages for every k. k = 0 is the base model alone; k > 0 adapts the
base with `lineclf.adapt_model` (the path `lineclf train --base` takes). Each
site is measured over ORDERS orders; its scores are the mean.

    .venv/bin/python scripts/adaptation.py --jobs 2 \
        --markdown benchmarks/adaptation.md --json benchmarks/adaptation.json --png benchmarks/adaptation.png

The base models (one per group of held-out sites, about 25 minutes each on
one core) are cached in --cache (default ~/.cache/lineclf-adaptation) and
reused while the recipe's inputs are the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

import benchmark  # noqa: E402  (scripts/ is no package)

import lineclf  # noqa: E402
from lineclf.document import Document, document_groups  # noqa: E402
from lineclf.evaluation import Report  # noqa: E402
from lineclf.labels import LABELS  # noqa: E402
from lineclf.model import adaptation as adaptation_module  # noqa: E402

logger = logging.getLogger("adaptation")

#: A site is measured when it has this many pages: 5 to adapt on, 2 or more scored.
MIN_SITE_PAGES = 7
#: Corrected pages per measurement.
KS = (0, 1, 2, 5)
#: Random page orders per site.
ORDERS = 3
#: The shipped recipe's data weights (scripts/train_default.sh).
RECIPE_WEIGHTS = {"de-news": 3.0, "web": 3.0}
#: Groups of held-out sites, each one base model: the measured sites dealt
#: round-robin by size, so the groups hold about as many pages.
GROUPS = 2
RETRAIN_WEIGHT_TEXT = "10 (`lineclf.training.DEFAULT_RETRAIN_WEIGHT`)"
DEFAULT_CACHE = Path.home() / ".cache" / "lineclf-adaptation"


ADAPTER_DEFAULTS = ", ".join(
    f"{name} {getattr(adaptation_module, 'DEFAULT_ADAPT_' + name.upper().replace(' ', '_'))}"
    for name in ("rounds", "learning rate", "leaves", "min leaf")
)


def pages_by_site(documents: list[Document]) -> dict[str, list[Document]]:
    by_site: dict[str, list[Document]] = {}
    for doc in documents:
        by_site.setdefault(doc.site, []).append(doc)
    return by_site


def measured_sites(gn1: list[Document]) -> list[str]:
    counts = Counter(doc.site for doc in gn1)
    return sorted((site for site, n in counts.items() if n >= MIN_SITE_PAGES), key=lambda s: (-counts[s], s))


def site_groups(sites: list[str]) -> list[list[str]]:
    return [sites[i::GROUPS] for i in range(GROUPS)]


def recipe_training(corpora: dict[str, list[Document]], turku: dict[str, list[Document]], held_out: set[str]):
    """The shipped recipe's training pages, groups and weights without the held-out sites' pages."""
    documents, weights = [], []
    for name, docs in corpora.items():
        for doc in docs:
            if not (name == "gn1" and doc.site in held_out):
                documents.append(doc)
                weights.append(RECIPE_WEIGHTS.get(name, 1.0))
    for docs in turku.values():
        documents.extend(docs)
        weights.extend([1.0] * len(docs))
    return documents, document_groups(documents), weights


def cache_key(held_out: list[str], n_pages: int, n_lines: int) -> str:
    text = json.dumps([sorted(held_out), n_pages, n_lines, lineclf.__version__, lineclf.LineClassifier().get_params()], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fit_base(documents, groups, weights, path: str) -> str:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        model = lineclf.LineClassifier().fit(documents, groups=groups, sample_weight=weights)
    lineclf.save_model(model, path, {"adaptation_base": True})
    return path


def base_models(corpora, turku, groups_of_sites, cache: Path, jobs: int) -> list[Path]:
    from joblib import Parallel, delayed

    cache.mkdir(parents=True, exist_ok=True)
    paths, tasks = [], []
    for held_out in groups_of_sites:
        documents, groups, weights = recipe_training(corpora, turku, set(held_out))
        key = cache_key(held_out, len(documents), sum(d.n_units for d in documents))
        path = cache / f"base-{key}.joblib"
        paths.append(path)
        if not path.exists():
            logger.info("fitting a base model without %s (%d pages)", ", ".join(held_out), len(documents))
            tasks.append(delayed(fit_base)(documents, groups, weights, str(path)))
    if tasks:
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        cloudpickle.register_pickle_by_value(benchmark)
        Parallel(n_jobs=min(jobs, len(tasks)))(tasks)
    return paths


def retrain_comparison(
    corpora, turku, groups_of_sites, bases, cache: Path, jobs: int, adapt_params: dict, weight: float | None = None
) -> dict:
    """Per site, at k = max(KS) and the first order: the base adapted to the
    site's corrected pages against the recipe retrained with them (each
    group's sites' corrected pages together, weighted as `train --base
    --retrain` weighs the user's pages)."""
    from joblib import Parallel, delayed

    from lineclf.training import DEFAULT_RETRAIN_WEIGHT

    weight = DEFAULT_RETRAIN_WEIGHT if weight is None else weight
    by_site = pages_by_site(corpora["gn1"])
    paths, tasks = [], []
    for held_out in groups_of_sites:
        documents, groups, weights = recipe_training(corpora, turku, set(held_out))
        corrected = [doc for site in held_out for doc in site_orders(by_site[site], 1)[0][0]]
        tag = ["retrain", *[d.name for d in corrected]] + ([] if weight == DEFAULT_RETRAIN_WEIGHT else [f"weight={weight}"])
        key = cache_key([*held_out, *tag], len(documents), sum(d.n_units for d in documents))
        path = cache / f"retrained-{key}.joblib"
        paths.append(path)
        if not path.exists():
            logger.info("retraining the recipe with %d corrected pages of %s", len(corrected), ", ".join(held_out))
            tasks.append(delayed(fit_base)(
                documents + corrected, groups + [doc.site for doc in corrected],
                weights + [weight] * len(corrected), str(path)))
    if tasks:
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        cloudpickle.register_pickle_by_value(benchmark)
        Parallel(n_jobs=min(jobs, len(tasks)))(tasks)
    out = {}
    for held_out, base_path, path in zip(groups_of_sites, bases, paths):
        base, retrained = lineclf.load_model(base_path), lineclf.load_model(path)
        for site in held_out:
            corrected, scored = site_orders(by_site[site], 1)[0]
            counts = lineclf.SiteCounts.of(scored)
            adapted = lineclf.adapt_model(base, corrected, **adapt_params)
            out[site] = {
                "base": scores(scored, base.predict_proba(scored, counts)),
                "adapted": scores(scored, adapted.predict_proba(scored, counts)),
                "retrained": scores(scored, retrained.predict_proba(scored, counts)),
            }
    return out


def site_orders(pages: list[Document], orders: int) -> list[tuple[list[Document], list[Document]]]:
    """Per order, the pages a user corrects (the first max(KS)) and the pages scored (the rest)."""
    pages = sorted(pages, key=lambda doc: doc.name)
    pool = max(KS)
    out = []
    for seed in range(orders):
        order = np.random.default_rng(seed).permutation(len(pages))
        shuffled = [pages[i] for i in order]
        out.append((shuffled[:pool], shuffled[pool:]))
    return out


def scores(documents: list[Document], probas: list[np.ndarray]) -> dict[str, float]:
    report = Report.from_documents(documents, [lineclf.labels.label_names(p) for p in probas])
    return {
        "macro_f1": report.macro_f1,
        # gn1 labels most teasers chrome (LABELS.md), as the benchmark reports it
        "macro_f1_without_teaser": float(np.mean([report.label_f1(label) for label in LABELS if label != "teaser"])),
        "body_f1": report.label_f1("body"),
        "accuracy": report.accuracy,
    }


def measure_site(base, pages: list[Document], orders: int, adapt_params: dict) -> dict:
    """Scores of the site's held-out pages after adapting on k of its pages, per k (mean over orders)."""
    per_k: dict[int, list[dict]] = {k: [] for k in KS}
    for corrected, scored in site_orders(pages, orders):
        counts = lineclf.SiteCounts.of(scored)
        for k in KS:
            model = base if k == 0 else lineclf.adapt_model(base, corrected[:k], **adapt_params)
            per_k[k].append(scores(scored, model.predict_proba(scored, counts)))
    return {
        str(k): {metric: float(np.mean([run[metric] for run in runs])) for metric in runs[0]}
        for k, runs in per_k.items()
    }


def measure(corpora, groups_of_sites, bases: list[Path], orders: int, adapt_params: dict) -> dict:
    by_site = pages_by_site(corpora["gn1"])
    results = {}
    for held_out, path in zip(groups_of_sites, bases):
        base = lineclf.load_model(path)
        for site in held_out:
            results[site] = {"pages": len(by_site[site]), "scores": measure_site(base, by_site[site], orders, adapt_params)}
            logger.info("%s: %s", site, {k: round(v["macro_f1"], 3) for k, v in results[site]["scores"].items()})
    return results


def mean_over_sites(results: dict) -> dict:
    return {
        str(k): {
            metric: float(np.mean([site["scores"][str(k)][metric] for site in results.values()]))
            for metric in ("macro_f1", "macro_f1_without_teaser", "body_f1", "accuracy")
        }
        for k in KS
    }


def render_markdown(payload: dict) -> str:
    head = "| site | pages | " + " | ".join(f"k={k} macro / body" for k in KS) + " |"
    out = [
        "# What a few corrected pages buy",
        "",
        f"`{payload['command']}`",
        "",
        f"gn1 sites with at least {MIN_SITE_PAGES} pages, each held out of a base model trained with the shipped "
        f"recipe; k of its pages (labelled as gn1 has them) adapt the base (`lineclf.adapt_model`, as "
        f"`lineclf train --base` does); the site's pages after the {max(KS)}th are scored, the same for every k. "
        f"Line-weighted macro-F1 and body F1, mean over {payload['orders']} random page orders. Only gn1 has "
        "sites with several pages: de-news and web hold one page per site (de-news two of wordpress.com).",
        "",
        f"Adapter: {payload['adapt_params'] or 'the defaults'} ({ADAPTER_DEFAULTS}).",
        "",
        head,
        "|" + "---|" * (2 + len(KS)),
    ]
    for site, result in payload["sites"].items():
        cells = [f"{result['scores'][str(k)]['macro_f1']:.3f} / {result['scores'][str(k)]['body_f1']:.3f}" for k in KS]
        out.append(f"| {site} | {result['pages']} | " + " | ".join(cells) + " |")
    mean = payload["mean"]
    out.append("| **mean** | | " + " | ".join(f"**{mean[str(k)]['macro_f1']:.3f}** / {mean[str(k)]['body_f1']:.3f}" for k in KS) + " |")
    gain = mean[str(max(KS))]["macro_f1"] - mean["0"]["macro_f1"]
    out += [
        "",
        "Mean over sites, with macro-F1 over body, headline, caption and chrome (gn1 marked most teasers chrome):",
        "",
        "| k | macro-F1 | macro-F1 without teaser | body F1 | accuracy |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {mean[str(k)]['macro_f1']:.3f} | {mean[str(k)]['macro_f1_without_teaser']:.3f} | "
            f"{mean[str(k)]['body_f1']:.3f} | {mean[str(k)]['accuracy']:.3f} |"
            for k in KS
        ],
        "",
        f"Macro-F1 gain with {max(KS)} corrected pages, mean over sites: {gain:+.3f}.",
    ]
    if payload.get("retrain"):
        ways = ("base", "adapted", "retrained")
        out += [
            "",
            f"## Retraining the recipe instead (k = {max(KS)}, first order)",
            "",
            f"The base model trained again with the shipped recipe and, weighted {payload.get('retrain_weight') or RETRAIN_WEIGHT_TEXT}, the "
            f"{max(KS)} corrected pages of each site of its group (`lineclf train --base --retrain`), against the "
            "base adapted to the site's pages, on the same scored pages.",
            "",
            "| site | base macro / body | adapted macro / body | retrained macro / body |",
            "|---|---|---|---|",
        ]
        for site, result in payload["retrain"].items():
            out.append(f"| {site} | " + " | ".join(f"{result[w]['macro_f1']:.3f} / {result[w]['body_f1']:.3f}" for w in ways) + " |")
        means = {
            way: {m: float(np.mean([r[way][m] for r in payload["retrain"].values()])) for m in ("macro_f1", "body_f1")}
            for way in ways
        }
        out.append("| **mean** | " + " | ".join(f"**{means[w]['macro_f1']:.3f}** / {means[w]['body_f1']:.3f}" for w in ways) + " |")
    return "\n".join(out) + "\n"


def write_png(path: Path, payload: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
    for ax, metric, title in zip(axes, ("macro_f1", "body_f1"), ("macro-F1", "body F1")):
        for site, result in payload["sites"].items():
            ax.plot(KS, [result["scores"][str(k)][metric] for k in KS], color="0.75", lw=1)
        ax.plot(KS, [payload["mean"][str(k)][metric] for k in KS], color="C0", lw=2.5, marker="o", label="mean over sites")
        ax.set_title(title)
        ax.set_xlabel("corrected pages of the site (k)")
        ax.set_xticks(KS)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=benchmark.DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--bases-only", action="store_true", help="Fit (or find) the base models and stop.")
    parser.add_argument("--orders", type=int, default=ORDERS, help="Random page orders per site.")
    parser.add_argument("--rounds", type=int, help="Adapter boosting rounds (default: the package's).")
    parser.add_argument("--learning-rate", type=float, help="Adapter learning rate (default: the package's).")
    parser.add_argument("--retrain", action="store_true", help="Also retrain the recipe with the corrected pages (k=5, first order) and compare.")
    parser.add_argument("--retrain-weight", type=float, help="Weight of the corrected pages when retraining (default: train --retrain's).")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--png", type=Path)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    corpora = benchmark.load_corpora(args.corpus, None)
    turku = benchmark.turku_training_pages(args.corpus, None)
    sites = measured_sites(corpora["gn1"])
    groups_of_sites = site_groups(sites)
    logger.info("measured sites: %s", groups_of_sites)
    bases = base_models(corpora, turku, groups_of_sites, args.cache, args.jobs)
    if args.bases_only:
        return 0
    adapt_params = {
        name: value for name, value in (("rounds", args.rounds), ("learning_rate", args.learning_rate)) if value is not None
    }
    sites = measure(corpora, groups_of_sites, bases, args.orders, adapt_params)
    command = ".venv/bin/python scripts/adaptation.py " + " ".join(sys.argv[1:] if argv is None else argv)
    payload = {"command": command.strip(), "retrain_weight": args.retrain_weight, "orders": args.orders, "adapt_params": adapt_params, "ks": list(KS), "sites": sites, "mean": mean_over_sites(sites)}
    if args.retrain:
        payload["retrain"] = retrain_comparison(
            corpora, turku, groups_of_sites, bases, args.cache, args.jobs, adapt_params, args.retrain_weight
        )
    text = render_markdown(payload)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if args.png:
        write_png(args.png, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
