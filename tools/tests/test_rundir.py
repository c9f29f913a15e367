"""Pid-file bookkeeping: one pid file and one port file per process, garbage discarded."""

from __future__ import annotations

from pathlib import Path

from rcm_tools.rundir import ProcessRecord, RunDirectory


def test_records_round_trip_and_are_forgotten(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    run.record("registration", 4321, 8001)
    run.record("broker", 1234, 9092)

    assert run.pid_file("broker").read_text() == "1234\n"
    assert run.records() == [ProcessRecord("broker", 1234, 9092), ProcessRecord("registration", 4321, 8001)]

    run.forget("broker")

    assert run.records() == [ProcessRecord("registration", 4321, 8001)]
    assert sorted(p.name for p in run.path.iterdir()) == ["registration.pid", "registration.port"]


def test_an_unreadable_record_is_discarded(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path)
    run.pid_file("broker").write_text("not a pid\n")
    run.port_file("broker").write_text("9092\n")
    run.pid_file("registration").write_text("4321\n")  # its port file is missing

    assert run.records() == []
    assert list(tmp_path.iterdir()) == []


def test_an_empty_or_missing_directory_has_no_records(tmp_path: Path) -> None:
    assert RunDirectory(tmp_path / "never-created").records() == []
    assert RunDirectory(tmp_path).read("broker") is None
