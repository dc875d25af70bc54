"""Generation speed: text tokens/s with and without the KV cache (the library's interleaved `generate`), and image
sampling time per sampler of the decoder chapter and step count (the model's own `sample_images`, classifier-free guidance = 2 UNet passes).

    python benchmarks/generate.py [--preset dreamllm-toy] [--tokens 48]

The model is freshly initialised (speed does not depend on training), so the number of text tokens before an
end-of-sequence varies; tokens/s is computed from the tokens actually produced. Numbers printed are measured;
on a shared machine they are pessimistic."""
import argparse, time, warnings
import torch
warnings.filterwarnings('ignore')

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='dreamllm-toy'); ap.add_argument('--tokens', type=int, default=48)
    ap.add_argument('--steps', default='10,25,50', help='sampling step counts (empty: skip the image benchmark)'); ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default); 1 is faster on a crowded machine')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from unified_mllm.model import UnifiedMLLM
    from unified_mllm.generate import generate
    from unified_mllm.documents import Text
    torch.manual_seed(0)
    model = UnifiedMLLM.from_preset(a.preset).eval()
    print(f'{a.preset}: torch threads {torch.get_num_threads()}')
    prompt = [Text('describe the image. a red circle is at the top left and', 'prompt')]
    for cache in (True, False):
        best = None
        for _ in range(a.repeats):
            t = time.perf_counter()
            _, ids = generate(model, prompt, max_new_tokens=a.tokens, max_images=0, use_cache=cache, return_ids=True)
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
        print(f'text, KV cache {"on " if cache else "off"}: {len(ids)} tokens in {best:.2f}s = {len(ids) / best:.1f} tokens/s')
    from unified_mllm.decoder import SAMPLERS
    n_tokens = model.config.processor['made']['n_slots']
    cond = torch.randn(1, n_tokens, model.decoder.conditioner.config.feature_dim)    # a condition as the head writes it
    for sampler in (() if not a.steps else SAMPLERS):
        model.config.decoder['sampler'] = sampler                                   # the decoder samples with the config's sampler
        for n in [int(x) for x in a.steps.split(',')]:
            best = None
            for _ in range(a.repeats):
                t = time.perf_counter()
                model.sample_images(cond, torch.Generator().manual_seed(0), guidance_scale=2.0, num_inference_steps=n)
                dt = time.perf_counter() - t
                best = dt if best is None else min(best, dt)
            print(f'image {sampler:5s} {n:3d} steps: {best:.2f}s per image ({best / n * 1e3:.0f} ms/step, CFG: 2 UNet passes)')

if __name__ == '__main__': main()
