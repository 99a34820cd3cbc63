"""The line classifier and its files.

- :mod:`.classifier`: :class:`LineClassifier`, the scikit-learn estimator;
- :mod:`.passes`: its stages as building blocks (layout features, hashed
  words, first pass, second pass, label bias);
- :mod:`.linear`, :mod:`.trees`: the two passes' fast predictors;
- :mod:`.adaptation`: adapting a fitted model to a site from a few
  corrected pages (:func:`adapt_model`);
- :mod:`.files`: saving and (safely) loading model files.

Model files name the classifier ``lineclf.model.LineClassifier``: it stays
importable from here whatever module defines it.
"""

from __future__ import annotations

from .adaptation import SiteAdapter, adapt_model
from .classifier import (
    DEFAULT_CLASS_WEIGHT_POWER,
    DEFAULT_HASH_FEATURES,
    DEFAULT_PARTIAL_RESOLUTION,
    DEFAULT_PARTIAL_WEIGHT,
    PARTIAL_RESOLUTIONS,
    LineClassifier,
)
from .files import (
    DEFAULT_MODEL_NAME,
    HASH_SUFFIX,
    MODEL_FORMAT,
    MODEL_PROTOCOL,
    SKOPS_SUFFIX,
    SKOPS_TRUSTED,
    default_model_path,
    file_sha256,
    load_bundle,
    load_model,
    predict_documents,
    save_model,
    skops_module,
    verify_default_model,
)
from .passes import SECOND_PASS_CONTEXT, revision_features, shift_priors, unit_offsets

__all__ = [
    "DEFAULT_CLASS_WEIGHT_POWER",
    "DEFAULT_HASH_FEATURES",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_PARTIAL_RESOLUTION",
    "DEFAULT_PARTIAL_WEIGHT",
    "HASH_SUFFIX",
    "MODEL_FORMAT",
    "MODEL_PROTOCOL",
    "PARTIAL_RESOLUTIONS",
    "SECOND_PASS_CONTEXT",
    "SKOPS_SUFFIX",
    "SKOPS_TRUSTED",
    "LineClassifier",
    "SiteAdapter",
    "adapt_model",
    "default_model_path",
    "file_sha256",
    "load_bundle",
    "load_model",
    "predict_documents",
    "revision_features",
    "save_model",
    "shift_priors",
    "skops_module",
    "unit_offsets",
    "verify_default_model",
]
