"""Bring your own data, end to end: the README's "Bring your own data" script, run as written on a folder of PNGs it draws
(stripes and checkerboards, not ShapesWorld) — tokenizer, encoder and decoder fitted to them, DreamLLM's stages, held-out
scores — then checked: the losses fall, the captions beat the best constant caption, the images follow their prompts' colour,
and the user's scoring function is called with the generated images."""
import re, time
from pathlib import Path
import numpy as np, pytest, torch, datasets, PIL.Image
from unified_mllm.evaluate import evaluate_own

ROOT = Path(__file__).resolve().parents[1]

def readme_code(section: str = 'Bring your own data') -> str:
    "The ```python blocks of a README section, joined."
    text = (ROOT / 'README.md').read_text()
    body = text.split(f'## {section}\n', 1)[1].split('\n## ', 1)[0]
    return '\n'.join(re.findall(r'```python\n(.*?)```', body, re.S))

@pytest.fixture
def one_thread():
    "One torch thread: on the 2-core machine, shared with other jobs, two threads ran these small steps up to 8x slower."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

def test_readme_bring_your_own_data(tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('UNIFIED_MLLM_CACHE', str(tmp_path / 'cache'))          # train the parts here, not from a cache
    monkeypatch.setattr(datasets.config, 'HF_DATASETS_CACHE', tmp_path / 'hf')
    t0 = time.time(); ns = {}
    exec(compile(readme_code(), 'README.md: Bring your own data', 'exec'), ns)
    wall = time.time() - t0
    train, test, model, tok, metrics, tr = (ns[k] for k in ('train', 'test', 'model', 'tok', 'metrics', 'tr'))
    # the data: the PNG folder through datasets, a quarter held out; the model reads it with the tokenizer trained on it
    assert (len(train), len(test)) == (108, 36) and set(train.column_names) == {'image', 'text'}
    assert model.processor.tokenizer is tok and len(tok) <= model.config.llm['vocab_size']
    assert 'triangle' not in tok.get_vocab() and 'checkerboard' in tok.decode(tok('red checkerboard')['input_ids'])
    # every part learned: the encoder's contrastive loss, the decoder's, the text and image losses of stage II
    first_last = lambda xs: (np.mean(xs[:5]), np.mean(xs[-5:]))
    a, b = first_last(ns['clip']['log']['loss']); assert b < 0.8 * a, (a, b)
    assert ns['clip']['metrics']['hard_negatives'] is False
    a, b = ns['dec']['loss']; assert b < 0.5 * a, (a, b)
    stage2 = [h for h in tr.history if h['stage'] == 'II-pretraining']
    a, b = first_last([h['lm_loss'] for h in stage2]); assert b < 0.2 * a, (a, b)
    a, b = first_last([h['image_loss'] for h in stage2]); assert b < 0.7 * a, (a, b)
    assert all(not p.requires_grad for p in [*model.vision.parameters(), *model.decoder.parameters()])
    # captions on held-out images beat chance (1/12) and the best constant caption, by exact match and token F1
    assert metrics['n_captions'] == 36
    assert metrics['caption_exact'] > max(1 / 12, metrics['baseline_exact']) + 0.1, metrics
    assert metrics['caption_f1'] > metrics['baseline_f1'] + 0.1, metrics
    # drawn images: 32x32 RGB, painted in the prompt's colour well above chance (0.25); the user's score sees exactly them
    prompts, docs = ns['examples']['t2i']
    assert len(prompts) == 6 and all(d[-1].image.size == (32, 32) and d[-1].image.mode == 'RGB' for d in docs)
    assert metrics['n_prompts'] == 12 and metrics['image_score'] > 0.5, metrics
    calls = []
    def spy(images, prompts):
        calls.append((list(images), list(prompts))); return ns['colour_match'](images, prompts)
    all_prompts = [f'{c} {p}' for c in ns['COLORS'] for p in ns['PATTERNS']]
    again, _ = evaluate_own(model, prompts=all_prompts, score=spy, sample_steps=10)
    (images, seen_prompts), = calls
    assert seen_prompts == all_prompts and all(isinstance(im, PIL.Image.Image) and im.size == (32, 32) for im in images)
    assert [np.asarray(im).tolist() for im in images[:6]] == [np.asarray(d[-1].image).tolist() for d in docs]   # same seed, same images
    assert again['image_scores'] == metrics['image_scores']
    print(f"bring your own data: {wall:.0f}s; captions exact {metrics['caption_exact']:.2f} (baseline {metrics['baseline_exact']:.2f}), "
          f"F1 {metrics['caption_f1']:.2f} ({metrics['baseline_f1']:.2f}); image colour match {metrics['image_score']:.2f}")
