"""The recipe seam, proved from outside the package: this file defines a new image-generation head and a new per-layer
context module, registers them, and runs them through the library's config checks, model, trainer, KV-cached generation
loop and save/load — without editing any library module."""
import pytest, torch, torch.nn as nn
from unified_mllm.config import UnifiedConfig, REQUIRED
from unified_mllm.decoder import pool_to_tokens
from unified_mllm.model import UnifiedMLLM, ImageHead, LayerContext, register_head, register_layer_context
from unified_mllm.processor import UnifiedProcessor
from unified_mllm.data import ShapesWorld
from unified_mllm.documents import Text
from unified_mllm.generate import generate
from unified_mllm.train import Stage, Trainer


@register_head('tiny')
class TinyHead(ImageHead):
    "One learned slot embedding repeated K times; a linear map of the slots' hidden states is the decoder condition."
    fields = {**ImageHead.fields, 'n_queries': (int, REQUIRED), 'cond_dim': (int, REQUIRED)}
    param_groups = {'proj': 'proj'}

    @classmethod
    def check_config(cls, config):
        super().check_config(config)
        if config.processor['made']['n_slots'] != config.head['n_queries']:
            raise ValueError('UnifiedConfig.head.n_queries must equal processor.made.n_slots')

    def __init__(self, config):
        super().__init__()
        h = config.head
        self.k = h['n_queries']
        self.slot = nn.Parameter(torch.randn(h['hidden_size']) * 0.02)
        self.proj = nn.Linear(h['hidden_size'], h['cond_dim'])

    def made_slot_embeddings(self, n, model=None, pixels=None): return self.slot.expand(n, self.k, -1)
    def condition(self, hidden): return self.proj(hidden)
    def image_loss(self, model, hidden, batch): return model.decoder.loss(batch['made_pixel_values'], self.condition(hidden))
    @torch.no_grad()
    def image_features(self, model, pixel_values): return pool_to_tokens(model.vision(pixel_values, output='grid'), self.k)

    @torch.no_grad()
    def generate_image(self, model, step, *, generator=None, guidance_scale=None, num_inference_steps=None, sample=True,
                       last_hidden=None):
        close = model.llm.get_input_embeddings()(torch.tensor([[model.token_ids['made_close']]]))
        h = step(torch.cat([self.made_slot_embeddings(1), close], 1))
        cond = self.condition(h[:, :self.k])
        if not sample: return None, cond
        return self.sample(model, cond, generator=generator, guidance_scale=guidance_scale,
                           num_inference_steps=num_inference_steps), cond


@register_layer_context('gated_look')
class GatedLook(LayerContext):
    "Each token adds tanh(gate) x a projection of the mean feature of the images it may see (gate starts at `gate`)."
    fields = {'gate': (float, 0.0)}

    def __init__(self, config, layer):
        super().__init__(config, layer)
        self.proj = nn.Linear(config.vision['hidden_size'], config.llm['hidden_size'])
        self.gate = nn.Parameter(torch.tensor(config.layer_context['gate']))

    def forward(self, hidden, images):
        if images is None or images.features.shape[0] == 0: return torch.zeros_like(hidden)
        vis = images.visible().to(hidden.dtype)                                   # [B, L, n]
        per_image = self.proj(images.features.mean(1)).to(hidden.dtype)          # [n, D]
        seen = vis @ per_image / vis.sum(-1, keepdim=True).clamp_min(1)
        return torch.tanh(self.gate) * seen


HEAD = {'type': 'tiny', 'hidden_size': 128, 'n_queries': 64, 'cond_dim': 64}
CTX = {'type': 'gated_look', 'layers': [1, 3]}

def _model(layer_context=None, seed=0):
    torch.manual_seed(seed)
    cfg = UnifiedConfig.from_preset('dreamllm-toy', head=HEAD, layer_context=layer_context)
    return UnifiedMLLM(cfg, UnifiedProcessor.for_recipe('dreamllm'))

@pytest.fixture(scope='module')
def batch():
    w = ShapesWorld(32, 0)
    return UnifiedProcessor.for_recipe('dreamllm')([w.document(t, i)[0] for i, t in enumerate(['captioning', 'text_to_image', 'editing'])])


def test_config_checks_the_new_parts():
    with pytest.raises(ValueError, match="unknown key 'n_querys'"):
        UnifiedConfig.from_preset('dreamllm-toy', head={**HEAD, 'n_querys': 3})
    with pytest.raises(TypeError, match="head.cond_dim='x' must be int"):
        UnifiedConfig.from_preset('dreamllm-toy', head={**HEAD, 'cond_dim': 'x'})
    with pytest.raises(ValueError, match='layer_context.layers'):
        UnifiedConfig.from_preset('dreamllm-toy', head=HEAD, layer_context={**CTX, 'layers': [9]})
    c = UnifiedConfig.from_preset('dreamllm-toy', head=HEAD, layer_context=CTX)
    assert c.head_class is TinyHead and c.layer_context['gate'] == 0.0      # defaults filled in


def test_zero_gate_is_bit_identical(batch):
    plain, ctx = _model(), _model(CTX)
    missing, unexpected = ctx.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all(k.startswith('layer_context.') for k in missing)
    plain.eval(); ctx.eval()
    with torch.no_grad():
        assert torch.equal(plain(**batch).logits, ctx(**batch).logits)
        for m in ctx.layer_context.values(): m.gate.fill_(0.5)
        moved = ctx(**batch).logits
    assert not torch.equal(plain(**batch).logits, moved)
    first = batch['seen_positions'][batch['seen_batch_index'] == 1][:, 0].min()   # text-to-image: its image is re-inserted as seen
    assert torch.equal(plain(**batch).logits[1, :first + 1], moved[1, :first + 1])  # tokens up to there see no image yet


def test_train_generate_save_load(tmp_path, batch):
    model = _model({**CTX, 'gate': 0.1})
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    stage = Stage('s', ('llm', 'proj', 'layer_context'), {'captioning': 0.5, 'text_to_image': 0.5}, 3, lr=1e-3, batch_size=2,
                  image_weight=1.0)
    tr = Trainer(model, [stage], tmp_path / 'run', progress=False).train()
    assert len(tr.history) == 3 and all(torch.isfinite(torch.tensor(h['loss'])) for h in tr.history)
    changed = {n.split('.')[0] + ('.' + n.split('.')[1] if n.startswith('head') else '')
               for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {'llm', 'head.proj', 'layer_context'}                  # exactly the groups the stage names
    p = [Text('tell a story in pictures.')]
    kw = dict(max_new_tokens=6, max_images=1, force_image=True, num_inference_steps=2, return_ids=True)
    doc, ids = generate(model, p, **kw)
    assert ids == generate(model, p, use_cache=False, **kw)[1]               # the cached loop sees the made image too
    assert ids[0] == model.token_ids['made_open'] and sum(getattr(s, 'made', False) for s in doc) == 1
    model.save_pretrained(tmp_path / 'm')
    again = UnifiedMLLM.from_pretrained(tmp_path / 'm')
    model.eval()
    with torch.no_grad(): assert torch.equal(model(**batch).logits, again(**batch).logits)
    with pytest.raises(ValueError, match='this model does not have'):
        Trainer(model, [Stage('q', ('queries',), {'vqa': 1.0}, 1)], tmp_path / 'x')


def test_every_decoder_a_head_declares_loads_from_local_folders(tmp_path):
    "PUMA's head declares one UNet folder per scale; from_local_folders fills each of the per-scale decoders from its own folder."
    from transformers import LlamaConfig, LlamaForCausalLM, CLIPVisionConfig, CLIPVisionModel
    from diffusers import UNet2DConditionModel
    from unified_mllm.full_scale import from_local_folders
    cfg = UnifiedConfig.from_preset('puma-toy')
    parts = cfg.head_class.decoder_parts(cfg)
    assert sorted(parts) == ['unet-1', 'unet-16', 'unet-4', 'unet-64']
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(**{k: v for k, v in cfg.llm.items() if k != 'model_type'})).save_pretrained(tmp_path / 'llm')
    CLIPVisionModel(cfg.vision_config()).save_pretrained(tmp_path / 'clip')
    folders = {'llm': tmp_path / 'llm', 'vision': tmp_path / 'clip'}
    for p in parts:
        UNet2DConditionModel(**cfg.decoder['unet']).save_pretrained(tmp_path / p); folders[p] = tmp_path / p
    model = from_local_folders(cfg, folders)
    for k, p in enumerate(sorted(parts, key=lambda p: int(p.split('-')[1]))):
        saved = UNet2DConditionModel.from_pretrained(tmp_path / p, use_safetensors=True).state_dict()
        got = model.decoder.decoders[k].unet.state_dict()
        assert all(torch.equal(got[n], saved[n]) for n in saved), p            # scale k's decoder holds folder unet-<tokens>
    with pytest.raises(ValueError, match="no 'unet-4' entry"):
        from_local_folders(cfg, {k: v for k, v in folders.items() if k != 'unet-4'})


def test_layer_context_sees_made_images_after_their_block():
    "A PUMA made image (no seen copy) is readable by the tokens after its block, never by its own slots; generation agrees."
    torch.manual_seed(0)
    model = UnifiedMLLM.from_preset('puma-toy', layer_context={**CTX, 'gate': 0.5})
    w = ShapesWorld(32, 0)
    b = model.check_batch(dict(model.processor([w.document('text_to_image', 0)[0]])))
    ctx = model.image_context(b)
    assert ctx.features.shape[0] == 1 and int(ctx.start[0]) == int(b['made_positions'][0, -1]) + 1   # after </img>
    vis = ctx.visible()[0, :, 0]
    assert not vis[:int(b['made_positions'][0, -1]) + 2].any() and vis[int(b['made_positions'][0, -1]) + 2:].all()
    p = [Text('tell a story in pictures.')]
    kw = dict(max_new_tokens=4, max_images=1, force_image=True, num_inference_steps=1, guidance_scale=1.0, return_ids=True)
    assert generate(model, p, **kw)[1] == generate(model, p, use_cache=False, **kw)[1]
