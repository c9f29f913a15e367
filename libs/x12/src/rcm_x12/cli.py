"""`rcm-x12`: look at X12 files from the command line.

    rcm-x12 inspect FILE [--json]   the envelope, and the figures of every kind SUMMARIES knows
    rcm-x12 validate FILE           envelope and structure problems; exit 1 when there are any
    rcm-x12 corpus [--root DIR]     what the codec makes of the shared corpus, per kind

Any failure is one line on stderr and exit 1 (2 for a usage error), never a traceback: the messages name
segments and positions, and an unexpected error only its type, so nothing from the file (PHI) is echoed.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rcm_x12 import structure
from rcm_x12.corpus import default_root, manifest
from rcm_x12.errors import UnsupportedVersion, X12Error
from rcm_x12.reader import Interchange, read
from rcm_x12.summaries import SUMMARIES

_PROGRAM = "rcm-x12"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        result: int = arguments.command(arguments)
    except X12Error as exc:
        return _fail(str(exc))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return _fail(f"{exc.filename}: {reason}" if exc.filename else reason)
    except Exception as exc:
        return _fail(f"unexpected {type(exc).__name__}")
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=_PROGRAM, description="Inspect and validate X12 5010 files.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    inspect = commands.add_parser("inspect", help="summarise a file: envelope, and figures per transaction set")
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
    inspect.set_defaults(command=_inspect)
    validate = commands.add_parser("validate", help="check a file's envelope and structure; exit 1 on any problem")
    validate.add_argument("file", type=Path)
    validate.set_defaults(command=_validate)
    corpus = commands.add_parser("corpus", help="read every file of the shared corpus and count the outcomes")
    corpus.add_argument("--root", type=Path, default=None, help="the corpus folder (default: shared/x12-corpus)")
    corpus.set_defaults(command=_corpus)
    return parser


def _fail(message: str) -> int:
    print(f"{_PROGRAM}: {' '.join(message.split())}", file=sys.stderr)
    return 1


def _inspect(arguments: argparse.Namespace) -> int:
    report = _report(read(arguments.file.read_bytes()))
    if arguments.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(_text(report, "")))
    return 0


def _report(interchanges: list[Interchange]) -> dict[str, Any]:
    """The report `inspect` prints: the file's kind, each interchange's envelope, and each transaction
    set with what its kind's summariser adds."""
    transactions = []
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                entry: dict[str, Any] = {
                    "kind": transaction.set_id,
                    "control_number": transaction.control_number,
                    "implementation": transaction.implementation or group.version,
                    "interchange": interchange.control_number,
                    "group": group.control_number,
                    "position": transaction.position,
                    "segments": len(transaction.segments),
                }
                summary = SUMMARIES.get(transaction.set_id)
                if summary is not None:
                    entry.update(summary(transaction, interchange))
                transactions.append(entry)
    return {
        "kind": "+".join(sorted({t["kind"] for t in transactions})) or "none",
        "interchanges": [_envelope(interchange) for interchange in interchanges],
        "transactions": transactions,
    }


def _envelope(interchange: Interchange) -> dict[str, Any]:
    return {
        "control_number": interchange.control_number,
        "sender": f"{interchange.sender_qualifier}:{interchange.sender}",
        "receiver": f"{interchange.receiver_qualifier}:{interchange.receiver}",
        "date": interchange.date,
        "time": interchange.time,
        "version": interchange.version,
        "usage": {"P": "production", "T": "test"}.get(interchange.usage, interchange.usage),
        "acknowledgment_requested": interchange.acknowledgment_requested,
        "groups": [
            {
                "functional_id": group.functional_id,
                "control_number": group.control_number,
                "sender": group.sender,
                "receiver": group.receiver,
                "version": group.version,
                "transactions": len(group.transactions),
            }
            for group in interchange.groups
        ],
        "findings": list(interchange.findings),
    }


def _text(mapping: dict[str, Any], indent: str) -> Iterator[str]:
    """A report as indented text: one `key: value` a line; a list of flat records one record a line."""
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield f"{indent}{key}:"
            yield from _text(value, indent + "  ")
        elif isinstance(value, list) and value:
            yield f"{indent}{key}:"
            for item in value:
                yield from _text_item(item, indent + "  ")
        else:
            yield f"{indent}{key}: {_scalar(value)}"


def _text_item(item: Any, indent: str) -> Iterator[str]:
    if not isinstance(item, dict):
        yield f"{indent}- {_scalar(item)}"
    elif any(isinstance(value, dict | list) and value for value in item.values()):
        lines = list(_text(item, indent + "  "))
        yield f"{indent}- {lines[0].lstrip()}"
        yield from lines[1:]
    else:
        yield f"{indent}- " + ", ".join(f"{key}: {_scalar(value)}" for key, value in item.items())


def _scalar(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _validate(arguments: argparse.Namespace) -> int:
    """Envelope findings and structure problems one a line, then notes on what was not checked."""
    interchanges = read(arguments.file.read_bytes())
    validation = structure.validate(interchanges)
    for line in (*validation.problems, *validation.notes):
        print(line)
    if validation.ok:
        print(f"no problems in {len(interchanges)} interchange(s)")
    return 0 if validation.ok else 1


def _corpus(arguments: argparse.Namespace) -> int:
    root: Path = arguments.root or default_root()
    outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for entry in manifest(root):
        outcomes[entry.kind][_outcome(root / entry.path)] += 1
    columns = ("read", "refused (version)", "refused (unreadable)")
    print(f"{'kind':<14} {'files':>5}  " + "  ".join(columns))
    for kind in sorted(outcomes):
        counts = outcomes[kind]
        figures = "  ".join(f"{counts[column]:>{len(column)}}" for column in columns)
        print(f"{kind:<14} {counts.total():>5}  {figures}")
    totals = sum(outcomes.values(), collections.Counter[str]())
    figures = "  ".join(f"{totals[column]:>{len(column)}}" for column in columns)
    print(f"{'total':<14} {totals.total():>5}  {figures}")
    return 0


def _outcome(path: Path) -> str:
    """Whether the file is read: its envelope, then every transaction set a typed reader knows."""
    try:
        interchanges = read(path.read_bytes())
        for interchange in interchanges:
            for group in interchange.groups:
                for transaction in group.transactions:
                    summary = SUMMARIES.get(transaction.set_id)
                    if summary is not None:
                        summary(transaction, interchange)
    except UnsupportedVersion:
        return "refused (version)"
    except X12Error:
        return "refused (unreadable)"
    return "read"
