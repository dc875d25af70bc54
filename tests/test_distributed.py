"""Two processes on the CPU (gloo), started by `accelerate launch`, train the toy DreamLLM data-parallel with the
library's Trainer (through `unified_mllm.full_scale.DataParallelTrainer`). Checks: every rank ends with identical
weights, and the loss of every step, combined over the ranks by their target tokens, equals a single-process run
with the same global batch (same for the final weights)."""
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
    assert ref.n_procs == 1
    reps = [json.loads((tmp_path / 'dp' / f'rank-{k}.json').read_text()) for k in (0, 1)]
    assert [x['world'] for x in reps] == [2, 2]
    w0, w1 = (load_file(str(tmp_path / 'dp' / f'rank-{k}.safetensors')) for k in (0, 1))
    assert [k for k in w0 if not torch.equal(w0[k], w1[k])] == []            # ranks stay identical, bit for bit
    ref_loss = [h['loss'] for h in ref.history]
    # each rank's loss is the mean over its own target tokens: combine by tokens
    combined = []
    for step in range(STEPS):
        n = [x['tokens'][step][0] for x in reps]
        assert reps[0]['tokens'][step][1] == sum(n) == ref.shard.log[step][0]   # shares add up to the global batch
        assert min(n) > 0
        combined.append(sum(x['history'][step]['loss'] * k for x, k in zip(reps, n)) / sum(n))
    assert combined == pytest.approx(ref_loss, rel=1e-5, abs=1e-6), (combined, ref_loss)
    wr = {k: v.detach() for k, v in ref.model.state_dict().items()}
    changed = [k for k in wr if not torch.equal(wr[k], load_file(str(tmp_path / 'single' / 'rank-0.safetensors'))[k])]
    assert changed == []
    worst = max((w0[k].float() - wr[k].float()).abs().max().item() for k in wr)
    assert worst < 1e-5, worst                                                # the gradients were averaged correctly
    moved = max((w0[k].float() - v.float()).abs().max().item() for k, v in init.items() if k in w0 and k.startswith('llm.'))
    assert moved > 1e-4                                                       # and training did change the LLM
    print(f'\n2-process launch (with the reference run alongside) {launched:.1f}s, total {time.time() - t0:.1f}s; losses {ref_loss}; max weight diff {worst:.2e}')

def _initial():
    from unified_mllm.model import UnifiedMLLM
    torch.manual_seed(SEED)
    return UnifiedMLLM.from_preset('dreamllm-toy').state_dict()
