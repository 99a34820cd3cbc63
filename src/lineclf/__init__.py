"""lineclf: label every line of a web page's text dump.

Each non-blank line gets one of five labels (body, headline, caption, teaser,
chrome) from a trained scikit-learn classifier over per-line features.
"""

from __future__ import annotations

import logging

from ._lazy import lazy_exports

__version__ = "0.1.0"

# The public API, imported on first use (PEP 562) so that `import lineclf`
# and `lineclf --help` do not pay for scikit-learn.
_EXPORTS = {
    "SiteCounts": "features",
    "Document": "document",
    "PageMeta": "document",
    "DataFormatError": "errors",
    "LineclfError": "errors",
    "ModelFileError": "errors",
    "UsageError": "errors",
    "iter_pages": "io",
    "read_dump": "io",
    "read_labelled": "io",
    "read_labelled_corpus": "io",
    "LABELS": "labels",
    "Label": "labels",
    "Report": "evaluation",
    "cross_val_predict": "evaluation",
    "evaluate": "evaluation",
    "predict_files": "labelling",
    "LineClassifier": "model",
    "adapt_model": "model",
    "default_model_path": "model",
    "load_model": "model",
    "predict_documents": "model",
    "save_model": "model",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = [
    "LABELS",
    "DataFormatError",
    "Document",
    "Label",
    "LineClassifier",
    "LineclfError",
    "ModelFileError",
    "PageMeta",
    "Report",
    "SiteCounts",
    "UsageError",
    "__version__",
    "adapt_model",
    "cross_val_predict",
    "default_model_path",
    "evaluate",
    "iter_pages",
    "load_model",
    "predict_documents",
    "predict_files",
    "read_dump",
    "read_labelled",
    "read_labelled_corpus",
    "save_model",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
