"""Training-step throughput of a preset: samples/s, tokens/s, achieved FLOP/s, and the machine's matmul peak measured
in the same run, in fp32 and under bf16 autocast. On a GPU the ratio is the model FLOP utilisation (MFU).

    python benchmarks/train_step.py                                   # the toy DreamLLM
    python benchmarks/train_step.py --preset dreamllm-7b --layers 1   # full width, reduced depth (LM loss only)

FLOPs are counted by torch.utils.flop_counter on one forward + backward (matmuls and convolutions, exact for the
model as run). The batch is synthetic: random token ids with one seen image per sample (and one made image with --image).
Numbers printed are measured; on a shared machine they are pessimistic."""
import argparse, time, warnings
import torch
from torch.utils.flop_counter import FlopCounterMode
warnings.filterwarnings('ignore')

def matmul_peak(dtype, n=1024, reps=8):
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float('inf')
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps): a @ b
        best = min(best, (time.perf_counter() - t) / reps)
    return 2 * n ** 3 / best

def build(args):
    from unified_mllm.config import UnifiedConfig
    from unified_mllm.model import UnifiedMLLM
    over = {}
    if args.layers:
        over = dict(llm={'num_hidden_layers': args.layers}, vision={'num_hidden_layers': max(args.layers, 2)})
    if not args.image: over['decoder'] = None
    torch.manual_seed(0)
    cfg = UnifiedConfig.from_preset(args.preset, **over)
    return UnifiedMLLM(cfg), cfg

def batch(cfg, B, L, image, device='cpu'):
    n_seen, n_made = cfg.processor['seen']['n_slots'], cfg.processor['made']['n_slots']
    assert L > n_seen + n_made + 4, f'--seq {L} too short for {n_seen} seen + {n_made} made slots'
    V = cfg.llm['vocab_size']
    ids = torch.randint(3, V, (B, L))
    b = dict(input_ids=ids, labels=ids.clone(), attention_mask=torch.ones_like(ids),
             pixel_values=torch.rand(B, 3, cfg.image_size, cfg.image_size) * 2 - 1,
             seen_positions=torch.arange(1, 1 + n_seen).repeat(B, 1), seen_batch_index=torch.arange(B))
    if image:
        b.update(made_pixel_values=torch.rand(B, 3, cfg.made_image_size, cfg.made_image_size) * 2 - 1,
                 made_positions=torch.arange(2 + n_seen, 2 + n_seen + n_made).repeat(B, 1), made_batch_index=torch.arange(B))
    return b

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='dreamllm-toy'); ap.add_argument('--layers', type=int, default=0, help='LLM depth (0: the preset\'s)')
    ap.add_argument('--batch', type=int, default=4); ap.add_argument('--seq', type=int, default=256)
    ap.add_argument('--steps', type=int, default=5); ap.add_argument('--image', action='store_true', help='include the image (diffusion) loss')
    ap.add_argument('--precision', default='both', choices=('fp32', 'bf16', 'both'))
    ap.add_argument('--train', default='adapter,llm,head', help='parameter groups that train (unified_mllm.train.param_groups)')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default); 1 is faster on a crowded machine')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    model, cfg = build(a)
    model.train()
    from unified_mllm.train import param_groups, trains
    groups = param_groups(model)
    bad = [g for g in a.train.split(',') if g not in groups]
    if bad: ap.error(f'--train names unknown groups {bad}; this model has {list(groups)}')
    for n, p in model.named_parameters(): p.requires_grad_(trains(n, tuple(a.train.split(',')), groups))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    b = batch(cfg, a.batch, a.seq, a.image)
    n_par = sum(p.numel() for p in model.parameters()); n_tr = sum(p.numel() for p in params)
    print(f'{a.preset} layers={a.layers or cfg.llm["num_hidden_layers"]} batch={a.batch} seq={a.seq} image_loss={a.image} '
          f'params {n_par / 1e6:.1f}M (trainable {n_tr / 1e6:.1f}M), torch threads {torch.get_num_threads()}')
    for prec in (('fp32', 'bf16') if a.precision == 'both' else (a.precision,)):
        ac = dict(device_type='cpu', dtype=torch.bfloat16, enabled=prec == 'bf16')
        def step():
            with torch.autocast(**ac):
                out = model(**b, image_weight=1.0 if a.image else 0.0)
            opt.zero_grad(set_to_none=True); out.loss.backward(); opt.step()
        with FlopCounterMode(display=False) as fc:
            with torch.autocast(**ac): out = model(**b, image_weight=1.0 if a.image else 0.0)
            out.loss.backward()
        flops = fc.get_total_flops(); opt.zero_grad(set_to_none=True)
        step()                                        # warm-up
        t = time.perf_counter()
        for _ in range(a.steps): step()
        dt = (time.perf_counter() - t) / a.steps
        peak = matmul_peak(torch.bfloat16 if prec == 'bf16' else torch.float32)
        print(f'[{prec}] {dt * 1e3:.0f} ms/step  {a.batch / dt:.2f} samples/s  {a.batch * a.seq / dt:.0f} tokens/s  '
              f'{flops / 1e9:.1f} GFLOP/step  achieved {flops / dt / 1e9:.1f} GFLOP/s  matmul peak {peak / 1e9:.1f} GFLOP/s  '
              f'ratio {flops / dt / peak:.1%}')

if __name__ == '__main__': main()
