"""The foundation parts as a user meets them: `unified-mllm pretrain` from a shell, bad arguments, and the shipped weights
inside the built package (chapter 19_foundation has the library's own tests)."""
import json, shutil, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTS = ['encoder', 'judge', 'decoder', 'scale-decoders']

def run(*args):
    return subprocess.run(['unified-mllm', *args], capture_output=True, text=True)

def test_pretrain_judge_quick(tmp_path):
    r = run('pretrain', '--part', 'judge', '--out', str(tmp_path), '--quick')
    assert r.returncode == 0, r.stderr[-3000:]
    card = json.loads((tmp_path / 'judge' / 'card.json').read_text())
    assert card['quick'] is True and card['command'].startswith('unified-mllm pretrain --part judge')
    assert card['record']['loss_last'] < card['record']['loss_first']
    assert 'clean' in card['gates'] and 'shipped' in r.stdout and 'UNIFIED_MLLM_WEIGHTS' in r.stdout
    from unified_mllm.foundation import load_part, verify_part
    verify_part(tmp_path / 'judge', 'judge')
    assert type(load_part('judge', tmp_path)).__name__ == 'AttributeJudge'

@pytest.mark.parametrize('args, says', [
    (['--part', 'nope', '--out', 'OUT'], 'not a foundation part'),
    (['--part', 'llm', '--out', 'OUT'], 'planned'),
    (['--ship', '--quick'], 'do not --ship'),
    (['--ship', '--out', 'OUT'], 'not both'),
    ([], 'needs --out'),
    (['--out', 'FILE'], 'is a file'),
    (['--seed', '-1', '--out', 'OUT'], 'seed')])
def test_pretrain_bad_args(tmp_path, args, says):
    (tmp_path / 'FILE').write_text('x')
    args = [str(tmp_path / a) if a in ('OUT', 'FILE') else a for a in args]
    r = run('pretrain', *args)
    assert r.returncode == 2 and r.stderr.startswith('unified-mllm: error:') and says in r.stderr, r.stderr
    assert not (tmp_path / 'OUT').exists()

def test_weights_are_package_data(tmp_path):
    "A built wheel (what a non-editable `pip install .` installs) holds every shipped part's files, cards included."
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / 'src'
    for f in files:
        if (ROOT / f).is_file(): (src / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT / f, src / f)
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist'), str(src)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / 'dist').glob('*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    for part in PARTS:
        card = json.loads((ROOT / 'unified_mllm' / 'weights' / part / 'card.json').read_text())
        want = {f'unified_mllm/weights/{part}/{f}' for f in [*card['files'], 'card.json']}
        assert want <= names, f'{part}: missing from the wheel: {sorted(want - names)[:5]}'
    size = sum(i.file_size for i in zipfile.ZipFile(wheel).infolist() if '/weights/' in i.filename)
    assert size < 40 * 2 ** 20, f'shipped weights are {size / 2**20:.1f} MB, the budget is 40 MB'
