"""The import graph of checkout/, storefront/ and admin/: one direction, no circle, nothing hidden in a function.

Every .py file is parsed (not imported), and every import statement counts, at module level or inside a
function. `from package import name` points at the module `package.name` when there is one, else at the
package itself. A parent package is not counted as imported by its submodules (Python runs it first, but
a submodule needs nothing from it), so a package may re-export what its own submodules define.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("checkout", "storefront", "admin")
SCREENS = ("storefront", "admin")
FACTORY_MODULE, FACTORY_FUNCTION = "checkout", "create_app"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    function: str | None  # the function whose body holds the statement; None at module level


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parsed_modules() -> dict[str, tuple[Path, ast.Module]]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            modules[_module_name(path)] = (path, ast.parse(path.read_text(), filename=str(path)))
    return modules


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]):
        self.module, self.is_package, self.known = module, is_package, known
        self.functions: list[str] = []
        self.imports: list[Import] = []

    def _function(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _add(self, node: ast.stmt, target: str) -> None:
        if target.split(".")[0] not in PACKAGES:
            return
        while target not in self.known and "." in target:
            target = target.rsplit(".", 1)[0]  # `import checkout.x.Name`-like paths end at the module
        function = ".".join(self.functions) or None
        self.imports.append(Import(self.module, target, node.lineno, function))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.module if self.is_package else self.module.rsplit(".", 1)[0]
            for _ in range(node.level - 1):
                package = package.rsplit(".", 1)[0]
            base = f"{package}.{base}" if base else package
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(node, submodule if submodule in self.known else base)


def _all_imports() -> list[Import]:
    modules = _parsed_modules()
    known = set(modules)
    imports = []
    for name, (path, tree) in modules.items():
        collector = _ImportCollector(name, path.name == "__init__.py", known)
        collector.visit(tree)
        imports += collector.imports
    return imports


def _cycles(imports: list[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself), by Tarjan."""
    graph: dict[str, set[str]] = {}
    for found in imports:
        graph.setdefault(found.importer, set()).add(found.imported)
        graph.setdefault(found.imported, set())
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                visit(neighbour)
                lowlink[node] = min(lowlink[node], lowlink[neighbour])
            elif neighbour in on_stack:
                lowlink[node] = min(lowlink[node], index[neighbour])
        if lowlink[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _describe(imports: list[Import]) -> str:
    return "\n".join(
        f"  {found.importer} (line {found.line}{', in ' + found.function if found.function else ''}) "
        f"imports {found.imported}"
        for found in imports
    )


def test_no_module_takes_part_in_an_import_circle():
    imports = _all_imports()
    cycles = _cycles(imports)
    details = []
    for members in cycles:
        inside = [found for found in imports if found.importer in members and found.imported in members]
        details.append(f"circle among {', '.join(members)}:\n{_describe(inside)}")
    assert not cycles, "\n".join(details)


def test_the_core_imports_no_screens_outside_the_app_factory():
    reaching_up = [
        found
        for found in _all_imports()
        if found.importer.split(".")[0] == "checkout"
        and found.imported.split(".")[0] in SCREENS
        and found.importer != FACTORY_MODULE
    ]
    assert not reaching_up, f"checkout/ imports from storefront/ or admin/:\n{_describe(reaching_up)}"


def test_no_import_hides_inside_a_function_of_the_core_except_in_the_app_factory():
    hidden = [
        found
        for found in _all_imports()
        if found.importer.split(".")[0] == "checkout"
        and found.function is not None
        and (found.importer, found.function) != (FACTORY_MODULE, FACTORY_FUNCTION)
    ]
    assert not hidden, f"imports inside functions in checkout/:\n{_describe(hidden)}"


def test_the_graph_sees_imports_at_module_level_and_inside_functions():
    """The checks above are only as good as the parser: a known module-level and a known function-level import."""
    imports = _all_imports()
    assert any(
        found.importer == "checkout.outbox" and found.imported == "checkout.extensions" and found.function is None
        for found in imports
    )
    assert any(
        found.importer == FACTORY_MODULE and found.function == FACTORY_FUNCTION and found.imported == "admin"
        for found in imports
    )
