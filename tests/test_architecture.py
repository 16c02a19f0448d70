"""The layering rules of docs/ARCHITECTURE.md, checked on the code's own imports."""

import ast
from pathlib import Path

from django.conf import settings

APPS = {"accounts", "library", "playlists", "listening_sessions", "search"}
FLOOR = ("musicapp/platform", "musicapp/adapters", "musicapp/dev")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_platform_never_imports_an_app():
    offenders = {
        str(path.relative_to(settings.BASE_DIR)): sorted(imported_packages(path) & APPS)
        for folder in FLOOR
        for path in (settings.BASE_DIR / folder).rglob("*.py")
        if imported_packages(path) & APPS
    }
    assert offenders == {}
