"""`rcm new-service` writes a service on the kernel whose first tests pass untouched, registers it where the
platform lists its services, and refuses a bad name, a taken port or an existing folder, writing nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rcm_tools.errors import ToolError
from rcm_tools.scaffold import scaffold

REPOSITORY = Path(__file__).resolve().parents[2]
REGISTRIES = (
    "pyproject.toml",
    "tools/pyproject.toml",
    "tools/src/rcm_tools/stack.py",
    "tools/src/rcm_tools/contracts.py",
)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The files `rcm new-service` reads and edits, copied from this repository, with the services' settings."""
    for relative in REGISTRIES:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPOSITORY / relative, tmp_path / relative)
    for config in REPOSITORY.glob("services/*/src/*/config.py"):
        target = tmp_path / config.relative_to(REPOSITORY)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(config, target)
    return tmp_path


def test_a_new_service_is_registered_with_its_port_in_each_place(repository: Path) -> None:
    written = scaffold(repository, "prior-auth", 8044)

    service = repository / "services" / "prior-auth"
    assert service / "src" / "rcm_prior_auth" / "bootstrap.py" in written
    assert "http_port: int = 8044" in (service / "src" / "rcm_prior_auth" / "config.py").read_text()
    assert not (service / "Dockerfile").exists()  # the image comes from deploy/images/Containerfile
    assert (
        'depends_on: str | Sequence[str] | None = "platform_0001"'
        in (service / "migrations" / "versions" / "0001_initial_schema.py").read_text()
    )
    assert '    "rcm-prior-auth",\n' in (repository / "pyproject.toml").read_text()
    assert "rcm-prior-auth = { workspace = true }" in (repository / "pyproject.toml").read_text()
    assert '    "rcm-prior-auth",\n' in (repository / "tools" / "pyproject.toml").read_text()
    assert (
        'ServiceSpec("prior-auth", "rcm_prior_auth", 8044)'
        in (repository / "tools" / "src" / "rcm_tools" / "stack.py").read_text()
    )
    assert '"rcm_prior_auth.config.Prior' in (repository / "tools" / "src" / "rcm_tools" / "contracts.py").read_text()


def test_a_service_the_stack_already_lists_takes_the_port_given(repository: Path) -> None:
    stack_py = repository / "tools" / "src" / "rcm_tools" / "stack.py"
    clearinghouse = "    ServiceSpec(CLEARINGHOUSE,"
    listed = '    ServiceSpec("insights", "rcm_insights", 8008),\n'
    stack_py.write_text(stack_py.read_text().replace(clearinghouse, listed + clearinghouse))

    scaffold(repository, "insights", 8017)

    stack = stack_py.read_text()
    assert 'ServiceSpec("insights", "rcm_insights", 8017)' in stack
    assert stack.count('ServiceSpec("insights"') == 1


@pytest.mark.parametrize(
    ("name", "port", "reason"),
    [
        ("Claim", 8044, "is not a service name"),
        ("claim_", 8044, "is not a service name"),
        ("charge", 8044, "exists already"),
        ("claims", 8003, "port 8003 is taken"),
        ("claims", 80, "outside 1024-65535"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(repository: Path, name: str, port: int, reason: str) -> None:
    (repository / "services" / "charge").mkdir(exist_ok=True)
    before = {path: path.read_bytes() for path in repository.rglob("*") if path.is_file()}

    with pytest.raises(ToolError, match=reason):
        scaffold(repository, name, port)

    assert {path: path.read_bytes() for path in repository.rglob("*") if path.is_file()} == before


def test_the_new_service_is_lint_clean_and_its_first_tests_pass_untouched(repository: Path) -> None:
    scaffold(repository, "prior-auth", 8044)
    service = repository / "services" / "prior-auth"
    bin_dir = Path(sys.executable).parent

    lint = subprocess.run([bin_dir / "ruff", "check", "--config", REPOSITORY / "pyproject.toml", service], check=False)
    formatted = subprocess.run(
        [bin_dir / "ruff", "format", "--check", "--config", REPOSITORY / "pyproject.toml", service], check=False
    )
    assert (lint.returncode, formatted.returncode) == (0, 0)

    environment = os.environ | {"PYTHONPATH": str(service / "src")}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", REPOSITORY / "pyproject.toml",
         "--rootdir", repository, service / "tests"],
        env=environment, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
    assert " failed" not in tests.stdout
