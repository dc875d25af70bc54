"""Two processes on the CPU (gloo), started by `accelerate launch`, train the toy DreamLLM with the library's `Trainer`
(through `python -m unified_mllm.full_scale`), the model wrapped in DDP by `accelerator.prepare`. Checks: every rank
processed its own half of each global batch, every rank ends with identical weights (bit for bit) and the same history,
and the losses (global token means) and final weights equal a single-process run with the same global batch."""
import json, os, shutil, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
STEPS, BATCH, SEED = 2, 4, 0
ARGS = ['--preset', 'dreamllm-toy', '--stage', 'II-pretraining', '--steps', str(STEPS), '--batch-size', str(BATCH),
        '--lr', '1e-3', '--image-weight', '0', '--seed', str(SEED), '--report']

@pytest.mark.skipif(shutil.which('accelerate') is None, reason='accelerate CLI not on PATH')
def test_two_processes_match_one(tmp_path):
    t0 = time.time()
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    cmd = ['accelerate', 'launch', '--config_file', str(ROOT / 'configs' / 'accelerate' / 'cpu_2proc.yaml'),
           '-m', 'unified_mllm.full_scale', *ARGS, '--out', str(tmp_path / 'dp')]
    log = open(tmp_path / 'launch.log', 'w')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    try:   # meanwhile, the same global batches in this one process
        from unified_mllm.full_scale import train_main
        torch.set_num_threads(1)
        ref = train_main([*ARGS, '--out', str(tmp_path / 'single')])
        init = _initial()
        rc = proc.wait(timeout=240)
    finally:
        if proc.poll() is None: proc.kill()
        log.close()
    assert rc == 0, (tmp_path / 'launch.log').read_text()[-4000:]
    launched = time.time() - t0
    assert ref.n_procs == 1 and ref.wrapped is ref.model
    reps = [json.loads((tmp_path / 'dp' / f'rank-{k}.json').read_text()) for k in (0, 1)]
    assert [x['world'] for x in reps] == [2, 2] and [x['rank'] for x in reps] == [0, 1]
    assert [x['wrapped'] for x in reps] == ['DistributedDataParallel'] * 2    # the model really went through accelerator.prepare
    w0, w1 = (load_file(str(tmp_path / 'dp' / f'rank-{k}.safetensors')) for k in (0, 1))
    assert [k for k in w0 if not torch.equal(w0[k], w1[k])] == []            # ranks stay identical, bit for bit
    assert not any(k.startswith('module.') for k in w0)                       # saved from the unwrapped model
    assert reps[0]['history'] == reps[1]['history']                           # every rank records the same (global) losses
    for step in range(STEPS):                 # (local target tokens, global target tokens, local images, global images)
        n = [x['shares'][step][0] for x in reps]
        assert reps[0]['shares'][step][1] == reps[1]['shares'][step][1] == sum(n) == ref.shares[step][0] == ref.shares[step][1]
        assert min(n) > 0                                                     # each rank had its own, non-empty half
    assert any(reps[0]['shares'][s][0] != reps[1]['shares'][s][0] for s in range(STEPS))   # unequal shares: the weighting matters
    ref_loss = [h['loss'] for h in ref.history]
    dp_loss = [h['loss'] for h in reps[0]['history']]
    assert dp_loss == pytest.approx(ref_loss, rel=1e-5, abs=1e-6), (dp_loss, ref_loss)
    assert [h['lr'] for h in reps[0]['history']] == [h['lr'] for h in ref.history]   # the schedule steps once per step
    wr = {k: v.detach() for k, v in ref.model.state_dict().items()}
    changed = [k for k in wr if not torch.equal(wr[k], load_file(str(tmp_path / 'single' / 'rank-0.safetensors'))[k])]
    assert changed == []
    worst = max((w0[k].float() - wr[k].float()).abs().max().item() for k in wr)
    assert worst < 1e-5, worst                                                # the gradients were combined correctly
    moved = max((w0[k].float() - v.float()).abs().max().item() for k, v in init.items() if k in w0 and k.startswith('llm.'))
    assert moved > 1e-4                                                       # and training did change the LLM
    ck = tmp_path / 'dp' / 'checkpoints' / f'step-{STEPS:06d}'
    assert (ck / 'trainer_state.json').is_file() and not list((tmp_path / 'dp' / 'checkpoints').glob('.*tmp*'))
    assert sorted(load_file(str(ck / 'rng.safetensors'))) == ['torch', 'torch.rank0', 'torch.rank1']   # one writer, every rank's RNG
    print(f'\n2-process launch (with the reference run alongside) {launched:.1f}s, total {time.time() - t0:.1f}s; losses {ref_loss}; max weight diff {worst:.2e}')

def _initial():
    from unified_mllm.model import UnifiedMLLM
    torch.manual_seed(SEED)
    return UnifiedMLLM.from_preset('dreamllm-toy').state_dict()
