"""ShapesWorld determinism across processes (a notebook runs in one process, so it cannot show this)."""
import hashlib, subprocess, sys

CODE = """
import hashlib
from unified_mllm.data import ShapesWorld, TASKS, doc_bytes
w = ShapesWorld({size}, seed=7)
h = hashlib.sha256()
for t in TASKS:
    for i in {order}:
        h.update(doc_bytes(w.document(t, i)[0]))
print(h.hexdigest())
"""

def digest(size, order):
    return subprocess.run([sys.executable, '-c', CODE.format(size=size, order=order)], capture_output=True, text=True, check=True).stdout.strip()

def test_same_bytes_in_fresh_processes():
    assert digest(32, 'range(30)') == digest(32, 'range(30)')
    assert digest(64, 'range(10)') == digest(64, 'range(10)')

def test_order_does_not_matter():
    # hashing in the same order, after the samples were drawn in another order, gives the same digest
    code = CODE.format(size=32, order='range(30)').replace('h = hashlib.sha256()', 'h = hashlib.sha256()\n[w.document(t, i) for t in TASKS for i in reversed(range(30))]')
    other = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == digest(32, 'range(30)')

def test_seeds_and_counts_are_checked_up_front(tmp_path):
    import pytest, numpy as np
    from unified_mllm.data import ShapesWorld, build_shapesworld, rng_for
    for bad in (-1, 1.5, '3', True, None):
        with pytest.raises(ValueError, match='seed must be an int >= 0'): ShapesWorld(32, seed=bad)
    assert ShapesWorld(32, seed=np.int64(3)).seed == 3
    with pytest.raises(ValueError, match='seed must be an int >= 0'): build_shapesworld(2, seed=-1, cache_dir=tmp_path)
    with pytest.raises(ValueError, match='n must be at least 1 sample per task'): build_shapesworld(0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match='multiple of 4'): build_shapesworld(2, size=30, cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())          # nothing cached for refused settings
    with pytest.raises(ValueError, match='index must be an int >= 0'): rng_for(0, 'scene', -1)
