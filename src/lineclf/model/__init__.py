"""The line classifier and its files.

- :mod:`.classifier`: :class:`LineClassifier`, the scikit-learn estimator;
- :mod:`.passes`: its stages as building blocks (layout features, hashed
  words, first pass, second pass, label bias);
- :mod:`.predictor`: :class:`Predictor`, a fitted classifier's passes as
  plain arrays, which labels pages with numpy only;
- :mod:`.hashing`, :mod:`.linear`, :mod:`.trees`: the hashed words and the
  two passes as arrays, with their loops in C (``lineclf._native``);
- :mod:`.adaptation`: adapting a fitted model to a site from a few
  corrected pages (:func:`adapt_model`);
- :mod:`.files`: saving and (safely) loading model files.

Model files name the classifier ``lineclf.model.LineClassifier``: it stays
importable from here whatever module defines it.

The names below are imported when first used, so that labelling with a model
file (:mod:`.predictor`, numpy only) does not import scikit-learn.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_CLASS_WEIGHT_POWER": "classifier",
    "DEFAULT_HASH_FEATURES": "classifier",
    "DEFAULT_MODEL_NAME": "files",
    "DEFAULT_PARTIAL_RESOLUTION": "classifier",
    "DEFAULT_PARTIAL_WEIGHT": "classifier",
    "HASH_SUFFIX": "files",
    "LineClassifier": "classifier",
    "MODEL_FORMAT": "files",
    "MODEL_PROTOCOL": "files",
    "PARTIAL_RESOLUTIONS": "classifier",
    "Predictor": "predictor",
    "READABLE_PROTOCOLS": "files",
    "SECOND_PASS_CONTEXT": "revision",
    "SKOPS_SUFFIX": "files",
    "SKOPS_TRUSTED": "files",
    "SiteAdapter": "adaptation",
    "adapt_model": "adaptation",
    "as_predictor": "files",
    "default_model_path": "files",
    "file_sha256": "files",
    "load_bundle": "files",
    "load_model": "files",
    "load_predictor": "files",
    "predict_documents": "files",
    "revision_features": "revision",
    "save_model": "files",
    "shift_priors": "passes",
    "skops_module": "files",
    "unit_offsets": "passes",
    "verify_default_model": "files",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


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
    "READABLE_PROTOCOLS",
    "SECOND_PASS_CONTEXT",
    "SKOPS_SUFFIX",
    "SKOPS_TRUSTED",
    "LineClassifier",
    "Predictor",
    "SiteAdapter",
    "adapt_model",
    "as_predictor",
    "default_model_path",
    "file_sha256",
    "load_bundle",
    "load_model",
    "load_predictor",
    "predict_documents",
    "revision_features",
    "save_model",
    "shift_priors",
    "skops_module",
    "unit_offsets",
    "verify_default_model",
]
