"""The lazy public API: every exported name resolves at runtime, and type checkers see the real signatures.

``rank_widget`` and ``rank_widget.quality`` import their names lazily through a module ``__getattr__``, which
hides every signature from mypy, pyright and editors; an ``if TYPE_CHECKING:`` block imports the same names
for them. These tests keep the lazy map and that block in step and prove the types reach a user's code.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import rank_widget
import rank_widget.quality

PACKAGES = [rank_widget, rank_widget.quality]


def lazy_names(module: ModuleType) -> set[str]:
    """What the module's ``__getattr__`` serves: the exports plus the lazily imported submodules."""
    names = set(vars(module)["_EXPORTS"])
    names |= set(vars(module).get("_SUBMODULES", ()))
    if module is rank_widget.quality:
        names.add("plots")  # served by a branch of its own in quality.__getattr__
    return names


def type_checking_names(module: ModuleType) -> set[str]:
    """The names bound inside the module's ``if TYPE_CHECKING:`` block, read from its source."""
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, f"{module.__name__}: expected one `if TYPE_CHECKING:` block"
    names: set[str] = set()
    for stmt in blocks[0].body:
        assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
        for alias in stmt.names:
            # `X as X` is the explicit re-export form that pyright and mypy --strict honour.
            assert alias.asname == alias.name, f"{module.__name__}: write `{alias.name} as {alias.name}`"
            names.add(alias.name)
    return names


@pytest.mark.parametrize("module", PACKAGES, ids=lambda m: m.__name__)
def test_every_public_name_resolves_at_runtime(module: ModuleType) -> None:
    names = lazy_names(module) | set(module.__all__)
    assert names
    for name in sorted(names):
        value = getattr(module, name)
        assert value is not None, name
        if isinstance(value, ModuleType):
            assert value is importlib.import_module(f"{module.__name__}.{name}")
        elif name in vars(module)["_EXPORTS"]:
            # Served from the module that defines it, not a copy.
            home = importlib.import_module(f"{module.__name__}.{vars(module)['_EXPORTS'][name]}")
            assert value is getattr(home, name), name


@pytest.mark.parametrize("module", PACKAGES, ids=lambda m: m.__name__)
def test_type_checking_block_lists_the_lazy_names(module: ModuleType) -> None:
    assert type_checking_names(module) == lazy_names(module)
    # and each name comes from the module the lazy map names
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    exports = vars(module)["_EXPORTS"]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is not None:
            for alias in node.names:
                assert exports[alias.name] == node.module, f"{alias.name} imported from .{node.module}"


def test_type_checkers_see_the_real_signatures(tmp_path: Path) -> None:
    user = tmp_path / "user_code.py"
    user.write_text(
        textwrap.dedent(
            """\
            import rank_widget as rw
            from rank_widget import quality

            ok: float = quality.cohen_kappa(["a", "b"], ["a", "a"], weights="linear")
            rw.load_items("items.jsonl", format=1)
            quality.cohen_kappa(["a"], ["b"], weights="cubic")
            name: str = quality.fleiss_kappa([[1, 2]])
            rw.RankWidget([], annotator="ann", scale="five")
            """
        ),
        encoding="utf-8",
    )
    # Only the user's file is reported on. rank_widget is read (silently) from wherever it is imported from: a
    # source tree goes on MYPYPATH, an installed wheel (CI's oldest-versions layer) is found by its py.typed.
    # Third-party packages are skipped (taken as Any): following pandas-stubs and numpy takes 4x as long.
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nfollow_imports = skip\nignore_missing_imports = true\n"
        "[mypy-rank_widget.*]\nfollow_imports = silent\n",
        encoding="utf-8",
    )
    src = Path(rank_widget.__file__).parent.parent
    env = dict(os.environ)
    if src.name != "site-packages":  # mypy refuses site-packages on MYPYPATH
        env["MYPYPATH"] = str(src)
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache")]
    cmd += ["--no-error-summary", "--no-color-output", str(user)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    errors = {int(line.split(":")[1]) for line in out.stdout.splitlines() if ": error:" in line}
    # line 4 is correct use; 5-8 each misuse one signature
    assert errors == {5, 6, 7, 8}, out.stdout + out.stderr
