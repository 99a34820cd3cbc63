#!/usr/bin/env bash
# Train the shipped default model on the English (gn1) and German (de-news)
# corpora in ../shared/corpus, with turku-quality's German, English, Spanish
# and Finnish web texts as partially labelled pages (main text or noise;
# written to a temporary folder outside the repository by
# scripts/main_text_to_tsv.py), with de-news's lines weighted 3 (its 60 pages
# beside gn1's 501), print its site-grouped 5-fold cross-validated scores, and
# rewrite models/default.joblib (with its recorded SHA-256,
# models/default.joblib.sha256, which load_model checks) and models/MODEL_CARD.md.
#
#   bash scripts/train_default.sh          (from the repository's top folder)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${LINECLF_CORPUS:-../shared/corpus}
python=${PYTHON:-.venv/bin/python}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
partial="$scratch/turku-quality"  # the folder's name is what the model card lists

"$python" scripts/main_text_to_tsv.py "$partial" --corpus "$corpus"
"$python" -m lineclf train "$corpus/gn1" "$corpus/de-news" "$partial" \
    --groups "$corpus/gn1-manifest.tsv" --groups "$corpus/de-news-manifest.tsv" \
    --data-weight de-news=3 \
    --folds 5 --model models/default.joblib --json models/cv-scores.json --verbose
# load_model refuses the shipped model unless it matches this recorded hash
# (record it before model_card.py, which loads the model)
(cd models && sha256sum default.joblib > default.joblib.sha256)
"$python" scripts/model_card.py models/default.joblib > models/MODEL_CARD.md
echo "wrote models/default.joblib, models/default.joblib.sha256, models/cv-scores.json, models/MODEL_CARD.md" >&2
