"""The benchmark scripts still run (tiny sizes, a few repetitions; no timing is checked)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_bench_recurrent_quick(tmp_path):
    pytest.importorskip("torch")
    output = tmp_path / "recurrent.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_recurrent.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    for case in ("training", "inference", "sampling"):
        for cell in ("RNN", "LSTM", "GRU"):
            assert f"| {case} | {cell} |" in text, f"no {case} row for {cell}"
    assert "ratio, CPU time" in text and "thread(s) for every contestant" in text
