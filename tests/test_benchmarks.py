"""The benchmark scripts run on their defaults' code path (one short step each), so they cannot rot unnoticed.
They print speeds; nothing here times anything."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _run(script, *args):
    r = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / script), *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout

def test_train_step_runs():
    out = _run('train_step.py', '--steps', '1', '--precision', 'fp32', '--image')
    assert 'ms/step' in out and 'matmul peak' in out

def test_generate_runs():
    out = _run('generate.py', '--tokens', '4', '--steps', '2', '--repeats', '1')
    assert 'tokens/s' in out and 'per image' in out

def test_train_variants_runs():
    out = _run('train_variants.py', '--steps', '1', '--batch', '6', '--micro', '2', '--threads', '1')
    for what in ('decoder per micro-batch', 'one decoder call', 'eager attention', 'bf16 autocast', 'made images in 1 call', 'fastest'):
        assert what in out, (what, out)
