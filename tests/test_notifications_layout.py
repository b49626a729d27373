"""notifications.services and notifications.tasks do not import each other: services never reach into the
tasks (tasks may use services), and both hand ids to the broker through notifications.enqueue, which
imports neither."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(module: str) -> set[str]:
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    names = set()
    for node in ast.walk(tree):  # function-level imports count too
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize(
    ("module", "never"),
    [
        ("notifications.services", "notifications.tasks"),
        ("notifications.enqueue", "notifications.tasks"),
        ("notifications.enqueue", "notifications.services"),
    ],
)
def test_the_outbox_modules_import_one_way(module, never):
    assert not any(name == never or name.startswith(never + ".") for name in imported_modules(module))
