"""Bad input to the unified model gets a clear error; save/load and cached generation are exact (fast checks)."""
import pytest, torch
from unified_mllm.config import UnifiedConfig
from unified_mllm.model import UnifiedMLLM
from unified_mllm.generate import generate, text_to_image
from unified_mllm.data import ShapesWorld
from unified_mllm.documents import Text


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return UnifiedMLLM.from_preset('dreamllm-toy')


@pytest.fixture(scope='module')
def batch(model):
    w = ShapesWorld(32, 0)
    return model.processor([w.document(t, i)[0] for i, t in enumerate(['captioning', 'text_to_image', 'editing'])])


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match='head.hidden_size=64 must equal llm.hidden_size=128'):
        UnifiedConfig.from_preset('dreamllm-toy', head={'hidden_size': 64})
    with pytest.raises(ValueError, match='pyramid_levels'):
        UnifiedConfig.from_preset('dreamllm-toy', vision={'pyramid_levels': 6})


def test_image_count_mismatch(model, batch):
    bad = dict(batch); bad['made_pixel_values'] = batch['made_pixel_values'][:1]
    with pytest.raises(ValueError, match='exactly one image per image block'):
        model(**bad)


def test_pixel_size(model, batch):
    bad = dict(batch); bad['pixel_values'] = torch.zeros(batch['pixel_values'].shape[0], 3, 40, 40)
    with pytest.raises(ValueError, match='40x40 but the vision encoder takes 32x32'):
        model(**bad)


def test_no_decoder(model):
    blind = UnifiedMLLM(UnifiedConfig.from_preset('dreamllm-toy', decoder=None), model.processor)
    with pytest.raises(RuntimeError, match='no diffusion decoder'):
        text_to_image(blind, 'a red circle.')
    with pytest.raises(RuntimeError, match='no diffusion decoder'):
        generate(blind, [Text('tell a story in pictures.')], max_images=1)


def test_save_load_roundtrip(model, batch, tmp_path):
    model.save_pretrained(tmp_path / 'm')
    again = UnifiedMLLM.from_pretrained(tmp_path / 'm')
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, again(**batch).logits)


def test_cached_equals_uncached(model):
    p = [Text('tell a story in pictures.')]
    a = generate(model, p, max_new_tokens=12, max_images=1, force_image=True, num_inference_steps=2, return_ids=True)[1]
    b = generate(model, p, max_new_tokens=12, max_images=1, force_image=True, num_inference_steps=2, return_ids=True, use_cache=False)[1]
    assert a == b
