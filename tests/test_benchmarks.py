"""The benchmark suite runs end to end on a small N (its timings are never asserted)."""
import subprocess
import sys
from pathlib import Path

from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import synth  # noqa: E402


def test_synthetic_people_have_valid_ids_and_real_regions():
    rows = list(synth.yidi_rows(200, seed=3))
    ids = [row[synth.YIDI_COLUMNS.index("身份证件号码")] for row in rows]
    assert all(ric.is_valid(number) for number in ids)
    assert all(ric.get_birth_place(number)["county"] for number in ids)
    assert len(set(ids)) == len(ids)
    assert rows == list(synth.yidi_rows(200, seed=3))  # seeded: repeatable


def test_roster_rows_keep_one_unit_per_block():
    rows = list(synth.roster_rows(10, per_unit=4))
    units = [row[0] for row in rows]
    assert units[0] == units[3] != units[4] == units[7] != units[8]


def test_quick_run_writes_the_table_and_the_machine(tmp_path):
    results = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--no-build",
                           "--results", str(results), "--scratch", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    text = results.read_text(encoding="utf-8")
    for measure in ("表7 → DOCX", "表7 → PDF", "表2 roster → XLSX", "peak memory", "--jobs 2"):
        assert measure in text
    assert "same text: yes" in text  # formgen's Word output reads like docxtpl's
    assert "- CPU:" in text and "- Python 3." in text and "docxtpl" in text
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # scratch outputs removed
