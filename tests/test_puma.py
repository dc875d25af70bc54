"""PUMA's head on the shared model: determinism and clear errors (the behaviour tests are in nbs/16_puma.ipynb)."""
import pytest, torch
from unified_mllm.config import UnifiedConfig
from unified_mllm.model import UnifiedMLLM
from unified_mllm.documents import Text
from unified_mllm.puma import generate_features, make_images, puma_stages

def _model(seed=0):
    torch.manual_seed(seed)
    m = UnifiedMLLM.from_preset('puma-toy', llm={'num_hidden_layers': 1})
    m.decoder.set_blanks(m)      # untrained decoders: guide against this encoder's black-image features
    return m

def test_same_seed_same_features_and_pixels():
    a, b = _model(), _model()
    p = [[Text('a large red circle.')]]
    fa, fb = generate_features(a, p), generate_features(b, p)
    assert torch.equal(fa, fb) and fa.shape == (1, 85, 64)
    ia = make_images(a, p, scales=[1], num_inference_steps=2)[1][0]
    ib = make_images(b, p, scales=[1], num_inference_steps=2)[1][0]
    assert ia.tobytes() == ib.tobytes()

def test_bad_input_fails_clearly():
    m = _model()
    with pytest.raises(ValueError, match='teacher forcing'): m.head.made_slot_embeddings(1)
    with pytest.raises(ValueError, match='not a pyramid scale'): make_images(m, [[Text('a circle.')]], scales=[3])
    with pytest.raises(ValueError, match='"all"'): make_images(m, [[Text('a circle.')]], scales='some')
    with pytest.raises(ValueError, match='needs 4 weights'): UnifiedConfig.from_preset('puma-toy', head={'scale_weights': [1.0]})
    with pytest.raises(ValueError, match='unknown stages'): puma_stages({'pretrain': 1})
    dream = UnifiedMLLM.from_preset('dreamllm-toy', llm={'num_hidden_layers': 1})
    with pytest.raises(TypeError, match='PUMA'): generate_features(dream, [[Text('a circle.')]])
