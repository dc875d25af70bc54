"""The processor as a user meets it: a saved processor loads in a fresh process, bad input fails early
with a message that names what to fix."""
import subprocess, sys
import numpy as np
import PIL.Image
import pytest
from unified_mllm.documents import Text, Img
from unified_mllm.data import ShapesWorld, TASKS
from unified_mllm.processor import UnifiedProcessor, RECIPES

@pytest.fixture(scope='module')
def proc():
    return UnifiedProcessor.for_recipe('dreamllm')

def test_saved_processor_gives_same_ids_in_fresh_process(proc, tmp_path):
    docs = [ShapesWorld(32, 5).document(t, 0)[0] for t in TASKS]
    ids = proc(docs)['input_ids']
    proc.save_pretrained(tmp_path)
    code = f"""
from unified_mllm.processor import UnifiedProcessor
from unified_mllm.data import ShapesWorld, TASKS
p = UnifiedProcessor.from_pretrained({str(tmp_path)!r})
print(p([ShapesWorld(32, 5).document(t, 0)[0] for t in TASKS])['input_ids'].tolist())"""
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ids.tolist()

@pytest.mark.parametrize('recipe', RECIPES)
def test_every_task_through_every_recipe(recipe):
    p = UnifiedProcessor.for_recipe(recipe)
    docs = [ShapesWorld(32, 1).document(t, i)[0] for t in TASKS for i in range(2)]
    b = p(docs)
    n_seen = sum(isinstance(s, Img) and not s.made for d in docs for s in d)
    n_made = sum(isinstance(s, Img) and s.made for d in docs for s in d)
    assert b['made_pixel_values'].shape[0] == n_made
    assert b['pixel_values'].shape[0] >= n_seen           # DreamLLM adds the re-inserted copies
    assert (b['labels'] != -100).any(dim=1).all()          # every task has something to learn
    assert b['pixel_values'].min() >= -1 and b['pixel_values'].max() <= 1

def test_bad_input(proc):
    im = PIL.Image.new('RGB', (32, 32))
    with pytest.raises(TypeError, match='segment 1'): proc([[Text('hi'), 'oops']])
    with pytest.raises(ValueError, match='empty'): proc([[]])
    with pytest.raises(ValueError, match='empty batch'): proc([])
    with pytest.raises(ValueError, match='max_length'): proc([[Text('a ' * 50, 'target')]], max_length=8)
    with pytest.raises(ValueError, match='padding_side'): proc([[Text('hi')]], padding_side='middle')
    # non-RGB and off-size images are converted, not rejected
    b = proc([[Img(PIL.Image.new('L', (20, 20), 128)), Text('x', 'target')]])
    assert b['pixel_values'].shape[1:] == (3, 32, 32)

def test_truncation_never_splits_an_image_block(proc):
    doc, _ = ShapesWorld(32, 0).document('story', 0)
    full = proc([doc])['input_ids'].shape[1]
    for L in range(80, full, 23):
        b = proc([doc], max_length=L, truncation=True)
        assert b['input_ids'].shape[1] <= L
        ids = b['input_ids'][0].tolist()
        for pos in b['made_positions']:   # every made block kept is whole
            assert all(p < len(ids) for p in pos.tolist())
        assert b['made_pixel_values'].shape[0] == b['made_positions'].shape[0]
        assert b['pixel_values'].shape[0] == b['seen_positions'].shape[0]

def test_empty_image_is_refused_naming_its_segment(proc):
    ok = PIL.Image.new('RGB', (32, 32))
    for size in ((0, 0), (0, 32), (32, 0)):
        empty = Img(PIL.Image.new('RGB', size), 'made')
        with pytest.raises(ValueError, match=f'document 1: segment 2 is a {size[0]}x{size[1]} image'):
            proc([[Img(ok), Text('x', 'target')], [Img(ok), Text('edit:'), empty]])

def test_document_longer_than_the_model_is_refused():
    from unified_mllm.config import UnifiedConfig
    limit = UnifiedConfig.from_preset('dreamllm-toy').llm['max_position_embeddings']
    p = UnifiedProcessor.for_recipe('dreamllm', model_max_length=limit)
    long = [Text('a large red square in the top left. ' * 150, 'target')]
    n = UnifiedProcessor.for_recipe('dreamllm')([long])['input_ids'].shape[1]
    assert n > limit
    msg = f'document 0 is {n} tokens but the model takes at most {limit} \\(config.llm.max_position_embeddings\\)'
    with pytest.raises(ValueError, match=msg): p([long])
    with pytest.raises(ValueError, match='the model takes at most'): p([long], max_length=n)   # a larger max_length does not lift it
    assert p([long], truncation=True)['input_ids'].shape[1] == limit
    with pytest.raises(ValueError, match='model_max_length'): UnifiedProcessor.for_recipe('dreamllm', model_max_length=1)
