"""The foundation parts this version ships meet their gates — measured again here, on small held-out sets (the cards hold
the full-size measurements). Every test starts from the shipped weights; none trains a foundation part."""
import pytest, torch
from unified_mllm.foundation import load_part, shipped_parts, encoder_gates, dream_decoder_gates, decoder_fidelity, read_card, part_folder

def shipped(name):
    return pytest.mark.skipif(name not in shipped_parts(), reason=f'{name} is not shipped with this version')

@pytest.fixture(scope='module')
def judge(): return load_part('judge')

@pytest.fixture(scope='module')
def encoder(): return load_part('encoder')

@shipped('encoder')
def test_encoder_retrieves_and_reads_objects(encoder):
    "Zero-shot retrieval top-1 of 100 held-out captions, and the object probe at a tenth of the gate's probe data."
    g = encoder_gates(encoder, n_retrieval=100, probe_scenes=3000, probe_steps=400)
    assert g['retrieval_top1_of_100'] >= 0.95, g
    assert g['probe_cell'] >= 0.98 and g['probe_color_small'] >= 0.97 and g['probe_size_large'] >= 0.95, g
    assert min(g['probe_shape_small'], g['probe_shape_large']) >= 0.6, g   # (the full gate, 0.98, needs the 30,000-scene probe)

@shipped('decoder')
def test_dreamllm_decoder_draws_the_true_features(judge, encoder):
    "From the true features of 48 held-out scenes: objects right, no extra object, and robust to feature noise."
    g = dream_decoder_gates(load_part('decoder'), judge, encoder, n=48, sample_steps=15, sigmas=(0.3,))
    assert g['objects_right'] >= 0.85 and g['no_extra'] >= 0.95, g
    assert g['noise_curve']['0.3']['objects_right'] >= 0.8, g

@shipped('scale-decoders')
def test_puma_scale_decoders_gain_fidelity_coarse_to_fine(judge):
    "PUMA's decoders on 32 held-out scenes: the finest scale redraws the objects, and fidelity rises with the scale."
    g = decoder_fidelity(load_part('scale-decoders'), judge, n=32, sample_steps=15, sigmas=())
    assert g['objects_right'] >= 0.8 and g['no_extra'] >= 0.9, g
    per = g['objects_right_per_scale']
    assert per[-1] > per[-2] > per[0] and g['psnr_r'][-1] > g['psnr_r'][0], g

def full_gates(name):
    if name not in shipped_parts(): pytest.skip(f'{name} is not shipped')
    return read_card(part_folder(name))['gates']

def test_cards_record_the_gates_met():
    "Each shipped card records its gates as measured at full size (`unified-mllm pretrain`), and they meet the issue's targets."
    from unified_mllm.encoder import ENCODER_GATES
    g = full_gates('encoder')
    assert g['retrieval_top1_of_100'] >= 0.98
    for attr, target in ENCODER_GATES.items():
        for k in [k for k in g if k.startswith(f'probe_{attr}')]: assert g[k] >= target, (k, g[k], target)
    g = full_gates('judge')
    assert g['clean']['all'] >= 0.98 and g['references'] >= 0.98 and set(g['garbage'].values()) == {0.0}, g
    for name in ('decoder', 'scale-decoders'):
        if name not in shipped_parts(): continue
        g = full_gates(name)
        assert g['objects_right'] >= 0.9 and g['no_extra'] >= 0.95, (name, g)
    if 'scale-decoders' in shipped_parts(): assert full_gates('scale-decoders')['trend']['objects_right_per_scale'] == 'rises'
