"""Two processes on the CPU (gloo), started by `accelerate launch` with configs/accelerate/fsdp2_cpu_2proc.yaml, train the
toy DreamLLM with the library's `Trainer` under FSDP2 (`fully_shard`). Checks: (a) the parameters are really sharded: each
process holds half of the trainable elements (local shards of the DTensor parameters); (b) the losses equal a one-process
run with the same global batch; (c) a new launch resuming from the mid-stage checkpoint restores the sharded AdamW state
(written as safetensors + JSON, gathered on rank 0) and ends on the same weights and moments as the uninterrupted run.
(Resetting the moments instead moves the final weights by ~1.6e-3.) This file is also the launched script (`__main__`)."""
import json, os, shutil, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
STEPS, BATCH = 4, 4
ARGS = ['--preset', 'dreamllm-toy', '--stage', 'II-pretraining', '--steps', str(STEPS), '--batch-size', str(BATCH),
        '--lr', '1e-3', '--image-weight', '0', '--checkpoint-every', str(STEPS // 2)]

def _launch(out: Path, *extra) -> subprocess.Popen:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    cmd = ['accelerate', 'launch', '--config_file', str(ROOT / 'configs' / 'accelerate' / 'fsdp2_cpu_2proc.yaml'),
           __file__, *ARGS, '--out', str(out), *extra]
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, stdout=open(out / 'launch.log', 'w'), stderr=subprocess.STDOUT, env=env, cwd=ROOT)

def _wait(proc, out: Path) -> list[dict]:
    try: rc = proc.wait(timeout=240)
    finally:
        if proc.poll() is None: proc.kill()
    assert rc == 0, (out / 'launch.log').read_text()[-4000:]
    return [json.loads((out / f'rank-{r}.json').read_text()) for r in (0, 1)]

def _weights(out: Path, step: int, part='model/model.safetensors') -> dict:
    return load_file(str(out / 'checkpoints' / f'step-{step:06d}' / part))

def _max_diff(a: dict, b: dict) -> float:
    assert sorted(a) == sorted(b)
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)

@pytest.mark.skipif(shutil.which('accelerate') is None, reason='accelerate CLI not on PATH')
def test_fsdp_shards_matches_one_process_and_resumes(tmp_path):
    t0 = time.time()
    proc = _launch(tmp_path / 'fsdp')
    try:   # meanwhile, the same global batches in this one process
        from unified_mllm.full_scale import train_main
        torch.set_num_threads(1)
        ref = train_main([*ARGS, '--out', str(tmp_path / 'single')])
    finally: reps = _wait(proc, tmp_path / 'fsdp')
    # (a) sharded: every trainable parameter is a DTensor, each process holds about half of the elements
    assert [x['distributed_type'] for x in reps] == ['FSDP'] * 2 and [x['param_type'] for x in reps] == ['DTensor'] * 2
    total = reps[0]['trainable_numel']
    fractions = [x['local_trainable_numel'] / total for x in reps]
    assert sum(x['local_trainable_numel'] for x in reps) == total and all(abs(f - 0.5) < 0.01 for f in fractions), fractions
    # (b) the global-mean losses of 2 FSDP processes are those of 1 process with the whole batch
    ref_loss, fsdp_loss = [h['loss'] for h in ref.history], [h['loss'] for h in reps[0]['history']]
    assert reps[0]['history'] == reps[1]['history'] and fsdp_loss == pytest.approx(ref_loss, rel=1e-4), (fsdp_loss, ref_loss)
    vs_one = _max_diff(_weights(tmp_path / 'fsdp', STEPS), _weights(tmp_path / 'single', STEPS))
    assert vs_one < 1e-5, vs_one
    # (c) a new launch from the mid-stage checkpoint (as if stopped there) ends where the uninterrupted run ends
    mid = f'step-{STEPS // 2:06d}'
    (tmp_path / 'resumed' / 'checkpoints').mkdir(parents=True)
    shutil.copytree(tmp_path / 'fsdp' / 'checkpoints' / mid, tmp_path / 'resumed' / 'checkpoints' / mid)
    assert 'optimizer' in json.loads((tmp_path / 'resumed' / 'checkpoints' / mid / 'trainer_state.json').read_text())
    res = _wait(_launch(tmp_path / 'resumed', '--resume', 'latest'), tmp_path / 'resumed')
    assert [h['loss'] for h in res[0]['history']] == pytest.approx(fsdp_loss, rel=1e-6)
    resumed = _max_diff(_weights(tmp_path / 'resumed', STEPS), _weights(tmp_path / 'fsdp', STEPS))
    moments = _max_diff(*(_weights(tmp_path / d, STEPS, 'optimizer.safetensors') for d in ('resumed', 'fsdp')))
    assert resumed < 1e-6 and moments < 1e-6, (resumed, moments)
    assert all(f.suffix in ('.safetensors', '.json') for f in (tmp_path / 'resumed' / 'checkpoints').rglob('*')
               if f.is_file() and f.parent.name != 'model')
    print(f'\nFSDP2 on 2 CPU processes: shard fractions {fractions} of {total}; losses {ref_loss}; weights vs one process '
          f'{vs_one:.1e}; resumed vs uninterrupted: weights {resumed:.1e}, AdamW state {moments:.1e}; {time.time() - t0:.1f}s')

if __name__ == '__main__':   # each launched process: train, then report what it holds
    from torch.distributed.tensor import DTensor
    from unified_mllm.full_scale import train_main
    tr = train_main(sys.argv[1:])
    params = [p for p in tr.wrapped.parameters() if p.requires_grad]
    Path(tr.out_dir, f'rank-{tr.rank}.json').write_text(json.dumps({
        'distributed_type': tr.accelerator.distributed_type.name, 'param_type': type(params[0]).__name__,
        'history': tr.history, 'trainable_numel': sum(p.numel() for p in params),
        'local_trainable_numel': sum((p.to_local() if isinstance(p, DTensor) else p).numel() for p in params)}))
