"""The attribute judge is strict (issue 14, section 2): garbage scores exactly 0 on ShapesEval, clean renders of the
prompts' own scenes pass, the calibrated object threshold is saved with the judge and `predict` uses it."""
import os
import numpy as np
import pytest
import torch
from unified_mllm.data import EVAL_CATEGORIES, ShapesWorld, draw_objects, shapes_eval_prompts
from unified_mllm.eval import (GARBAGE_KINDS, AttributeJudge, JudgeConfig, calibration_scores, garbage_images, get_judge,
                               judge_cache_path, judge_scenes, shapes_eval, train_judge)

BENCH = shapes_eval_prompts(16)   # 16 prompts per category
N = len(BENCH)


@pytest.fixture(scope='module')
def judge():
    return get_judge()   # the default judge: shipped / cached, trained on first use


def _noise(std, seed):
    return (0.5 + std * torch.randn(N, 3, 32, 32, generator=torch.Generator().manual_seed(seed))).clamp(0, 1)


def _mean_image():
    "The mean of 2000 ShapesWorld images (the model's training images, 1-3 objects)."
    world = ShapesWorld(32, seed=3)
    x = np.stack([np.asarray(world.sample(i)['image'], dtype=np.float32) for i in range(2000)]) / 255.
    return torch.from_numpy(x.mean(0)).permute(2, 0, 1).expand(N, -1, -1, -1)


def _blobs(seed):
    x, _ = judge_scenes(32, seed, 0, 64, 'judge/heldout')
    return garbage_images(N, x, torch.Generator().manual_seed(seed), kinds=('blobs',))[0]


GARBAGE = {'gaussian noise 0.1': lambda: _noise(0.1, 1), 'gaussian noise 0.3': lambda: _noise(0.3, 2),
           'gaussian noise 1.0': lambda: _noise(1.0, 3),
           'uniform noise': lambda: torch.rand(N, 3, 32, 32, generator=torch.Generator().manual_seed(4)),
           'black': lambda: torch.zeros(N, 3, 32, 32), 'mean image': _mean_image, 'blobs': lambda: _blobs(5)}


@pytest.mark.parametrize('name', list(GARBAGE))
def test_garbage_scores_zero(judge, name):
    scores = shapes_eval(judge, GARBAGE[name](), BENCH)
    assert scores['overall'] == 0.0, scores


def test_clean_renders_pass(judge):
    scores = shapes_eval(judge, [draw_objects(p['objects'], 32) for p in BENCH], BENCH)
    assert scores['overall'] >= 0.98, scores
    assert min(scores[c] for c in EVAL_CATEGORIES) >= 0.9, scores
    big = shapes_eval(judge, [draw_objects(p['objects'], 64) for p in BENCH], BENCH)   # other sizes are resized
    assert big['overall'] >= 0.98, big


@pytest.mark.parametrize('kind', GARBAGE_KINDS)
def test_every_garbage_kind_is_refused(judge, kind):
    x, _ = judge_scenes(32, 77, 0, 64, 'judge/heldout')
    xg = garbage_images(200, x, torch.Generator().manual_seed(77), kinds=(kind,))[0]
    cells = sum(len(r) for r in judge.predict(xg)) / (9 * len(xg))
    assert cells <= 0.005, f'{kind}: {cells:.4f} of garbage cells read as objects'


def test_threshold_calibrated_saved_and_used(judge, tmp_path):
    t = judge.config.object_threshold
    assert 0.5 <= t < 1
    cal = calibration_scores(judge)
    assert (cal['augmented'] >= t).float().mean() >= 0.995            # what `keep` asks for
    assert (cal['clean'] >= t).float().mean() >= 0.999
    judge.save_pretrained(tmp_path)
    assert os.path.getsize(tmp_path / 'model.safetensors') < 1_000_000  # a small judge
    j2 = AttributeJudge.from_pretrained(tmp_path)
    assert j2.config.object_threshold == t
    x, _ = judge_scenes(32, 8, 0, 200, 'judge/heldout')
    x = (x + 0.25 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)   # hard: scores spread out
    n_at = lambda thr: (j2.config.__setattr__('object_threshold', thr), sum(map(len, j2.predict(x))))[1]
    counts = [n_at(thr) for thr in (0.5, t, 0.999999)]
    assert counts[0] >= counts[1] >= counts[2] and counts[0] > counts[2], counts   # predict reads with the config's threshold
    obj = j2.objectness(x)
    j2.config.object_threshold = t
    assert sum(map(len, j2.predict(x))) == int((obj >= t).sum())


def test_training_is_deterministic_with_garbage():
    a, b = (train_judge(steps=2, batch_size=8, seed=3, progress=False) for _ in range(2))
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.config.object_threshold == b.config.object_threshold


def test_bad_settings_fail_before_training():
    with pytest.raises(ValueError, match='garbage is the fraction'): train_judge(garbage=1.0)
    with pytest.raises(ValueError, match='keep is the fraction'): train_judge(keep=99.5)
    with pytest.raises(ValueError, match='object_threshold'): JudgeConfig(object_threshold=0.2)
    with pytest.raises(ValueError, match='object_threshold'): JudgeConfig(object_threshold='high')


def test_cache_key_follows_the_new_settings(tmp_path):
    assert judge_cache_path(tmp_path) != judge_cache_path(tmp_path, garbage=0.1)
    assert judge_cache_path(tmp_path) != judge_cache_path(tmp_path, keep=0.99)
    assert judge_cache_path(tmp_path) == judge_cache_path(tmp_path, garbage=0.2, keep=0.995)
