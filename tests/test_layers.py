"""The apps stand in layers: formkit ← orgs ← campaigns ← notices ← reporting, archive, ledger ← checks ← api,
demo (← config); notices (站内通知) sits below reporting so that reporting's transitions can write them;
checks (spot checks and self-checks) reads the ledger and the archive. The site shell (`site`: the base
template and shared CSS) imports no app at all.

An app imports only from its own layer or below, never a sibling's views, and formkit imports nothing from
Django (it is the pure table package the command line uses too), nor do checks' sampling and statistics.
Read from the source, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "songnuan"
LAYER = {
    "site": 0,  # the site shell: templates, static files, the download response; imports no songnuan app
    "formkit": 0,
    "orgs": 1,
    "campaigns": 2,
    "notices": 3,  # below reporting: its services write notices on a return, an acceptance, an unlock
    "reporting": 4,
    "archive": 4,
    "ledger": 4,  # beside archive (its households) and reporting (which shows the ledger's figures)
    "checks": 5,  # spot checks of the ledger's payments to the archive's households, self-checks of both
    "api": 6,
    "demo": 6,
    "config": 7,  # the project: settings and URLs name every app
}
#: Plain Python beside an app's Django code: what they compute is tested and benchmarked without a database.
WITHOUT_DJANGO = {("checks", "sampling.py"), ("checks", "stats.py")}


def imported_modules(path: Path, root: Path = SOURCE.parent) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in a file under `root`, relative imports resolved."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from songnuan.reporting import views` imports a module too: name it.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def app_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "songnuan" else None


SOURCES = sorted(p for p in SOURCE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_app_has_a_layer() -> None:
    apps = {p.relative_to(SOURCE).parts[0] for p in SOURCES if len(p.relative_to(SOURCE).parts) > 1}
    assert apps == set(LAYER)


def violations(path: Path, source: Path = SOURCE) -> list[str]:
    parts = path.relative_to(source).parts
    if len(parts) == 1:
        return []  # songnuan/__init__.py
    own = parts[0]
    wrong = []
    for line, module in imported_modules(path, source.parent):
        if own == "formkit" and module.split(".")[0] == "django":
            wrong.append(f"{line}: {module} (formkit imports nothing from Django)")
        elif parts in WITHOUT_DJANGO and module.split(".")[0] == "django":
            wrong.append(f"{line}: {module} ({'/'.join(parts)} imports nothing from Django)")
        other = app_of(module)
        if other is None or other == own or other not in LAYER:
            continue
        if LAYER[other] > LAYER[own]:
            wrong.append(f"{line}: {module} (layer {LAYER[other]} above {own}'s {LAYER[own]})")
        elif own != "config" and module.split(".")[2:3] and module.split(".")[2].startswith("views"):
            wrong.append(f"{line}: {module} (another app's views)")
    return wrong


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_imports_go_down_the_layers(path: Path) -> None:
    assert violations(path) == []


def test_the_check_finds_what_it_forbids(tmp_path: Path) -> None:
    source = tmp_path / "songnuan"
    files = {
        "orgs/a.py": "from ..reporting import models\nfrom . import selectors\n",
        "formkit/b.py": "def f():\n    from django.db import models\n",
        "reporting/c.py": "import songnuan.archive.views_upload\nfrom songnuan.archive import selectors\n",
        "api/d.py": "from songnuan.reporting.views import x\nfrom songnuan.orgs.models import Unit\n",
        "checks/stats.py": "import django.db\nfrom songnuan.api import schemas\n",
    }
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, "utf-8")
    found = {name: violations(source / name, source) for name in files}
    assert found == {
        "orgs/a.py": [
            "1: songnuan.reporting.models (layer 4 above orgs's 1)",
            "1: songnuan.reporting (layer 4 above orgs's 1)",
        ],
        "formkit/b.py": [
            "2: django.db.models (formkit imports nothing from Django)",
            "2: django.db (formkit imports nothing from Django)",
        ],
        "reporting/c.py": ["1: songnuan.archive.views_upload (another app's views)"],
        "api/d.py": [
            "1: songnuan.reporting.views.x (another app's views)",
            "1: songnuan.reporting.views (another app's views)",
        ],
        "checks/stats.py": [
            "1: django.db (checks/stats.py imports nothing from Django)",
            "2: songnuan.api.schemas (layer 6 above checks's 5)",
            "2: songnuan.api (layer 6 above checks's 5)",
        ],
    }
