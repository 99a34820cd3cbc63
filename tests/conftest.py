"""Shared paths, synthetic labelled pages and one tiny trained model.

The model is trained once per session on a handful of hand-made pages plus the
German example (data/labels/seed-de.tsv), so every model and CLI test runs on
a real, fitted classifier while the whole suite stays fast.
"""

from __future__ import annotations

import os

# Tiny models gain nothing from OpenMP threads, and on a busy machine the
# threads' spin-waiting makes gradient boosting many times slower. Set before
# scikit-learn is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lineclf.document import Document  # noqa: E402
from lineclf.io import format_tsv, read_labelled  # noqa: E402
from lineclf.model import LineClassifier, save_model  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEED_TSV = REPO_ROOT / "data" / "labels" / "seed-de.tsv"
SEED_TXT = REPO_ROOT / "data" / "examples" / "seed-de.txt"


def pytest_configure(config: pytest.Config) -> None:
    # Tiny models stop the linear first pass early on purpose.
    config.addinivalue_line("filterwarnings", "ignore::sklearn.exceptions.ConvergenceWarning")


# --------------------------------------------------------------------------- helpers


def tiny_estimator(**params) -> LineClassifier:
    """A LineClassifier small enough to train in a fraction of a second."""
    settings = {"max_iter": 15, "inner_folds": 2, "hash_features": 2**12}
    settings.update(params)
    return LineClassifier(**settings)


def write_bytes(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def unit_texts(doc: Document) -> list[str]:
    return [doc.lines[i] for i in doc.unit_index]


_TOPICS = [
    ("Council approves new budget for the harbour district", "Mayor Anna Berg", "harbour"),
    ("Storm closes schools across the northern valleys", "Forecaster Tom Reed", "storm"),
    ("Local team wins the regional cup after penalties", "Coach Maria Lind", "team"),
    ("Museum opens a new wing for modern sculpture", "Curator Paul Weiss", "museum"),
    ("Railway strike delays thousands of commuters", "Union leader Eva Stark", "strike"),
    ("Researchers find rare frogs in the city park", "Biologist Jan Olsen", "frogs"),
]


def synthetic_page(index: int, site: str) -> Document:
    """A small labelled news page: navigation, headline, caption, body, teasers, footer."""
    title, person, topic = _TOPICS[index % len(_TOPICS)]
    other = _TOPICS[(index + 1) % len(_TOPICS)][0]
    third = _TOPICS[(index + 2) % len(_TOPICS)][0]
    rows: list[tuple[str | None, str]] = [
        ("chrome", "Home | News | Sport | Culture | Login"),
        ("chrome", "Search"),
        (None, ""),
        ("headline", title),
        (None, ""),
        ("caption", f"{person} speaks to reporters on Monday. Photo: Agency"),
        (None, ""),
        (
            "body",
            f"The decision about the {topic} was taken late on Monday evening after a long debate, "
            "and officials said that the details will be published within the next two weeks.",
        ),
        (None, ""),
        (
            "body",
            f"{person} told the local newspaper that the {topic} had been discussed for many months, "
            "and that most residents in the area had supported the plan from the very beginning.",
        ),
        (None, ""),
        (
            "body",
            "Critics argued that the costs were far too high, but the majority of the members voted "
            "in favour, and the first steps are expected to follow early in the coming spring.",
        ),
        (None, "   "),
        ("chrome", "Related articles"),
        ("teaser", other),
        ("teaser", third),
        (None, ""),
        ("chrome", "Impressum"),
        ("chrome", "Privacy policy"),
        ("chrome", f"© 2024 {site}"),
    ]
    lines = [text for _, text in rows]
    labels = [label for label, _ in rows if label is not None]
    return Document.from_lines(lines, name=f"page{index}", labels=labels, site=site)


def synthetic_pages() -> list[Document]:
    sites = ["alpha.example", "alpha.example", "beta.example", "beta.example", "gamma.example", "gamma.example"]
    return [synthetic_page(i, site) for i, site in enumerate(sites)]


def write_labelled_dir(directory: Path, documents: list[Document]) -> list[Path]:
    """Write documents in the labelled format, one <name>.tsv each."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in documents:
        path = directory / f"{Path(doc.name).stem}.tsv"
        path.write_bytes(format_tsv(doc, doc.labels).encode("utf-8"))
        paths.append(path)
    return paths


#: Page texts for JSON Lines and WET samples: ordinary pages, CRLF line ends,
#: an empty page, a page without a final line end.
SAMPLE_TEXTS = [
    (
        "Home | News | Sport\n\nCouncil approves the harbour budget\n\nThe council approved the budget for the harbour "
        "district late on Monday, after a long debate about the costs.\n\nImpressum\n"
    ),
    (
        "Startseite\r\n\r\nKöln: Neue Brücke eröffnet\r\n\r\nDie neue Brücke über den Rhein wurde am Montag eröffnet, "
        "nach drei Jahren Bauzeit und vielen Verzögerungen.\r\n"
    ),
    "",
    "Menu\nStorm closes schools across the northern valleys\nForecasters expect more rain on Tuesday and Wednesday.",
]


def sample_records(texts: list[str] | None = None) -> list[dict]:
    """JSON Lines records of the sample pages: id, url, the text, and a field to pass through."""
    texts = SAMPLE_TEXTS if texts is None else texts
    return [
        {"id": f"page-{i}", "url": f"https://www.site{i % 2}.example/story/{i}", "text": text, "lang": ["en", "de"][i % 2]}
        for i, text in enumerate(texts)
    ]


def jsonl_bytes(records: list[dict]) -> bytes:
    import json

    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def write_wet(path: Path, records: list[dict], gzip: bool = True, extra_records: bool = True) -> Path:
    """A WET file written with warcio: a warcinfo record, then one
    'conversion' record per page (its url as WARC-Target-URI), and, with
    ``extra_records``, a metadata record that is not a page."""
    import io

    from warcio.warcwriter import WARCWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzip, warc_version="WARC/1.0")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "lineclf tests"}))
        for record in records:
            writer.write_record(
                writer.create_warc_record(
                    record["url"], "conversion", payload=io.BytesIO(record["text"].encode("utf-8")),
                    warc_headers_dict={"Content-Type": "text/plain"},
                )
            )
            if extra_records:
                writer.write_record(
                    writer.create_warc_record(
                        record["url"], "metadata", payload=io.BytesIO(b"fetchTimeMs: 12\r\n"),
                        warc_headers_dict={"Content-Type": "application/warc-fields"},
                    )
                )
    return path


def record_ids(path: Path) -> list[str]:
    """The WARC-Record-ID of each conversion record of a WET file."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as handle:
        return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(handle) if r.rec_type == "conversion"]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _trust_warning_already_given(monkeypatch):
    """load_model warns once per process that loading a model file runs code
    from it; tests load many model files, so the warning would land in
    whichever test came first. It is tested on its own (test_reliability)."""
    import lineclf.model.files

    monkeypatch.setattr(lineclf.model.files, "_TRUST_WARNED", True)


@pytest.fixture(scope="session")
def seed_doc() -> Document:
    return read_labelled(SEED_TSV)


@pytest.fixture(scope="session")
def training_docs(seed_doc: Document) -> list[Document]:
    return synthetic_pages() + [seed_doc]


@pytest.fixture(scope="session")
def tiny_model(training_docs: list[Document]) -> LineClassifier:
    return tiny_estimator().fit(training_docs)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory, tiny_model: LineClassifier) -> Path:
    """A tiny model saved with save_model, shared by the whole session (read only)."""
    path = tmp_path_factory.mktemp("model") / "tiny.joblib"
    save_model(tiny_model, path, metadata={"purpose": "tests"})
    return path


@pytest.fixture
def labelled_dir(tmp_path: Path, training_docs: list[Document]) -> Path:
    """A folder of labelled .tsv files (the synthetic pages and the German example)."""
    directory = tmp_path / "labelled"
    write_labelled_dir(directory, training_docs)
    return directory


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "gn1").is_dir():
        pytest.skip(f"research corpus not available at {CORPUS} (it lives beside the repository in ../shared)")
    return CORPUS


# --------------------------------------------------------------------------- command line


def run_cli(*args, input: bytes | str | None = None):
    """Run ``lineclf ARGS`` in-process; returns typer's Result (stdout and stderr apart)."""
    from typer.testing import CliRunner

    from lineclf.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def assert_clean_error(result, exit_code: int = 1) -> str:
    """The command failed with one 'lineclf: error:' line on stderr and no traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lineclf: error: "), result.stderr
    return lines[0]


def labels_of_tsv_output(output: str, dump: str) -> list[str]:
    """Check that ``output`` is ``dump`` in the labelled format -- every line's
    text and line end unchanged, blank lines as they were, a missing last line
    end written as \\n -- and return the labels, one per non-blank line."""
    from lineclf.io import split_lines
    from lineclf.labels import LABELS

    in_lines, in_ends = split_lines(dump)
    out_lines, out_ends = split_lines(output)
    assert len(out_lines) == len(in_lines)
    assert out_ends == [end or "\n" for end in in_ends]
    labels = []
    for text, written in zip(in_lines, out_lines):
        if not text.strip():
            assert written == text
            continue
        label, tab, rest = written.partition("\t")
        assert tab and label in LABELS, written
        assert rest == text
        labels.append(label)
    return labels


def load_script(name: str):
    """A script of scripts/ (not a package) loaded as a module."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
