"""Render a model card (Markdown) from a lineclf model file's metadata.

    python scripts/model_card.py models/default.joblib > models/MODEL_CARD.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from lineclf.io import read_labelled
from lineclf.labels import LABELS
from lineclf.model import load_bundle

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "labels" / "seed-de.tsv"

LICENCES = {
    "gn1": "L3S-GN1 news pages (Kohlschütter, Fankhauser, Nejdl, WSDM 2010), licensed by L3S for research use only",
    "de-news": "German-language news and magazine pages from the trafilatura project's test collection, labelled by hand",
    "turku-quality": "German, English, Spanish and Finnish web texts (OSCAR) with binary main-text/noise line labels "
    "(TurkuNLP; Laippala et al., W-NUT 2022), no blank lines; trained on with partial labels (main text = content: "
    "body, headline or caption; noise = noise: teaser or chrome), each line weighted by `partial_weight` and given "
    "one of its labels as `partial_resolution` says (see the parameters), not scored here",
}


def score_table(scores: dict) -> str:
    rows = [
        "| data | lines | macro-F1 | body F1 | accuracy | " + " | ".join(f"{label} F1 (lines)" for label in LABELS) + " |",
        "|---" * (5 + len(LABELS)) + "|",
    ]
    for name, report in scores.items():
        per = report["per_label"]
        cells = [f"{per[label]['f1']:.3f} ({per[label]['support']})" for label in LABELS]
        rows.append(
            f"| {name} | {report['lines']} | {report['macro_f1']:.3f} | {report['body_f1']:.3f} | "
            f"{report['accuracy']:.3f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(rows)


def example_agreement(model) -> str:
    """How many lines of the German example page the model labels as the person who labelled it did."""
    doc = read_labelled(EXAMPLE)
    predicted = model.predict([doc])[0]
    wrong = [f"line {k + 1} ({expected} as {got})" for k, (expected, got) in enumerate(zip(doc.labels, predicted)) if expected != got]
    agree = len(doc.labels) - len(wrong)
    return f"{agree} of {len(doc.labels)} lines right" + (f"; wrong: {', '.join(wrong)}" if wrong else "")


def bias_section(tuning: dict | None) -> str:
    """What the tuned label offsets are and what they changed, when tuned."""
    if not tuning:
        return ""
    offsets = ", ".join(f"{label} {value:+.2f}" for label, value in tuning["label_bias"].items())
    untuned = tuning["untuned_scores"]
    rows = "\n".join(
        f"| {name} | {scores['macro_f1']:.3f} | {scores['body_f1']:.3f} |" for name, scores in untuned.items()
    )
    tuned = tuning.get("tuned_labels")
    which = f" (only {', '.join(tuned)} tuned; the others 0)" if tuned and len(tuned) < len(tuning["label_bias"]) - 1 else ""
    return f"""
The decisions add per-label offsets to the log probabilities (`label_bias`:
{offsets}{which}), tuned by `lineclf train --tune-label-bias` to maximise the
mean over the training sources of their scores on the cross-validated
probabilities (macro-F1 of fully labelled pages, content F1 of partially
labelled ones); in the table above each fold's pages are labelled with
offsets tuned on the other folds only. Without offsets the same
cross-validation scored:

| data | macro-F1 | body F1 |
|---|---|---|
{rows}
"""


def _weight_note(info: dict) -> str:
    """How much each line of one training source counted (``--data-weight``), when not 1."""
    weight = info.get("weight", 1.0)
    return "" if weight == 1.0 else f", each line weighted {weight:g}"


def main(path: str) -> None:
    bundle = load_bundle(path)
    meta = bundle["metadata"]
    cv = meta["cross_validation"]
    trained = meta["trained_on"]
    data_rows = "\n".join(
        f"- `{name}`: {info['pages']} pages, {info['lines']} labelled lines{_weight_note(info)}. {LICENCES.get(name, '')}"
        for name, info in trained.items()
    )
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(bundle["params"].items()))
    print(f"""# Model card: lineclf default model

File: `models/default.joblib` (installed as `lineclf/models/default.joblib`).
Written by lineclf {bundle['lineclf_version']} with scikit-learn {bundle['sklearn_version']};
it loads only under that scikit-learn minor release.

## What it does

Labels each non-blank line of a web page's text dump as body, headline,
caption, teaser or chrome (see the README). Two passes: a linear model over
hashed word n-grams and layout features, then gradient-boosted trees that
revise each line from its own features and the first pass's probabilities of
its neighbours and page. Each line also sees on what share of the other pages
of its site in the batch being labelled it recurs (menus do; a page labelled
alone has no other pages). Parameters: {params}.

## Training data

{data_rows}

Research data: the model may be used for research; the page texts themselves
are not in this repository. The model stores hashed n-gram weights, not page
text.

## Scores

Site-grouped {cv['folds']}-fold cross-validation (no site is in both the training
and the test folds; folds grouped by {cv['grouped_by']}), line-weighted. Each
row scores the pages of one corpus, predicted by models trained on the other
folds of all the training data. A test fold's pages are labelled as one batch, so
lines are counted across the pages of each of its sites.

{score_table(cv['scores'])}
{bias_section(meta.get("label_bias_tuning"))}
Reproduce: `bash scripts/train_default.sh` (needs `../shared/corpus`).

## Limits

- Five labels are learnt from English news from 2008 (gn1) and German news
  and magazine pages from 2019-2023 (de-news) only; web texts in German,
  English, Spanish and Finnish (turku-quality, when listed above) teach only
  main text against noise. Other languages, other kinds of pages (forums,
  shops, docs) and other dump renderers are untested.
- Headlines are rare (one or two lines a page), so their scores move a lot
  with a few lines: read them with their line counts.
- Teasers in gn1 are few (362 lines) and look like headlines of other
  articles; they are the weakest label there. gn1 labels most lists of
  other articles chrome: of the five lines after a section heading such as
  "Related Stories", 72 are teasers and 984 chrome, where de-news has 124
  teasers and 76 chrome, as LABELS.md asks (`scripts/label_audit.py`).
- Labels in gn1 come from annotators who did not always agree.
- The German example page (`data/labels/seed-de.tsv`, not in the training
  data): {example_agreement(bundle["estimator"])} (counted by
  `scripts/model_card.py` when it writes this card; its lines are numbered
  among the non-blank lines).
""")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/default.joblib")
