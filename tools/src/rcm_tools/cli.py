"""The `rcm` command: run the local stack, mint tokens for it, verify audit chains and ledgers, drive the demo.

Results go to stdout in short lines; errors go to stderr as one `rcm: error: ...` line with exit code 1
(argparse uses 2 for usage errors). `rcm status` exits 3 when something is not running and ready.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from rich.console import Console

from rcm_collections.entrypoints.ledger_check import verify_ledger_command
from rcm_common.audit import verify_chain_command
from rcm_common.settings import ServiceSettings
from rcm_tools import code_audit, contracts, images, k8s_check, k8s_smoke, practice, scaffold
from rcm_tools.benchmarks import (
    charge_capture,
    claim_submission,
    clearinghouse_sim,
    collections_posting,
    http_load,
    outbox_relay,
    remittance_posting,
    revenue_cycle,
    x12,
)
from rcm_tools.demo import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_VISITS_PER_DAY, DemoPlan, run_demo
from rcm_tools.errors import ToolError
from rcm_tools.reliability import proof
from rcm_tools.stack import (
    DEFAULT_BROKER_PORT,
    READY_TIMEOUT_SECONDS,
    SERVICES,
    STOP_TIMEOUT_SECONDS,
    LocalStack,
    installed_services,
)
from rcm_tools.tokens import ROLES, mint_local_token

EXIT_NOT_READY: Final = 3
REPORT_WIDTH: Final = 140
_DEFAULT_STATE_DIR: Final[Path] = ServiceSettings.model_fields["state_dir"].default

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ToolError as exc:
        print(f"rcm: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state-dir",
        type=Path,
        default=_DEFAULT_STATE_DIR,
        help="where databases, logs, pid files and the dev signing key live (default: %(default)s)",
    )
    parser = argparse.ArgumentParser(prog="rcm", description="Run and drive the RCM platform locally.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", parents=[state], help="start the broker and every installed service")
    up.add_argument("--broker-port", type=_port, default=DEFAULT_BROKER_PORT)
    up.add_argument("--timeout", type=_positive_float, default=READY_TIMEOUT_SECONDS, help="seconds to get ready")
    up.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the services' databases from the last run (by default they start empty, like the broker)",
    )
    up.set_defaults(handler=_up)

    down = commands.add_parser("down", parents=[state], help="stop everything `rcm up` started")
    down.add_argument("--timeout", type=_positive_float, default=STOP_TIMEOUT_SECONDS, help="seconds before SIGKILL")
    down.set_defaults(handler=_down)

    status = commands.add_parser("status", parents=[state], help="one line per process of the stack")
    status.set_defaults(handler=_status)

    token = commands.add_parser("token", parents=[state], help="print a bearer token the local stack accepts")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--subject", help="the token's `sub` (default: local-<role>)")
    token.add_argument("--ttl", type=_positive_int, default=3600, help="lifetime in seconds (default: %(default)s)")
    token.set_defaults(handler=_token)

    audit = commands.add_parser("audit", help="audit log commands")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_commands.add_parser("verify", parents=[state], help="verify a service's audit hash chain")
    target = verify.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url", help="SQLAlchemy async URL of the service's database")
    target.add_argument("--service", choices=[spec.name for spec in SERVICES], help="a local service's SQLite database")
    verify.set_defaults(handler=_audit_verify)

    ledger = commands.add_parser("ledger", help="collections ledger commands")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")
    check = ledger_commands.add_parser(
        "verify", parents=[state], help="verify every account's hash-chained ledger and its invariant"
    )
    check.add_argument("--database-url", help="SQLAlchemy async URL of collections' database (default: the local one)")
    check.set_defaults(handler=_ledger_verify)

    demo = commands.add_parser(
        "demo", parents=[state], help="drive a synthetic practice's revenue cycle through the stack and report it"
    )
    demo.add_argument("--days", type=_positive_int, default=DEFAULT_DAYS, help="working days of visits, up to today")
    demo.add_argument("--visits-per-day", type=_positive_int, default=DEFAULT_VISITS_PER_DAY)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the same seed gives the same practice")
    demo.set_defaults(handler=_demo)
    commands.add_parser(
        "contracts", parents=[contracts.arguments()], help="regenerate contracts/ from the code (--check: report drift)"
    ).set_defaults(handler=contracts.run)
    commands.add_parser(
        "new-service", parents=[scaffold.arguments()], help="scaffold a new service on the kernel"
    ).set_defaults(handler=scaffold.run)
    commands.add_parser(
        "images", parents=[images.arguments()], help="build each service's container image with podman"
    ).set_defaults(handler=images.run)
    commands.add_parser(
        "k8s-check", parents=[k8s_check.arguments()], help="render deploy/ and check it offline: schemas and rules"
    ).set_defaults(handler=k8s_check.run)
    commands.add_parser(
        "k8s-smoke",
        parents=[k8s_smoke.arguments()],
        help="run one service's image as its rendered pod with podman kube play and reach its /readyz",
    ).set_defaults(handler=k8s_smoke.run)
    commands.add_parser(
        "code-audit", parents=[code_audit.arguments()], help="bandit over the code, pip-audit over requirements.lock"
    ).set_defaults(handler=code_audit.run)
    commands.add_parser(
        "prove",
        parents=[proof.arguments()],
        help="claims through the whole cycle under kills, failpoints, a paused broker, duplicates and a faulty "
        "clearinghouse; then every claim, cent, dead letter and replay accounted for (one JSON line)",
    ).set_defaults(handler=proof.run_proof)

    bench = commands.add_parser("bench", help="benchmarks: each prints one JSON line with its baseline")
    benchmarks = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    benchmarks.add_parser(
        "outbox", parents=[outbox_relay.arguments()], help="outbox relay events/s on SQLite and PostgreSQL"
    ).set_defaults(handler=outbox_relay.run_benchmark)
    benchmarks.add_parser(
        "x12", parents=[x12.arguments()], help="835 read vs pyx12 in the same run, and 837P claims/s written"
    ).set_defaults(handler=x12.run_benchmark)
    benchmarks.add_parser(
        "charge", parents=[charge_capture.arguments()], help="encounters captured/s on SQLite and PostgreSQL"
    ).set_defaults(handler=charge_capture.run_benchmark)
    benchmarks.add_parser(
        "claim",
        parents=[claim_submission.arguments()],
        help="ChargesCaptured in to ClaimSubmitted out, claims/s on SQLite and PostgreSQL",
    ).set_defaults(handler=claim_submission.run_benchmark)
    benchmarks.add_parser(
        "remittance",
        parents=[remittance_posting.arguments()],
        help="a 10,000-claim 835 taken in and posted, claim payments/s on SQLite and PostgreSQL",
    ).set_defaults(handler=remittance_posting.run_benchmark)
    benchmarks.add_parser(
        "simulator",
        parents=[clearinghouse_sim.arguments()],
        help="the clearinghouse simulator in process: 837P uploads and 835 payment runs, claims/s beside rcm_x12 alone",
    ).set_defaults(handler=clearinghouse_sim.run_benchmark)
    benchmarks.add_parser(
        "e2e",
        parents=[revenue_cycle.arguments()],
        help="claims/s through the whole cycle on the running stack, stepped, with latency and CPU per process",
    ).set_defaults(handler=revenue_cycle.run_benchmark)
    benchmarks.add_parser(
        "http",
        parents=[http_load.arguments()],
        help="registration and charge capture under 16 concurrent clients: requests/s, latency and CPU",
    ).set_defaults(handler=http_load.run_benchmark)
    benchmarks.add_parser(
        "collections",
        parents=[collections_posting.arguments()],
        help="PaymentPosted in to PatientBalanceChanged out, payments/s on SQLite and PostgreSQL",
    ).set_defaults(handler=collections_posting.run_benchmark)
    return parser


def _up(args: argparse.Namespace) -> int:
    services = installed_services()
    stack = LocalStack(args.state_dir, services)
    stack.up(
        environ=practice.PRACTICE_SETTINGS | dict(os.environ),
        broker_port=args.broker_port,
        ready_timeout=args.timeout,
        keep_data=args.keep_data,
    )
    missing = [spec.name for spec in SERVICES if spec not in services]
    if missing:
        print(f"not installed yet, so not started: {', '.join(missing)}")
    print(f"stack up; logs in {stack.log_dir}; stop it with `rcm down`")
    return 0


def _down(args: argparse.Namespace) -> int:
    LocalStack(args.state_dir, SERVICES).down(timeout=args.timeout)
    return 0


def _status(args: argparse.Namespace) -> int:
    statuses = LocalStack(args.state_dir, installed_services()).status()
    for status in statuses:
        print(status.line())
    return 0 if all(status.ready for status in statuses) else EXIT_NOT_READY


def _token(args: argparse.Namespace) -> int:
    subject = args.subject or f"local-{args.role}"
    print(mint_local_token(args.state_dir, role=args.role, subject=subject, ttl_seconds=args.ttl))
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    database_url: str = args.database_url or _local_database_url(args.state_dir, args.service)
    return asyncio.run(verify_chain_command(database_url))


def _ledger_verify(args: argparse.Namespace) -> int:
    database_url: str = args.database_url or _local_database_url(args.state_dir, "collections")
    return asyncio.run(verify_ledger_command(database_url))


def _local_database_url(state_dir: Path, service: str) -> str:
    """The SQLite file the local stack gives a service; refused if absent, as SQLite would create it empty."""
    database = (state_dir / f"{service}.db").resolve()
    if not database.is_file():
        raise ToolError(f"no database for {service} at {database}; has the stack run?")
    return f"sqlite+aiosqlite:///{database}"


def _demo(args: argparse.Namespace) -> int:
    plan = DemoPlan(args.state_dir, days=args.days, visits_per_day=args.visits_per_day, seed=args.seed)
    # A pipe or a CI log has no width of its own: the report's tables get room enough for their formulas.
    asyncio.run(run_demo(plan, Console() if sys.stdout.isatty() else Console(width=REPORT_WIDTH)))
    return 0


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port")
    return port


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value
