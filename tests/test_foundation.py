"""The foundation parts as a user meets them: `unified-mllm pretrain` from a shell, bad arguments, a part that is not
shipped, and the shipped weights inside the built package (chapter 19_foundation has the library's own tests)."""
import json, os, shutil, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def judge_run(tmp_path_factory):
    "`unified-mllm pretrain --part judge --out DIR --quick`, run once from a shell: (DIR, the finished process)."
    out = tmp_path_factory.mktemp('parts')
    r = subprocess.run(['unified-mllm', 'pretrain', '--part', 'judge', '--out', str(out), '--quick'], capture_output=True, text=True)
    return out, r

def test_pretrain_judge_quick(judge_run):
    out, r = judge_run
    assert r.returncode == 0, r.stderr[-3000:]
    card = json.loads((out / 'judge' / 'card.json').read_text())
    assert card['quick'] is True and card['command'].startswith('unified-mllm pretrain --part judge')
    assert card['record']['loss_last'] < card['record']['loss_first']
    assert 'clean' in card['gates'] and 'shipped' in r.stdout and 'UNIFIED_MLLM_WEIGHTS' in r.stdout
    from unified_mllm.foundation import load_part, verify_part
    verify_part(out / 'judge', 'judge')
    assert type(load_part('judge', out)).__name__ == 'AttributeJudge'

def pretrain_error(capsys, *args) -> tuple[int, str]:
    "`unified-mllm pretrain ARGS` in this process: (exit code, stderr); argparse's own refusals raise SystemExit(2)."
    from unified_mllm.cli import main
    try: code = main(['pretrain', *args])
    except SystemExit as e: code = e.code
    return code, capsys.readouterr().err

@pytest.mark.parametrize('args, says', [
    (['--part', 'nope', '--out', 'OUT'], 'not a foundation part'),
    (['--part', 'llm', '--out', 'OUT'], 'planned'),
    (['--ship', '--quick'], 'do not --ship'),
    (['--ship', '--out', 'OUT'], 'not both'),
    ([], 'needs --out'),
    (['--out', 'FILE'], 'is a file'),
    (['--seed', '-1', '--out', 'OUT'], 'seed'),
    (['--part', 'decoder', '--out', 'OUT'], 'decoder is trained or measured on encoder, judge'),
    (['--bogus', '--out', 'OUT'], 'unrecognized arguments: --bogus'),
    (['--part'], 'argument --part: expected one argument')])
def test_pretrain_bad_args(tmp_path, monkeypatch, capsys, args, says):
    monkeypatch.setenv('UNIFIED_MLLM_WEIGHTS', str(tmp_path / 'empty'))    # as if nothing were shipped
    (tmp_path / 'FILE').write_text('x')
    args = [str(tmp_path / a) if a in ('OUT', 'FILE') else a for a in args]
    code, err = pretrain_error(capsys, *args)
    assert code == 2 and 'error:' in err and says in err and 'Traceback' not in err, err
    assert err.startswith('unified-mllm: error:') or err.startswith('usage: unified-mllm'), err
    assert not (tmp_path / 'OUT').exists()

def test_bad_args_are_refused_before_the_heavy_imports(tmp_path):
    "The refusals above come before torch, transformers or diffusers is imported (one process, fresh imports)."
    code = ("import sys; from unified_mllm.cli import main\n"
            f"for a in (['--part', 'nope', '--out', {str(tmp_path)!r}], ['--ship', '--quick'], ['--part', 'decoder', '--out', {str(tmp_path)!r}]):\n"
            "    assert main(['pretrain', *a]) == 2, a\n"
            "print(sorted(m for m in ('torch', 'transformers', 'diffusers') if m in sys.modules))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                       env={**os.environ, 'UNIFIED_MLLM_WEIGHTS': str(tmp_path / 'empty')})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == '[]', r.stdout
    assert r.stderr.count('unified-mllm: error:') == 3, r.stderr

def test_a_part_not_shipped(tmp_path, monkeypatch):
    "Not shipped: `load_part` says how to build it; the getters' hook answers None (they use their cache or train)."
    import unified_mllm.foundation as F
    monkeypatch.delenv(F.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(F, 'shipped_weights_dir', lambda: tmp_path / 'weights')   # a package that ships nothing
    assert F.shipped_parts() == []
    with pytest.raises(FileNotFoundError) as e: F.load_part('judge')
    for says in ('judge part is not shipped with this version', 'unified-mllm pretrain --part judge --out DIR',
                 "load_part('judge', folder=DIR)", 'UNIFIED_MLLM_WEIGHTS=DIR'):
        assert says in str(e.value), (says, str(e.value))
    assert F.shipped_path('judge', 'any-cache-key') is None
    assert 'judge           not shipped' in F.parts_table()

def test_weights_are_package_data(tmp_path, judge_run):
    """A built wheel (what a non-editable `pip install .` installs) holds every file of every shipped part, cards included:
    the parts this version ships (possibly none) and, to test the packaging itself, the quick judge planted as if shipped."""
    from unified_mllm.foundation import shipped_parts, shipped_weights_dir
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / 'src'
    for f in files:
        if (ROOT / f).is_file(): (src / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT / f, src / f)
    parts = {p: shipped_weights_dir() / p for p in shipped_parts()}
    if 'judge' not in parts:
        parts['judge'] = judge_run[0] / 'judge'
        shutil.copytree(parts['judge'], src / 'unified_mllm' / 'weights' / 'judge')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist'), str(src)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / 'dist').glob('*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    for part, folder in parts.items():
        card = json.loads((folder / 'card.json').read_text())
        want = {f'unified_mllm/weights/{part}/{f}' for f in [*card['files'], 'card.json']}
        assert want <= names, f'{part}: missing from the wheel: {sorted(want - names)[:5]}'
    size = sum(i.file_size for i in zipfile.ZipFile(wheel).infolist() if '/weights/' in i.filename)
    assert size < 40 * 2 ** 20, f'shipped weights are {size / 2**20:.1f} MB, the budget is 40 MB'
