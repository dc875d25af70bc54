"""Project hygiene that notebooks cannot show: the library matches the notebooks, notebooks are clean,
the README's commands are the ones CI runs, and metadata comes from settings.ini."""
import configparser, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _tracked_copy(dst):
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT / f, dst / f)
    return files

def _snapshot(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob('*') if p.is_file() and '__pycache__' not in p.parts}

def test_export_changes_nothing(tmp_path):
    _tracked_copy(tmp_path)
    before = _snapshot(tmp_path)
    subprocess.run(['nbdev_export'], cwd=tmp_path, check=True, capture_output=True)
    after = _snapshot(tmp_path)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f'nbdev_export changes {changed}: run nbdev_export and commit notebooks and library together'

def test_notebooks_are_clean(tmp_path):
    _tracked_copy(tmp_path)
    nbs = {p: p.read_bytes() for p in tmp_path.rglob('*.ipynb')}
    subprocess.run(['nbdev_clean'], cwd=tmp_path, check=True, capture_output=True)
    dirty = [p.name for p, b in nbs.items() if p.read_bytes() != b]
    assert not dirty, f'notebooks not cleaned: {dirty}; run nbdev_clean'

def _readme_commands():
    text = (ROOT / 'README.md').read_text()
    return re.findall(r'```bash\n(.+?)\n```', text)

def test_readme_test_command_is_what_ci_runs():
    cmds = _readme_commands()
    assert len(cmds) >= 2, 'README must show the main-job and test commands in ```bash blocks'
    ci = (ROOT / '.ci' / 'run').read_text()
    assert cmds[1] in ci, f'.ci/run must run the README test command verbatim: {cmds[1]!r}'
    for c in cmds[:2]:
        assert c.startswith('pip install torch==2.13.0 '), 'install the CPU torch build first, or pip pulls the CUDA build'

def test_settings_is_the_source_of_metadata():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini'); cfg = cfg['DEFAULT']
    reqs = cfg['requirements'].split()
    for pkg in 'torch transformers diffusers accelerate datasets tokenizers safetensors matplotlib ipywidgets pillow numpy tqdm'.split():
        assert any(r.startswith(pkg) for r in reqs), f'{pkg} missing from settings.ini requirements'
    assert not any('torchvision' in r for r in reqs)
    out = subprocess.run([sys.executable, 'setup.py', '--version'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == cfg['version']
    import unified_mllm
    assert unified_mllm.__version__ == cfg['version']
