"""The package's layout: imports run one way (no cycles, counting the
imports inside functions too), and no module grows past a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import lineclf

PACKAGE = Path(lineclf.__file__).resolve().parent
#: A module longer than this is doing more than one job.
MAX_MODULE_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import's target."""
    if level == 0:
        return name or ""
    base = module.split(".")
    # a package's own relative imports start from the package, a module's from its parent
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph() -> dict[str, set[str]]:
    """Each lineclf module and the lineclf modules it imports, anywhere in it
    (at the top, inside functions, under ``if TYPE_CHECKING``)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                # `from package import module` imports the module; `from module import name`, the module
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            for target in targets:
                # `import lineclf.a.b` runs lineclf.a.b (its packages are imported first, not by this module)
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for other in sorted(graph[node]):
            if state.get(other) == 1:
                return path[path.index(other) :] + [other]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # the Dask runner is imported only when a run asks for it
    assert "lineclf.labelling.cluster" in graph["lineclf.labelling.run"]
    # and at the top of a module
    assert "lineclf.cli" in graph["lineclf.__main__"]


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_model_does_not_import_the_runs_above_it():
    graph = import_graph()
    below = {name for name in graph if name.startswith(("lineclf.model", "lineclf.features", "lineclf.io"))}
    above = ("lineclf.labelling", "lineclf.cli", "lineclf.evaluation", "lineclf.training")
    for name in below:
        assert not any(target.startswith(above) for target in graph[name]), (name, graph[name])


def test_no_module_is_too_long():
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_model_files_find_the_classifier_where_they_always_have():
    """Pickles and .skops files name a class by its module: moving the
    classifier must not move the name written into (and read from) model files."""
    import pickle

    from lineclf.model import SKOPS_TRUSTED, LineClassifier

    assert f"{LineClassifier.__module__}.{LineClassifier.__qualname__}" == "lineclf.model.LineClassifier"
    assert "lineclf.model.LineClassifier" in SKOPS_TRUSTED
    written = pickle.dumps(LineClassifier())
    assert b"lineclf.model.classifier" not in written


def test_the_shipped_model_names_only_importable_lineclf_classes(monkeypatch):
    import importlib

    import joblib
    from joblib import numpy_pickle

    from lineclf.model import default_model_path

    named: set[tuple[str, str]] = set()
    find_class = numpy_pickle.NumpyUnpickler.find_class

    def recording(self, module, name):
        named.add((module, name))
        return find_class(self, module, name)

    monkeypatch.setattr(numpy_pickle.NumpyUnpickler, "find_class", recording)
    joblib.load(default_model_path())
    ours = {(module, name) for module, name in named if module.split(".")[0] == "lineclf"}
    assert ours == {
        ("lineclf.model.predictor", "Predictor"),
        ("lineclf.model.linear", "LinearPass"),
        ("lineclf.model.trees", "TreeEnsemble"),
    }
    # labelling with it imports neither (lineclf.model.files)
    assert not {module for module, _ in named if module.split(".")[0] in ("sklearn", "scipy")}
    for module, name in ours:
        assert getattr(importlib.import_module(module), name).__name__ == name
