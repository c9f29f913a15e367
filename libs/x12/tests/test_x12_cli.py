"""`rcm-x12`: inspect (text and JSON), validate, corpus; and one line on stderr, never a traceback, for
anything it cannot read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rcm_x12.cli import main
from rcm_x12.corpus import default_root
from rcm_x12.summaries import SUMMARIES

CORPUS = default_root()
BALANCED = CORPUS / "oxedi/crates/oxedi_core/tests/fixtures/balanced_5010_sample.txt"
OLD_835 = CORPUS / "TigerShark/tests/835-example.txt"
GARBAGE = bytes(range(256)) * 4


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_json_on_an_835_has_the_figures_as_strings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inspect", BALANCED, "--json")
    report = json.loads(out)

    assert (code, err) == (0, "")
    assert report["kind"] == "835"
    assert report["interchanges"][0]["control_number"] == "000000101"
    [transaction] = report["transactions"]
    assert (transaction["kind"], transaction["trace_number"], transaction["total_paid"]) == (
        "835",
        "CHK100234",
        "690.00",
    )
    first = transaction["claims"][0]
    assert {k: first[k] for k in ("claim_id", "status", "charge", "paid", "patient_responsibility")} == {
        "claim_id": "CLM1001",
        "status": "1",
        "charge": "300.00",
        "paid": "200.00",
        "patient_responsibility": "60.00",
    }
    assert transaction["claims"][1]["adjustments"] == [{"group": "OA", "reason": "23", "amount": "50.00"}]
    assert transaction["provider_adjustments"][1] == {
        "provider_id": "1234567893",
        "fiscal_period_date": "2024-12-31",
        "reason": "L6",
        "reference": "INTEREST01",
        "amount": "-5.00",
    }
    assert transaction["balance_problems"] == []


def test_inspect_json_holds_no_patient_names_or_member_ids(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "inspect", BALANCED, "--json")

    for phi in ("DOE", "JANE", "MBR0001"):
        assert phi not in out


def test_inspect_text_shows_the_envelope_and_each_claims_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", BALANCED)

    assert code == 0
    assert out.startswith("kind: 835\n")
    assert "    sender: ZZ:ACMEPAYER\n" in out
    assert "    usage: test\n" in out
    assert "    total_paid: 690.00\n" in out
    assert "      - claim_id: CLM2002\n        status: 4\n        status_meaning: denied\n" in out
    assert "          - group: CO, reason: 45, amount: 100.00\n" in out


def test_inspect_shows_kinds_without_a_summariser_by_their_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "LinuxForHealth-x12/demo-file/demo.837"
    code, out, _ = run(capsys, "inspect", path, "--json")
    report = json.loads(out)

    assert code == 0
    assert report["kind"] == "837"
    assert report["transactions"][0]["implementation"] == "005010X222A2"


def test_inspect_refuses_004010_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inspect", OLD_835)

    assert (code, out) == (1, "")
    assert err.startswith("rcm-x12: ")
    assert "004010" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["inspect", "validate"])
def test_garbage_is_refused_without_a_traceback(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(GARBAGE)
    code, out, err = run(capsys, command, path)

    assert (code, out) == (1, "")
    assert err.startswith("rcm-x12: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inspect", tmp_path / "absent.835")

    assert code == 1
    assert err == f"rcm-x12: {tmp_path / 'absent.835'}: No such file or directory\n"


def test_an_unexpected_error_shows_its_type_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object) -> dict[str, object]:
        raise RuntimeError("JANE DOE MBR0001")

    monkeypatch.setitem(SUMMARIES, "835", broken)
    code, _, err = run(capsys, "inspect", BALANCED)

    assert (code, err) == (1, "rcm-x12: unexpected RuntimeError\n")


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["inspect"])

    assert caught.value.code == 2
    assert "usage: rcm-x12" in capsys.readouterr().err


def test_validate_a_clean_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", BALANCED)

    assert (code, out) == (0, "no problems in 1 interchange(s)\n")


def test_validate_prints_each_envelope_finding_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "miscounted.835"
    path.write_bytes(BALANCED.read_bytes().replace(b"SE*58*0001", b"SE*57*0001").replace(b"GE*1*101", b"GE*1*102"))
    code, out, _ = run(capsys, "validate", path)

    assert code == 1
    assert out.splitlines() == [
        "envelope: SE at position 60 counts 57 segments, found 58",
        "envelope: GE at position 61: control number does not match GS06",
    ]


def test_validate_reports_the_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no-trace.835"
    path.write_bytes(BALANCED.read_bytes().replace(b"TRN*1*CHK100234*1512345678~\n", b"").replace(b"SE*58", b"SE*57"))
    code, out, _ = run(capsys, "validate", path)

    assert code == 1
    assert out.strip()
    assert not any(line.startswith("envelope:") for line in out.splitlines())
    assert "TRN" in out


def test_validate_flags_the_corpus_error_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", CORPUS / "badX12/tests/files/errors/error_validation.edi")

    assert code == 1
    assert {
        "envelope: SE at position 29 counts 30 segments, found 27",
        "envelope: GE at position 30: control number does not match GS06",
        "envelope: IEA at position 31 counts 2 functional groups, found 1",
    } <= set(out.splitlines())


def test_corpus_prints_a_table_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "corpus", "--root", CORPUS)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}

    assert code == 0
    assert out.splitlines()[0] == "kind           files  read  refused (version)  refused (unreadable)"
    assert rows["835"] == ["31", "20", "10", "1"]
    assert rows["total"][0] == "286"
    assert sum(int(figure) for figure in rows["total"][1:]) == 286


def test_corpus_without_a_manifest_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "corpus", "--root", tmp_path)

    assert code == 1
    assert err == f"rcm-x12: {tmp_path / 'MANIFEST.md'}: No such file or directory\n"


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(GARBAGE)
    script = Path(sys.executable).parent / "rcm-x12"
    result = subprocess.run([script, "inspect", path], capture_output=True, text=True, check=False)

    assert result.returncode == 1
    assert result.stderr.startswith("rcm-x12: ")
    assert "Traceback" not in result.stderr
