"""Generation speed: text tokens/s with and without the KV cache (the library's interleaved `generate`), and image
sampling time per diffusers scheduler and step count (the model's decoder, classifier-free guidance = 2 UNet passes).

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
    from diffusers import DDIMScheduler, DDPMScheduler, EulerDiscreteScheduler, DPMSolverMultistepScheduler
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
    dec = model.decoder
    u = dec.unet
    c, s = u.config.in_channels, u.config.sample_size
    cond = torch.randn(2, model.config.head.get('n_queries', 16), u.config.cross_attention_dim)
    for cls in (() if not a.steps else (DDIMScheduler, DDPMScheduler, EulerDiscreteScheduler, DPMSolverMultistepScheduler)):
        sched = cls.from_config(dec.noise_scheduler.config)
        for n in [int(x) for x in a.steps.split(',')]:
            best = None
            for _ in range(a.repeats):
                t = time.perf_counter()
                with torch.no_grad():
                    sched.set_timesteps(n)
                    x = torch.randn(1, c, s, s) * sched.init_noise_sigma
                    for ts in sched.timesteps:
                        xin = sched.scale_model_input(torch.cat([x, x]), ts)
                        eu, ec = u(xin, ts, encoder_hidden_states=cond).sample.chunk(2)
                        x = sched.step(eu + 2.0 * (ec - eu), ts, x).prev_sample
                    if hasattr(dec, "to_pixels"): dec.to_pixels(x)
                dt = time.perf_counter() - t
                best = dt if best is None else min(best, dt)
            print(f'image {cls.__name__:28s} {n:3d} steps: {best:.2f}s per image ({best / n * 1e3:.0f} ms/step, CFG)')

if __name__ == '__main__': main()
