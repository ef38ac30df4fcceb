"""The rule of direction (docs/architecture.md), checked on the code itself so it cannot drift.

Pages and the API call schemas and services; services call models; schemas only shape data;
services never import the API, pages, schemas or the demo; no import sits inside a function
to dodge a circle (only the app factory's registrations import late).
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
# The app factory registers blueprints, extensions and commands when the app is built.
LATE_IMPORTS_ALLOWED = {"app/__init__.py", "app/api/__init__.py", "app/web/__init__.py", "app/cli/__init__.py"}


def modules():
    """Every module of the app with its parsed tree and its path from the project root."""
    for path in sorted(APP.rglob("*.py")):
        yield path.relative_to(APP.parent).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def imported(tree: ast.AST, top_level_only: bool = False) -> list[tuple[str, int]]:
    """The app modules a tree imports, with the line of each import."""
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            found += [(node.module, node.lineno)] + [(f"{node.module}.{a.name}", node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("app")]
    return found


def test_services_never_import_pages_api_schemas_or_the_demo():
    wrong = [f"{path}:{line} {name}" for path, tree in modules() if path.startswith("app/services/")
             for name, line in imported(tree)
             if name.startswith(("app.api", "app.web", "app.schemas", "app.demo", "app.tasks"))]
    assert wrong == []


def test_schemas_only_shape_data():
    wrong = [f"{path}:{line} {name}" for path, tree in modules() if path.startswith("app/schemas/")
             for name, line in imported(tree) if name.startswith(("app.services", "app.web", "app.api"))]
    assert wrong == []


def test_nothing_below_the_pages_reaches_up():
    below = ("app/services/", "app/models/", "app/schemas/", "app/errors.py", "app/database.py")
    wrong = [f"{path}:{line} {name}" for path, tree in modules() if path.startswith(below)
             for name, line in imported(tree) if name.startswith(("app.api", "app.web", "app.cli"))]
    assert wrong == []


def test_no_import_inside_a_function_outside_the_app_factory():
    late = []
    for path, tree in modules():
        if path in LATE_IMPORTS_ALLOWED:
            continue
        top = {line for _, line in imported(tree, top_level_only=True)}
        late += [f"{path}:{line} {name}" for name, line in imported(tree) if line not in top]
    assert late == []


def test_test_modules_share_helpers_through_tests_helpers_only():
    tests = Path(__file__).resolve().parent
    wrong = []
    for path in sorted(tests.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        wrong += [f"{path.name}:{node.lineno} {node.module}" for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_")]
    assert wrong == []
