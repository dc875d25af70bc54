import os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Tests and the notebooks they run share one cache of trained toy models (judge, encoder...) so each is
# trained once per run; a fresh folder per session keeps runs independent of what a user cached.
os.environ.setdefault('UNIFIED_MLLM_CACHE', str(ROOT / '.cache' / 'test'))
