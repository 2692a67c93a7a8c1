"""The production packages import each other without cycles and without reaching into
another module's private names (tests/architecture/import_graph.py reads the source)."""

from __future__ import annotations

import ast
import textwrap

from tests.architecture.import_graph import cycles, import_graph, module_files


def test_it_has_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], "import cycles (function-local imports count): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def test_it_imports_no_private_name_of_another_module():
    offences = []
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                offences += [
                    f"{module}: from {'.' * node.level}{node.module or ''} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert offences == []


# Underscored names that are public API of the library that owns them.
LIBRARY_NAMES = {
    "_meta",  # Django's model options
    "_default_manager",  # Django's documented manager of any model
    "_id",  # exchangelib's item id field (`id` is a read-only property over it)
}


def test_it_reads_no_private_attribute_of_another_object():
    offences = []
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            owner = node.value
            own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            inherited = isinstance(owner, ast.Call) and ast.unparse(owner.func) == "super"
            if node.attr.startswith("__") or own or inherited or node.attr in LIBRARY_NAMES:
                continue
            offences.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert offences == []


def test_the_graph_sees_a_cycle_hidden_in_a_function(tmp_path):
    # The checker itself: a cycle closed by a function-local import is still a cycle,
    # and so is one closed by an import only for type checking.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .c import C
            def late():
                from .a import thing
            """
        )
    )
    (pkg / "c.py").write_text("from pkg.b import late\n")
    graph = import_graph(module_files(tmp_path, ["pkg"]))
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.a", "pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
