"""Run every chapter notebook and tutorial through nbdev's test runner (cells flagged `slow` are skipped),
each in its own process, so CI counts them as tests."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / 'nbs').glob('[0-9]*.ipynb')) + [ROOT / 'nbs' / 'index.ipynb'] + sorted((ROOT / 'tutorials').glob('*.ipynb'))

RUN = """
import sys
from pathlib import Path
import nbdev
from nbdev.test import test_nb
nbdev.nbdev_export = lambda *a, **k: None   # a chapter's closing export cell must not rewrite the library under a running suite
ok, secs = test_nb(Path(sys.argv[1]), skip_flags=['slow'])
print(f'{sys.argv[1]}: {"ok" if ok else "FAILED"} in {secs:.1f}s')
sys.exit(0 if ok else 1)
"""

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_notebook(nb):
    r = subprocess.run([sys.executable, '-c', RUN, str(nb)], capture_output=True, text=True, env=os.environ.copy())
    print(r.stdout[-2000:])
    assert r.returncode == 0, f'{nb.name} failed:\n{r.stderr[-6000:]}'
