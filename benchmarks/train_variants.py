"""The quickstart's training step, side by side in one run: threads, micro-batches, attention kernel, bf16 autocast,
one UNet call per step, and (opt-in, it compiles for minutes) torch.compile of the UNet.

    python benchmarks/train_variants.py                 # every variant, 6 timed steps each
    python benchmarks/train_variants.py --compile       # also torch.compile (prints its compile time)
    python benchmarks/train_variants.py --steps 1 --batch 6 --micro 2 --threads 1   # the test's one-step check

Batches are the quickstart's own: stage II-pretraining of `dreamllm_stages(plan=True)` at the quickstart's batch size
(captions, planned text-to-image, stories, VQA: real ShapesWorld documents through the processor), on the toy DreamLLM
with the shipped encoder and decoder. Every variant runs the same steps (same documents). FLOPs are counted once by
torch.utils.flop_counter with the eager attention (the math every kernel does); `ratio` is achieved FLOP/s over the
fp32 matmul peak measured in the same run. Numbers printed are measured; on a shared machine they are pessimistic."""
import argparse, time, warnings
import torch
from torch.utils.flop_counter import FlopCounterMode
warnings.filterwarnings('ignore')
from train_step import matmul_peak       # the same peak measurement as the synthetic benchmark (this folder)

def setup(batch_size):
    "The toy DreamLLM on the shipped parts, the quickstart's stage II and a Trainer prepared for it (its own step is what runs)."
    import tempfile
    from unified_mllm.model import UnifiedMLLM
    from unified_mllm.train import Trainer, dreamllm_stages, get_decoder
    from unified_mllm.encoder import get_toy_encoder
    from unified_mllm.quickstart import QUICKSTART_STEPS as Q
    torch.manual_seed(0)
    m = UnifiedMLLM.from_preset('dreamllm-toy')
    m.load_vision(get_toy_encoder(verbose=False)); get_decoder(m, progress=False)
    stage = dreamllm_stages({'II-pretraining': Q['II-pretraining']}, batch_size=batch_size or Q['batch_size'],
                            lr=Q['lr'], image_weight=Q['image_weight'], plan=True)[2]
    tr = Trainer(m, [stage], tempfile.mkdtemp(), progress=False)
    opt, _ = tr._setup_stage(stage)
    m.train(); m.freeze_frozen_parts()
    return m, stage, tr, opt

def parts(tr, docs, k):
    "The step's documents as the Trainer's k micro-batches of similar length."
    tr.micro_batches = k
    return tr._micro(docs)

def step(tr, opt, stage, ps, bf16=False, one_call=False):
    "One Trainer step over micro-batches `ps`: the image loss per micro-batch, or (`one_call`) in one decoder call (its default)."
    tr.bf16, tr.decoder_calls = bf16, 'step' if one_call else 'micro-batch'
    tr._step(ps, stage); opt.step(); opt.zero_grad(set_to_none=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=6, help='timed steps per variant (after one warm-up step)')
    ap.add_argument('--batch', type=int, default=0, help='documents per step (0: the quickstart\'s)')
    ap.add_argument('--micro', default='1,2,3,4,6', help='micro-batch counts to compare')
    ap.add_argument('--threads', default='2,1', help='torch thread counts to compare')
    ap.add_argument('--compile', action='store_true', help='also time torch.compile of the UNet (compiles for minutes on a CPU)')
    a = ap.parse_args()
    try:
        micros = [int(x) for x in a.micro.split(',')]; threads = [int(x) for x in a.threads.split(',')]
    except ValueError: ap.error(f'--micro and --threads take comma-separated ints, got {a.micro!r} and {a.threads!r}')
    if a.steps < 1 or min(micros) < 1 or min(threads) < 1: ap.error('--steps, --micro and --threads must be >= 1')
    from unified_mllm.train import stage_documents
    m, stage, tr, opt = setup(a.batch)
    docs = [stage_documents(stage, s, 0) for s in range(a.steps + 1)]
    B = len(docs[0])
    batches = {k: [parts(tr, d, k) for d in docs] for k in sorted(set(micros))}
    m.llm.set_attn_implementation('eager')
    per = {}
    for k in batches:                           # every split processes the same documents; padding differs, so count each
        with FlopCounterMode(display=False) as f2:
            for ps in batches[k][1:]:
                step(tr, opt, stage, ps)
        per[k] = f2.get_total_flops()
    flops = min(per.values())                   # the least padded split: the useful work of the documents
    m.llm.set_attn_implementation('sdpa')
    rows, peaks = [], {}
    def timed(name, k, th, bf16=False, one_call=False):
        torch.set_num_threads(th)
        step(tr, opt, stage, batches[k][0], bf16, one_call)       # warm-up
        t = time.perf_counter()
        for ps in batches[k][1:]: step(tr, opt, stage, ps, bf16, one_call)
        dt = (time.perf_counter() - t) / a.steps
        rows.append((name, k, th, dt))
        peak = peaks.setdefault(th, max(matmul_peak(torch.float32) for _ in range(3)))
        print(f'{name:34s} micro {k}  threads {th}  {dt:6.3f} s/step  {1 / dt:5.2f} steps/s  {B / dt:6.1f} docs/s  '
              f'{flops / a.steps / dt / 1e9:5.1f} GFLOP/s  peak {peak / 1e9:5.1f}  ratio {flops / a.steps / dt / peak:5.1%}', flush=True)
        return dt
    print(f'quickstart stage II batches: {B} documents per step, {flops / a.steps / 1e9:.1f} GFLOP per step (least padded split); '
          f'micro-batch lengths ' + ', '.join(f'{k}: {[tuple(b["input_ids"].shape) for b in batches[k][1]]}' for k in batches), flush=True)
    for th in threads:
        for k in micros: timed('fp32, sdpa, decoder per micro-batch', k, th)
        for k in micros: timed('fp32, sdpa, one decoder call', k, th, one_call=True)
    th = threads[0]
    base = next((r[3] for r in rows if r[1] == 2 and r[2] == th), rows[0][3])
    best = min((r for r in rows if r[2] == th and 'one' in r[0]), key=lambda r: r[3])[1]
    m.llm.set_attn_implementation('eager'); timed('fp32, eager attention, one call', best, th, one_call=True)
    m.llm.set_attn_implementation('sdpa')
    timed('bf16 autocast, sdpa, one call', best, th, bf16=True, one_call=True)
    torch.set_num_threads(th)
    # one UNet call per step instead of one per micro-batch: the decoder's loss on all of a step's made images at once
    px = torch.cat([b['made_pixel_values'] for b in batches[best][1]])
    with torch.no_grad(): cond = m.head.image_features(m, px)
    cond.requires_grad_(True)
    for calls in (1, best):
        t = time.perf_counter()
        for _ in range(a.steps):
            for c, p in zip(cond.chunk(calls), px.chunk(calls)): m.decoder.loss(p, c).backward()
        print(f'UNet loss on the step\'s {len(px)} made images in {calls} call(s): {(time.perf_counter() - t) / a.steps * 1e3:.0f} ms/step', flush=True)
    if a.compile:
        t = time.perf_counter(); m.decoder.unet.compile(dynamic=True)
        for ps in batches[best]: step(tr, opt, stage, ps, one_call=True)
        print(f'torch.compile of the UNet: first pass over {len(batches[best])} steps {time.perf_counter() - t:.0f} s (compiling, one graph per new shape)', flush=True)
        timed('fp32, sdpa, one call, UNet compiled', best, th, one_call=True)
    fastest = min(rows, key=lambda r: r[3])
    print(f'fastest: {fastest[0]}, micro {fastest[1]}, threads {fastest[2]}: {fastest[3]:.3f} s/step, '
          f'{base / fastest[3]:.2f}x the old quickstart setting (decoder per micro-batch, micro 2, {th} threads)')

if __name__ == '__main__': main()
