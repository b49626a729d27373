"""The apps depend one way (api → notifications → accounts → incidents) and no two modules import each other in a
circle.

Read from the source (every project module's AST), so a new import anywhere is checked without running it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# From the base up: each app may import those before it, never those after it. incidents (the domain) imports
# no other app; accounts (users, roles, API keys) may use it, and asks nothing of notifications or api.
LAYERS = ["incidents", "accounts", "notifications", "api"]
APPS = [*LAYERS, "statuspage"]
# Who may not import whom, anywhere in a module (also inside functions): the lower layer never imports up.
FORBIDDEN = {app: set(LAYERS[i + 1 :]) for i, app in enumerate(LAYERS)}
# Imports that break the rule in a file another change owns right now; each must still exist (drop it when fixed).
KNOWN: set[tuple[str, str]] = set()


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported project module, at module level?) for each import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top_level.add(id(node))
        elif isinstance(node, (ast.If, ast.Try)):
            # `if TYPE_CHECKING:` imports never run; try/except imports do.
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            top_level.update(id(n) for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))
    package = name if _is_package(path) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` imports the module a.b when there is one, else names of a.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append((target, id(node) in top_level))
    return found


def graph():
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (an iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def test_no_import_cycle_between_modules():
    edges = {name: {target for target, top in imports if top} for name, imports in graph().items()}
    assert find_cycle(edges) is None, " → ".join(find_cycle(edges))


def test_no_upward_import_between_apps():
    upward = set()
    for name, imports in graph().items():
        app = name.split(".")[0]
        for target, _ in imports:
            if target.split(".")[0] in FORBIDDEN.get(app, ()):
                upward.add((name, target))
    assert upward - KNOWN == set(), sorted(upward - KNOWN)
    assert upward >= KNOWN, f"fixed: drop {sorted(KNOWN - upward)} from KNOWN"


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The checks themselves can fail: a made-up cycle is found, and so is incidents importing notifications."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    modules = project_modules()
    tree_imports = imports_of("incidents.services.incidents", modules["incidents.services.incidents"], modules)
    assert ("incidents.services.pages", True) in tree_imports
    assert FORBIDDEN["incidents"] == {"accounts", "notifications", "api"}
    assert FORBIDDEN["accounts"] == {"notifications", "api"}


def test_notifications_hears_of_each_update_through_the_hook_in_the_same_transaction(page):
    """incidents announces a posted update; the outbox row is written inside the post's transaction."""
    from django.db import transaction

    from incidents import events, services
    from notifications.models import Notification
    from notifications.services import maintenance_reminder, notification_for_update

    assert notification_for_update in events.update_posted._receivers
    assert maintenance_reminder in events.maintenance_reminder_due._receivers
    incident = services.incident_create(page=page, name="Outage", body="Looking.")
    assert Notification.objects.filter(update__incident=incident).count() == 1

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            services.incident_post_update(incident=incident, body="More.")
            assert Notification.objects.filter(update__incident=incident).count() == 2
            raise Rollback
    except Rollback:
        pass
    assert Notification.objects.filter(update__incident=incident).count() == 1
