#!/usr/bin/env python3
"""Parity fixtures for the model families (issue 13), made with transformers on the GPU machine.

For each family a tiny random-weight checkpoint in the hub's layout (config.json as the hub writes
it, safetensors with the hub's tensor names, tokenizer.json + tokenizer_config.json), with random
norms and biases so that every feature changes the result, plus reference.json:
  - the token ids of text.txt as transformers' tokenizer(text) gives them (`tokenizers` library),
  - the GPTQ protocol's windows of `seqlen` tokens and transformers' fp32 mean NLL over them (model
    loaded back from the written folder with from_pretrained, eager attention, on the CPU),
  - the fp64 mean NLL of the same model (the fp32 noise floor),
  - for MoE families, the router's top-k expert indices of every MoE layer on the first window.
rope_tables.json holds transformers' cos/sin tables for every rope type, past the trained context
(dynamic NTK only acts there).

usage: make_family_fixtures.py OUT_DIR        (needs torch, transformers >= 5, tokenizers, safetensors)
The C++ tests read the result from tests/data/families/ (tst_families).
"""
import json
import math
import os
import random
import sys

import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoConfig, AutoModelForCausalLM

SEQLEN = 32
TOKENIZER_VOCAB = 320
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
              r"\s*[\r\n]+|\s+(?!\S)|\s+")


def make_text(seed=7, sentences=160):
    """Deterministic English-like text with digits, punctuation, contractions and a few non-ASCII words."""
    rng = random.Random(seed)
    words = ("the a model weight column bit width graph layer expert router token window rope scale "
             "quantize error matrix hessian budget memory learns keeps shows every small large it we they "
             "can't won't it's we're you'll café naïve Zürich 東京 data run slider curve").split()
    out = []
    for i in range(sentences):
        n = rng.randint(4, 14)
        s = " ".join(rng.choice(words) for _ in range(n))
        if rng.random() < 0.3:
            s += " %d" % rng.randint(0, 99999)
        s = s[0].upper() + s[1:] + rng.choice([".", ".", "!", "?", ";"])
        out.append(s)
        if i % 9 == 8:
            out.append("\n\n")
    return " ".join(out).replace(" \n\n ", "\n\n")


def byte_level_tokenizer(text, style):
    """A byte-level BPE tokenizer.json as Llama 3 ("llama3": BOS by TemplateProcessing) or Qwen
    ("qwen": NFC normalizer, no BOS) write them."""
    tok = Tokenizer(models.BPE(ignore_merges=(style == "llama3")))
    if style == "qwen":
        tok.normalizer = normalizers.NFC()
    split = LLAMA3_SPLIT if style == "llama3" else QWEN_SPLIT
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>"] if style == "llama3" else ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=TOKENIZER_VOCAB - len(specials), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator([text], trainer)
    tok.add_special_tokens(specials)
    if style == "llama3":
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                          special_tokens=[("<|begin_of_text|>", bos)])])
        config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
                  "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 131072}
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        config = {"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                  "tokenizer_class": "Qwen2Tokenizer", "model_max_length": 131072}
    return tok, config


def sentencepiece_style_tokenizer(text):
    """A SentencePiece-converted BPE tokenizer.json as LLaMA-2 and Mistral folders carry it:
    Metaspace pre-tokenizer, byte fallback (<0xXX> pieces), <s> added by TemplateProcessing."""
    specials = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    # Trained on words (pieces start with ▁ and never span two words), applied to the whole text
    # unsplit, as transformers' LLaMA converter writes it.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    trainer = trainers.BpeTrainer(vocab_size=TOKENIZER_VOCAB + 32, show_progress=False, special_tokens=specials,
                                  limit_alphabet=40)
    tok.train_from_iterator([text], trainer)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", bos)])
    config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
              "add_eos_token": False, "tokenizer_class": "LlamaTokenizerFast", "legacy": False}
    return tok, config


def fixtures():
    """(name, model_type, config kwargs, storage dtype, tokenizer style, config.json style). The
    config.json style "v5" is transformers 5's (dtype, rope_parameters); "rope_scaling" rewrites it
    as the hub's Llama-3.x and transformers 4 folders have it (torch_dtype, rope_theta, rope_scaling
    with rope_type); "type" as the oldest LLaMA-2 folders (rope_scaling with "type")."""
    base = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, hidden_act="silu",
                tie_word_embeddings=False)
    rope = lambda theta, **kw: dict(rope_type=kw.pop("rope_type", "default"), rope_theta=theta, **kw)
    return [
        ("llama3", "llama", dict(base, attention_bias=True, mlp_bias=True,
                                 rope_parameters=rope(10000.0, rope_type="llama3", factor=4.0, low_freq_factor=1.0,
                                                      high_freq_factor=4.0, original_max_position_embeddings=16)),
         torch.float32, "llama3", "rope_scaling"),
        ("llama2-linear", "llama", dict(base, tie_word_embeddings=True,
                                        rope_parameters=rope(10000.0, rope_type="linear", factor=2.0)),
         torch.float16, "spm", "type"),
        ("mistral", "mistral", dict(base, sliding_window=8, rope_parameters=rope(10000.0)), torch.bfloat16, "spm", "v5"),
        ("qwen2", "qwen2", dict(base, use_sliding_window=True, sliding_window=8, max_window_layers=1,
                                rope_parameters=rope(10000.0, rope_type="yarn", factor=4.0,
                                                     original_max_position_embeddings=16)),
         torch.float32, "qwen", "v5"),
        ("qwen3", "qwen3", dict(base, head_dim=12, attention_bias=True, tie_word_embeddings=True,
                                rope_parameters=rope(1000000.0)), torch.bfloat16, "qwen", "v5"),
        ("mixtral", "mixtral", dict(base, num_local_experts=4, num_experts_per_tok=2, sliding_window=8,
                                    intermediate_size=24, rope_parameters=rope(1000000.0)),
         torch.float32, "spm", "rope_scaling"),
        ("qwen2_moe", "qwen2_moe", dict(base, num_hidden_layers=3, num_experts=4, num_experts_per_tok=2,
                                        moe_intermediate_size=16, shared_expert_intermediate_size=24,
                                        norm_topk_prob=False, mlp_only_layers=[1], decoder_sparse_step=1,
                                        rope_parameters=rope(10000.0)),
         torch.float32, "qwen", "v5"),
        ("qwen3_moe", "qwen3_moe", dict(base, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
                                        norm_topk_prob=True, head_dim=8, rope_parameters=rope(10000.0)),
         torch.float32, "qwen", "v5"),
    ]


def randomize(model, seed):
    """Weights that make every feature matter: O(1) activations, norms and biases far from 1 and 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name or "q_norm" in name or "k_norm" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif p.dim() == 3:  # fused experts [E, out, in]
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
            elif name.endswith("mlp.gate.weight") or "shared_expert_gate" in name:
                p.copy_(2.0 * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
            else:
                p.copy_(1.5 * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))


def hub_state_dict(model, config):
    """The model's tensors under the hub's names: transformers 5 keeps experts fused in memory
    (experts.gate_up_proj [E, 2I, H], experts.down_proj [E, H, I]) and calls Mixtral's block "mlp"."""
    out = {}
    mixtral = config.model_type == "mixtral"
    for name, t in model.state_dict().items():
        t = t.detach().clone().contiguous()
        if ".mlp.experts.gate_up_proj" in name or ".mlp.experts.down_proj" in name:
            prefix = name.split(".mlp.experts.")[0] + (".block_sparse_moe.experts." if mixtral else ".mlp.experts.")
            for e in range(t.shape[0]):
                if name.endswith("gate_up_proj"):
                    gate, up = t[e].chunk(2, dim=0)
                    out[prefix + "%d.%s.weight" % (e, "w1" if mixtral else "gate_proj")] = gate.contiguous()
                    out[prefix + "%d.%s.weight" % (e, "w3" if mixtral else "up_proj")] = up.contiguous()
                else:
                    out[prefix + "%d.%s.weight" % (e, "w2" if mixtral else "down_proj")] = t[e].contiguous()
            continue
        if mixtral and ".mlp.gate." in name:
            name = name.replace(".mlp.gate.", ".block_sparse_moe.gate.")
        out[name] = t
    if config.tie_word_embeddings:
        out.pop("lm_head.weight", None)
    return out


def legacy_config(path, style):
    """Rewrite config.json as transformers 4 and the hub's older folders write it: torch_dtype,
    top-level rope_theta, rope_scaling (keyed "rope_type", or "type" in the oldest folders)."""
    with open(path) as f:
        j = json.load(f)
    params = j.pop("rope_parameters", None) or {}
    if "dtype" in j:
        j["torch_dtype"] = j.pop("dtype")
    j["rope_theta"] = params.pop("rope_theta", 10000.0)
    kind = params.pop("rope_type", "default")
    if kind == "default":
        j["rope_scaling"] = None
    else:
        j["rope_scaling"] = dict(params, **({"type": kind} if style == "type" else {"rope_type": kind}))
    with open(path, "w") as f:
        json.dump(j, f, indent=2)


def windows_of(ids):
    n = len(ids) // SEQLEN
    return [ids[i * SEQLEN:(i + 1) * SEQLEN] for i in range(n)]


def mean_nll(model, windows, dtype):
    model = model.to(dtype)
    total = 0.0
    with torch.no_grad():
        for w in windows:
            x = torch.tensor([w])
            out = model(input_ids=x, labels=x)
            total += float(out.loss.double())
    return total / len(windows)


def router_choices(model, config, window):
    """Top-k expert indices [tokens, k] of each MoE layer's router on one window."""
    seen = {}
    hooks = []
    for i, layer in enumerate(model.model.layers):
        gate = getattr(layer.mlp, "gate", None)
        if gate is None or not hasattr(gate, "top_k"):
            continue
        hooks.append(gate.register_forward_hook(lambda mod, inp, out, i=i: seen.__setitem__(i, out[2].tolist())))
    with torch.no_grad():
        model(input_ids=torch.tensor([window]))
    for h in hooks:
        h.remove()
    return {str(k): v for k, v in sorted(seen.items())}


def rope_tables(out_dir):
    """transformers' cos/sin (the model's rotary module) for each rope type at 2x the trained context."""
    kinds = {
        "default": {"rope_type": "default", "rope_theta": 10000.0},
        "linear": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
        "dynamic": {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0},
        "llama3": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
        "yarn": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 16},
        "yarn-mscale": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 16,
                        "mscale": 0.707, "mscale_all_dim": 0.707, "beta_fast": 16, "beta_slow": 2, "truncate": False},
    }
    result = {}
    for name, params in kinds.items():
        cfg = AutoConfig.for_model("llama", hidden_size=64, num_attention_heads=4, num_key_value_heads=4,
                                   intermediate_size=64, num_hidden_layers=1, vocab_size=32,
                                   max_position_embeddings=32, rope_parameters=dict(params))
        rotary = transformers.models.llama.modeling_llama.LlamaRotaryEmbedding(cfg)
        positions = 64
        x = torch.zeros(1, positions, 16)
        cos, sin = rotary(x, torch.arange(positions)[None])
        result[name] = {"config": {"hidden_size": 64, "num_attention_heads": 4, "max_position_embeddings": 32,
                                   "rope_parameters": params},
                        "positions": positions, "cos": cos[0].flatten().tolist(), "sin": sin[0].flatten().tolist()}
    with open(os.path.join(out_dir, "rope_tables.json"), "w") as f:
        json.dump(result, f)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    text = make_text()
    summary = {"transformers": transformers.__version__, "torch": torch.__version__, "seqlen": SEQLEN, "families": {}}
    for index, (name, model_type, cfg, storage, tok_style, config_style) in enumerate(fixtures()):
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        if tok_style == "spm":
            tok, tok_config = sentencepiece_style_tokenizer(text)
        else:
            tok, tok_config = byte_level_tokenizer(text, tok_style)
        tok.save(os.path.join(d, "tokenizer.json"))
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump(tok_config, f, indent=2)
        with open(os.path.join(d, "text.txt"), "w", encoding="utf-8") as f:
            f.write(text)
        vocab = tok.get_vocab_size() + (16 if tok_style == "qwen" else 0)  # Qwen pads vocab_size past its tokens
        cfg = dict(cfg, vocab_size=vocab)
        if tok_style == "spm":
            cfg["bos_token_id"] = tok.token_to_id("<s>")
            cfg["eos_token_id"] = tok.token_to_id("</s>")
        elif tok_style == "llama3":
            cfg["bos_token_id"] = tok.token_to_id("<|begin_of_text|>")
            cfg["eos_token_id"] = [tok.token_to_id("<|end_of_text|>"), tok.token_to_id("<|begin_of_text|>")]
        else:
            cfg["bos_token_id"] = None
            cfg["eos_token_id"] = tok.token_to_id("<|endoftext|>")
        config = AutoConfig.for_model(model_type, **cfg)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32, attn_implementation="eager")
        randomize(model, 1000 + index)
        model = model.to(storage).to(torch.float32)  # the stored values are exactly representable
        config.dtype = storage
        config.save_pretrained(d)
        if config_style != "v5":
            legacy_config(os.path.join(d, "config.json"), config_style)
        tensors = {k: v.to(storage) for k, v in hub_state_dict(model, config).items()}
        save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})

        ids = tok.encode(text).ids
        windows = windows_of(ids)
        # Eager attention and, for MoE, the per-expert loop (transformers' grouped-mm kernel has no fp64).
        try:
            loaded = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager",
                                                          experts_implementation="eager").eval()
        except (TypeError, ValueError):
            loaded = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
        for k, v in loaded.state_dict().items():  # the hub-format folder loads back to the same model
            assert torch.equal(v, model.state_dict()[k]), k
        nll32 = mean_nll(loaded, windows, torch.float32)
        try:
            nll64 = mean_nll(loaded, windows, torch.float64)
        except RuntimeError as e:
            print("%s: no fp64 reference (%s)" % (name, str(e).splitlines()[0]), flush=True)
            nll64 = None
        ref = {"family": model_type, "seqlen": SEQLEN, "windows": len(windows), "ids": ids,
               "mean_nll_fp32": nll32, "mean_nll_fp64": nll64, "storage": str(storage).replace("torch.", ""),
               "transformers": transformers.__version__}
        if model_type in ("mixtral", "qwen2_moe", "qwen3_moe"):
            ref["router_topk_window0"] = router_choices(loaded.to(torch.float32), config, windows[0])
        ref["nll_fp32_windows"] = [mean_nll(loaded, [w], torch.float32) for w in windows[:3]]
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f)
        summary["families"][name] = {"model_type": model_type, "mean_nll_fp32": nll32, "mean_nll_fp64": nll64,
                                     "tokens": len(ids), "windows": len(windows)}
        print("%-14s %-10s fp32 %.9f  fp64 %s  tokens %d" % (name, model_type, nll32, nll64, len(ids)), flush=True)
    rope_tables(out_dir)
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
