"""No import circle in hrm_studio/: no module imports, directly or through others, one that imports it back.

A circle means neither module can be understood, tested or moved without the other, and it
only works while every import in it stays late or in the right order. grimp records every
import, function-level (late) ones and packages' `__init__` modules included, so a circle
hidden inside a function still counts. Imports under `if TYPE_CHECKING:` do not: they never
run, and a helper that names its window's class in a type hint is not a circle.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "hrm_studio"



def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Every group of two or more modules that import each other, directly or indirectly (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, edges = work[-1]
            for imported in edges:
                if imported not in index:
                    index[imported] = low[imported] = len(index)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, iter(sorted(graph.find_modules_directly_imported_by(imported)))))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        groups.append(group)
    return groups


def _describe(graph: grimp.ImportGraph, group: set[str]) -> str:
    """The imports inside one circle, with their lines, so the failure says what to move."""
    lines = []
    for importer in sorted(group):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & group):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"  {importer}:{detail['line_number']}: {detail['line_contents']}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_imports_one_that_imports_it_back(graph: grimp.ImportGraph):
    circles = strongly_connected(graph)
    assert not circles, "Import circles in hrm_studio/:\n" + "\n\n".join(_describe(graph, g) for g in circles)


def test_the_finder_sees_a_circle_through_a_late_import():
    toy = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c", "p.d"):
        toy.add_module(name)
    toy.add_import(importer="p.a", imported="p.b")
    toy.add_import(importer="p.b", imported="p.c")
    toy.add_import(importer="p.c", imported="p.a")  # e.g. inside a function
    toy.add_import(importer="p.c", imported="p.d")
    assert strongly_connected(toy) == [{"p.a", "p.b", "p.c"}]
