"""The `unified-mllm` command as a user runs it: installed entry point, files written, bad input."""
import json, subprocess
from pathlib import Path
import datasets

def run(*args):
    return subprocess.run(['unified-mllm', *args], capture_output=True, text=True)

def test_shapes_writes_grid_and_dataset(tmp_path):
    r = run('shapes', '--out', str(tmp_path), '--n', '5')
    assert r.returncode == 0, r.stderr
    dd = datasets.load_from_disk(str(tmp_path / 'shapesworld'))
    assert set(dd) == {'captioning', 'vqa', 'text_to_image', 'editing', 'colorization', 'inpainting',
                       'segmentation_to_image', 'story', 'planned_text_to_image', 'planned_editing'}
    assert all(len(dd[t]) == 5 for t in dd)
    png = (tmp_path / 'shapesworld_tasks.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000
    assert json.loads((tmp_path / 'shapes_summary.json').read_text())['samples_per_task'] == 5

def test_shapes_is_deterministic(tmp_path):
    for d in 'ab': assert run('shapes', '--out', str(tmp_path / d), '--n', '4', '--seed', '3').returncode == 0
    a, b = (datasets.load_from_disk(str(tmp_path / d / 'shapesworld')) for d in 'ab')
    for t in a: assert a[t].data.table.equals(b[t].data.table), t

def test_bad_input_fails_clearly(tmp_path):
    r = run('shapes', '--out', str(tmp_path), '--n', '0')
    assert r.returncode != 0 and 'at least 1' in r.stderr
    r = run('shapes', '--out', str(tmp_path), '--size', '30')
    assert r.returncode != 0 and 'multiple of 4' in r.stderr
    r = run('reproduce', 'no-such-paper', '--out', str(tmp_path))
    assert r.returncode == 2 and 'unknown reproduction' in r.stderr
    r = run('reproduce', '--list')
    assert r.returncode == 0

def test_reproduce_puma_granularity_quick(tmp_path):
    "The quick path of PUMA's granularity reproduction writes every file and key the issue names."
    r = run('reproduce', 'puma-granularity', '--quick', '--out', str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'puma_granularity.json').read_text())
    assert res['tokens'] == [1, 4, 16, 64] and res['quick'] is True and res['wall_seconds'] > 0
    for k in ('psnr_r', 'ssim_r', 'psnr_d', 'ssim_d', 'judge_preserved'): assert len(res[k]) == 4, k
    assert all(0 <= v <= 1 for v in res['judge_preserved'] + res['ssim_r'] + res['ssim_d'])
    for f in ('puma_granularity.png', 'puma_granularity_metrics.png'):
        assert (tmp_path / f).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n', f

def test_reproduce_puma_tasks_quick(tmp_path):
    "The quick path of PUMA's task-granularity reproduction writes the JSON (per task, per scale) and both figures."
    r = run('reproduce', 'puma-tasks', '--quick', '--out', str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'puma_tasks.json').read_text())
    assert res['quick'] is True and res['scales'] == [1, 4, 16, 64] and res['wall_seconds']['total'] > 0
    assert set(res['tasks']) == {'text_to_image', 'editing', 'colorization', 'inpainting'}
    for task, per in res['tasks'].items(): assert list(per) == ['1', '4', '16', '64'], task
    t2i, ed = res['tasks']['text_to_image']['1'], res['tasks']['editing']['64']
    assert 0 <= t2i['shapes_eval'] <= 1 and 0 <= t2i['ssim_d'] <= 1 and t2i['psnr_d'] > 0
    assert all(0 <= ed[k] <= 1 for k in ('changed', 'kept', 'exact')) and ed['psnr_untouched'] > 0
    for f in ('puma_tasks.png', 'puma_tasks_metrics.png'):
        assert (tmp_path / f).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n', f

def test_reproduce_recipes_quick(tmp_path):
    "The quick path of the recipe comparison writes one entry per recipe with the quickstart's keys, params and train_seconds."
    r = run('reproduce', 'recipes', '--quick', '--out', str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'recipes.json').read_text())
    assert list(res['recipes']) == ['dreamllm-toy', 'puma-toy', 'illume-toy', 'mm-interleaved-toy'] and res['quick'] is True
    for name, e in res['recipes'].items():
        for k in ('caption_accuracy', 'vqa_accuracy', 'edit_accuracy', 'shapes_eval', 'params', 'train_seconds'): assert k in e, (name, k)
        assert e['params'] > 0 and e['train_seconds'] >= 0 and 0 <= e['shapes_eval']['overall'] <= 1
    assert (tmp_path / 'recipes.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

def refused(r, *words):
    "A command refused as argparse does: exit code 2, the message on stderr, no traceback."
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr, r.stderr[-2000:]
    for w in words: assert w in r.stderr, (w, r.stderr)

def test_bad_shapes_arguments_exit_2_with_a_message(tmp_path):
    refused(run('shapes', '--out', str(tmp_path / 's'), '--seed', '-1'), 'unified-mllm: error:', '--seed must be an int >= 0')
    refused(run('shapes', '--out', str(tmp_path / 'n'), '--n', '0'), '--n must be at least 1')
    refused(run('shapes', '--out', str(tmp_path / 'z'), '--size', '30'), 'multiple of 4')
    refused(run('quickstart', '--out', str(tmp_path / 'q'), '--seed', '-2'), '--seed must be an int >= 0')
    assert not any(tmp_path.iterdir())   # refused before any output folder was made

def test_unwritable_out_is_refused_before_any_work(tmp_path):
    (tmp_path / 'file').write_text('x')
    for cmd in (['shapes'], ['quickstart', '--quick'], ['reproduce', 'puma-tasks', '--quick']):
        refused(run(*cmd, '--out', '/proc/x'), 'unified-mllm: error: --out /proc/x: cannot create or write this folder')
        refused(run(*cmd, '--out', str(tmp_path / 'file')), 'is a file, not a folder')
    refused(run('reproduce', 'puma-tasks'), 'reproduce needs --out')

def test_main_returns_2_for_bad_arguments(tmp_path, capsys):
    from unified_mllm.cli import main
    assert main(['shapes', '--out', str(tmp_path), '--seed', '-1']) == 2
    assert main(['quickstart', '--out', '/proc/x', '--quick']) == 2
    err = capsys.readouterr().err
    assert err.count('unified-mllm: error:') == 2 and '--seed' in err and '/proc/x' in err

def full_scale(*args):
    import sys
    return subprocess.run([sys.executable, '-m', 'unified_mllm.full_scale', *args], capture_output=True, text=True)

def test_full_scale_refuses_non_positive_steps(tmp_path):
    r = full_scale('--steps', '-3', '--report', '--out', str(tmp_path))
    refused(r, 'argument --steps: must be > 0, got -3')
    assert not (tmp_path / 'rank-0.safetensors').exists()

def full_scale_error(capsys, *args) -> str:
    "Run `train_main(args)` in this process; it must stop as argparse does (exit 2) and say why on stderr."
    import pytest
    from unified_mllm.full_scale import train_main
    with pytest.raises(SystemExit) as e: train_main(list(args))
    assert e.value.code == 2
    return capsys.readouterr().err

def test_full_scale_bad_numbers_exit_2(tmp_path, capsys):
    out = ['--out', str(tmp_path)]
    assert 'argument --steps: must be > 0, got 0' in full_scale_error(capsys, '--steps', '0', *out)
    assert 'argument --batch-size: must be > 0, got -8' in full_scale_error(capsys, '--batch-size', '-8', *out)
    assert 'argument --lr: must be > 0, got 0' in full_scale_error(capsys, '--lr', '0', *out)
    assert 'argument --lr: must be > 0, got nan' in full_scale_error(capsys, '--lr', 'nan', *out)
    assert 'argument --image-weight: must be >= 0, got -1' in full_scale_error(capsys, '--image-weight', '-1', *out)
    assert 'argument --checkpoint-every: must be > 0' in full_scale_error(capsys, '--checkpoint-every', '0', *out)
    assert 'argument --seed: must be >= 0' in full_scale_error(capsys, '--seed', '-1', *out)
    assert "unknown stage ['IV']" in full_scale_error(capsys, '--stage', 'IV', *out)
    assert "unknown preset 'nope'" in full_scale_error(capsys, '--preset', 'nope', *out)
    assert '--out /proc/x: cannot create' in full_scale_error(capsys, '--out', '/proc/x')

def test_full_scale_folders_are_part_equals_path(tmp_path, capsys):
    out = ['--out', str(tmp_path)]
    err = full_scale_error(capsys, '--folders', 'llm', *out)
    assert "--folders expects part=path items such as llm=/path/to/llama; got 'llm'" in err
    err = full_scale_error(capsys, '--folders', 'brain=/x', *out)
    assert "unknown part 'brain'" in err and 'the parts are llm, vision, unet, vae' in err
    assert 'names llm twice' in full_scale_error(capsys, '--folders', 'llm=/a', 'llm=/b', *out)

def test_full_scale_overrides_go_through_stage_checks(monkeypatch, tmp_path, capsys):
    "--steps / --image-weight build new Stages, so Stage.__post_init__ checks the overridden values (here: a check the test adds)."
    import unified_mllm.train as train
    post = train.Stage.__post_init__
    def strict(self):
        post(self)
        if self.image_weight == 0.25: raise ValueError(f'Stage {self.name!r}: image_weight 0.25 is refused in this test')
    monkeypatch.setattr(train.Stage, '__post_init__', strict)
    err = full_scale_error(capsys, '--stage', 'II-pretraining', '--image-weight', '0.25', '--out', str(tmp_path))
    assert "Stage 'II-pretraining': image_weight 0.25 is refused in this test" in err
