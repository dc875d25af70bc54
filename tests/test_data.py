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
