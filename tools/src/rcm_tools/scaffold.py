"""`rcm new-service NAME --port N`: a new service on the kernel, whose first tests pass untouched.

It writes `services/NAME/` (the package with its settings, unit of work, composition root, app and empty
router; the canvas stub; the first migration, which depends on the platform's; the first tests) and
registers the service where the platform lists its services: the uv workspace (the root and the tools'
dependencies), the local stack's service table (which `make images` builds an image for, from
`deploy/images/Containerfile`), and the contracts tool's OpenAPI documents. The port is given once, here, and
written to the settings (the default every deployment reads) and the stack.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from string import Template
from typing import Final

from rcm_tools.errors import ToolError

_NAME: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

_FILES: Final[dict[str, str]] = {
    "pyproject.toml": """\
[project]
name = "rcm-$name"
version = "0.1.0"
description = "The $name service."
requires-python = ">=3.11"
dependencies = ["rcm-common"]

[project.scripts]
rcm-$name = "$package.entrypoints.app:main"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/$package"]
""",
    "README.md": """\
# The $name service (canvas)

Port $port. Started by `rcm up`; built on the service kernel (`rcm_common.kernel`).

| | |
|---|---|
| Owns | (its tables, its decisions) |
| HTTP API | `/healthz`, `/readyz`, `/metrics`; its own routes in `entrypoints/api.py` |
| Publishes | `$topic` (through the outbox) |
| Consumes | nothing yet: `bootstrap.py` subscribes per topic |
| Datastore | its own database (SQLite by default, `DATABASE_URL` for PostgreSQL); migrations in `migrations/versions` |
| Health | `/readyz`: 200 once the database is at its newest revision; the broker link reported, `degraded` if down |
""",
    "migrations/versions/0001_initial_schema.py": '''\
"""Initial schema of $name: none of its own tables yet; the platform's come with the revision it depends on.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "platform_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
''',
    "src/$package/__init__.py": '"""The $name service."""\n',
    "src/$package/__main__.py": '''\
"""`python -m $package`: serve the $name API with its settings from the environment."""

from $package.entrypoints.app import main

main()
''',
    "src/$package/config.py": '''\
"""$title's settings: the common ones, with this service's name and port."""

from __future__ import annotations

from rcm_common.settings import ServiceSettings


class ${classname}Settings(ServiceSettings):
    service_name: str = "$name"
    http_port: int = $port
''',
    "src/$package/domain/__init__.py": '"""$title\'s domain: plain Python, no I/O and no framework imports."""\n',
    "src/$package/adapters/__init__.py": '"""$title\'s adapters: tables, repositories, clients."""\n',
    "src/$package/adapters/tables.py": '''\
"""$title's tables (SQLModel); the migrations in `migrations/versions` build exactly these."""
''',
    "src/$package/adapters/unit_of_work.py": '''\
"""$title's SQL unit of work: the common transaction; `_start` attaches repositories as they arrive."""

from __future__ import annotations

from rcm_common.uow import SqlUnitOfWork


class Sql${classname}UnitOfWork(SqlUnitOfWork):
    """One transaction with its events, audit records and idempotent response."""
''',
    "src/$package/service_layer/__init__.py": '"""$title\'s handlers of commands and events."""\n',
    "src/$package/service_layer/mapping.py": '''\
"""The one mapper from $name's domain to its contract: the unit of work calls it for each domain event its
aggregates recorded, as each aggregate is stored. Add a case for each domain event as they arrive."""

from __future__ import annotations

from typing import Any

from rcm_common.events.base import IntegrationEvent


def to_integration_event(aggregate: Any, event: Any) -> IntegrationEvent:
    raise TypeError(f"no contract event is mapped for {type(event).__name__} of {type(aggregate).__name__}")
''',
    "src/$package/entrypoints/__init__.py": '"""$title\'s HTTP API and app."""\n',
    "src/$package/entrypoints/api.py": '''\
"""$title's HTTP API: its routes, each behind a bearer token with the scope it needs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
''',
    "src/$package/bootstrap.py": '''\
"""The composition root: every concrete part of $name is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

$bootstrap_imports


@dataclass
class ${classname}(Kernel[${classname}Settings, Sql${classname}UnitOfWork]):
    """The running service: the kernel's parts, and (as they arrive) the service's own."""


def bootstrap(settings: ${classname}Settings | None = None, *, broker: KafkaBroker | None = None) -> ${classname}:
    settings = settings or ${classname}Settings()
    return ${classname}(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=Sql${classname}UnitOfWork,
        publishes=Publication(events_topic("$name"), to_integration_event),
    )
''',
    "src/$package/entrypoints/app.py": '''\
"""The $name service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

$app_imports

${constant}_APP = ServiceApp(
    title="RCM $name",
    description="The $name service.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="$attribute",
)


def create_app(settings: ${classname}Settings | None = None, *, service: ${classname} | None = None) -> FastAPI:
    return service_app(service or bootstrap(settings), ${constant}_APP)


def main() -> None:
    run_service(create_app, ${classname}Settings)
''',
    "tests/integration/test_${attribute}_app.py": '''\
"""$title runs on the kernel: its migrations build the platform tables and downgrade to nothing, and the
app starts over its database, answers its health checks and says it is not ready without a broker."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

$test_imports


async def test_migrations_build_the_platform_tables_and_downgrade_to_nothing(database_url: str, tmp_path: Path) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / '$name.db'}"
    await check_migrations(${constant}_APP.migrations, url, PLATFORM_TABLE_NAMES)


async def test_the_app_starts_and_answers_its_health_checks(
    database_url: str, signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    settings = ${classname}Settings(
        environment="test",
        state_dir=tmp_path,
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        jwt_public_key=SecretStr(signing_keys[1]),
    )
    async with serving(create_app(settings), "http://$name.test") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "unreachable"}
''',
}


def scaffold(root: Path, name: str, port: int) -> list[Path]:
    """Write the new service under `root` and register it; the files written or changed."""
    if not _NAME.fullmatch(name):
        raise ToolError(f"{name!r} is not a service name: lowercase letters and digits, words joined by '-'")
    if not 1024 <= port <= 65535:
        raise ToolError(f"port {port} is outside 1024-65535")
    service_dir = root / "services" / name
    if service_dir.exists():
        raise ToolError(f"services/{name} exists already")
    package = f"rcm_{name.replace('-', '_')}"
    words = name.split("-")
    values = {
        "name": name,
        "package": package,
        "port": str(port),
        "title": " ".join(words).capitalize(),
        "classname": "".join(word.capitalize() for word in words),
        "constant": "_".join(words).upper(),
        "attribute": "_".join(words),
        "topic": f"rcm.{name}.events",
    }
    values |= _first_party_imports(values)
    _refuse_taken_port(root, port)
    written = []
    for template_path, template in _FILES.items():
        target = service_dir / Template(template_path).substitute(values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(template).substitute(values), encoding="utf-8")
        written.append(target)
    written += _register(root, values)
    return written


def _first_party_imports(values: dict[str, str]) -> dict[str, str]:
    """The import blocks that name the new package beside rcm_common, in the order isort keeps them (which
    depends on the package's name)."""
    package, classname, constant = values["package"], values["classname"], values["constant"]
    blocks = {
        "bootstrap_imports": [
            f"from {package}.adapters.unit_of_work import Sql{classname}UnitOfWork",
            f"from {package}.config import {classname}Settings",
            f"from {package}.service_layer.mapping import to_integration_event",
            "from rcm_common.kernel import Kernel, kernel_parts",
            "from rcm_common.topics import events_topic",
            "from rcm_common.uow import Publication",
        ],
        "app_imports": [
            f"from {package}.bootstrap import {classname}, bootstrap",
            f"from {package}.config import {classname}Settings",
            f"from {package}.entrypoints.api import router",
            "from rcm_common.kernel import ServiceApp, run_service, service_app",
        ],
        "test_imports": [
            f"from {package}.config import {classname}Settings",
            f"from {package}.entrypoints.app import {constant}_APP, create_app",
            "from rcm_common.migrations import PLATFORM_TABLE_NAMES",
            "from rcm_common.testing import check_migrations, serving",
        ],
    }
    return {key: "\n".join(sorted(lines, key=lambda line: line.split()[1])) for key, lines in blocks.items()}


def _refuse_taken_port(root: Path, port: int) -> None:
    for config in (root / "services").glob("*/src/*/config.py"):
        if re.search(rf"http_port: int = {port}\b", config.read_text(encoding="utf-8")):
            raise ToolError(f"port {port} is taken by {config.relative_to(root)}")


def _register(root: Path, values: dict[str, str]) -> list[Path]:
    """Add the service to the workspace, the tools' dependencies, the stack and the contracts tool."""
    name, package, classname = values["name"], values["package"], values["classname"]
    edits = {
        root / "pyproject.toml": [
            (r'(dependencies = \[\n(?:    "[^"]+",\n)*)', rf'\1    "rcm-{name}",\n'),
            (r"(\[tool\.uv\.sources\]\n(?:[^\n]+\n)*)", rf"\1rcm-{name} = {{ workspace = true }}\n"),
        ],
        root / "tools" / "pyproject.toml": [(r'(dependencies = \[\n(?:    "[^"]+",\n)*)', rf'\1    "rcm-{name}",\n')],
        root / "tools" / "src" / "rcm_tools" / "contracts.py": [
            (
                r"(OPENAPI_DOCUMENTS: Final\[[^\n]+\] = \{\n(?:    [^\n]*\n)*?)(\})",
                rf'\1    "{name}": partial(_openapi, "{package}.entrypoints.app", '
                rf'"{package}.config.{classname}Settings"),\n\2',
            )
        ],
    }
    stack = root / "tools" / "src" / "rcm_tools" / "stack.py"
    stack_text = stack.read_text(encoding="utf-8")
    listed = re.search(rf'ServiceSpec\("{name}", "{package}", (\d+)\)', stack_text)
    if listed is None:
        edits[stack] = [
            (
                r"(SERVICES: Final = \(\n(?:    [^\n]*\n)*?)(\))",
                rf'\1    ServiceSpec("{name}", "{package}", {values["port"]}),\n\2',
            )
        ]
    elif listed.group(1) != values["port"]:
        edits[stack] = [(re.escape(listed.group(0)), f'ServiceSpec("{name}", "{package}", {values["port"]})')]
    changed = []
    for path, substitutions in edits.items():
        text = path.read_text(encoding="utf-8")
        for pattern, replacement in substitutions:
            text, count = re.subn(pattern, replacement, text, count=1)
            if count != 1:
                raise ToolError(f"could not register {name} in {path.relative_to(root)}: its layout changed")
        path.write_text(text, encoding="utf-8")
        changed.append(path)
    return changed


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("name", help="the service's name, e.g. claim (package rcm_claim)")
    parser.add_argument("--port", type=int, required=True, help="its HTTP port, written once for all that needs it")
    parser.add_argument("--root", type=Path, default=Path(), help="the repository root (default: here)")
    return parser


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if not (root / "pyproject.toml").is_file() or not (root / "services").is_dir():
        raise ToolError(f"{root.resolve()} is not the repository root; run from there or pass --root")
    for path in scaffold(root, args.name, args.port):
        print(path.relative_to(root))
    print(f"services/{args.name} is ready: run `make lock && make test`, then fill in its canvas")
    return 0
