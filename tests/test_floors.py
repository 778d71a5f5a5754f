"""The apps stand on floors (ARCHITECTURE.md): imports run downward only, so no app knows
one beside or above it and there is no cycle. Function-level imports count too."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lipsync_site"

FLOORS = {
    "accounts": 0,
    "workspaces": 1,
    # Files belong to a workspace and a signed link checks the holder is still a member.
    "media": 2,
    "consent": 3,
    "credits": 3,
    "providers": 3,
    "jobs": 4,
    "moderation": 5,
    "api": 5,
    "monitoring": 5,  # health and metrics read jobs and providers
    "demo": 6,  # the demo seed uses every app
}


def imported_apps(path: Path) -> set[str]:
    apps = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "lipsync_site" and len(parts) > 1 and parts[1] in FLOORS:
                apps.add(parts[1])
    return apps


def modules_of(app: str):
    return [path for path in (PACKAGE / app).rglob("*.py") if "migrations" not in path.parts]


@pytest.mark.parametrize("app", [app for app in FLOORS if (PACKAGE / app).is_dir()])
def test_an_app_imports_only_the_floors_below_it(app):
    wrong = {
        f"{path.relative_to(PACKAGE)} imports {other}"
        for path in modules_of(app)
        for other in imported_apps(path)
        if other != app and FLOORS[other] >= FLOORS[app]
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_every_app_has_a_floor():
    apps = {path.parent.name for path in PACKAGE.glob("*/apps.py")}
    assert apps <= set(FLOORS), f"give these apps a floor in ARCHITECTURE.md and here: {apps - set(FLOORS)}"


def test_the_catalog_is_pure_data():
    assert imported_apps(PACKAGE / "providers" / "catalog.py") <= {"media"}
    source = (PACKAGE / "providers" / "catalog.py").read_text()
    assert "providers.models" not in source and "django.conf" not in source
