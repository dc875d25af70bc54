import os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Tests and the notebooks they run share one cache of trained toy models (judge, encoder...) so each is
# trained once per run; a fresh folder per session keeps runs independent of what a user cached.
os.environ.setdefault('UNIFIED_MLLM_CACHE', str(ROOT / '.cache' / 'test'))

# `pytest` runs on two workers (pytest-xdist, `-n 2` in pyproject.toml) on a two-core machine: one torch thread each,
# inherited by the notebooks and scripts they start, so the two never fight over the cores.
if os.environ.get('PYTEST_XDIST_WORKER'):
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
