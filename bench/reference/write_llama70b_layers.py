#!/usr/bin/env python3
"""Writes a checkpoint with LLaMA-3-70B's shapes and its first N decoder layers (issue 14's
"real file"): bf16 safetensors shards of about 3.5 GB with a model.safetensors.index.json,
config.json (hidden 8192, intermediate 28672, 64 heads / 8 KV heads, vocab 128256, Llama 3.1's
rope scaling), and the tokenizer files copied from TOKENIZER_DIR. Weights are N(0, 0.02²) made on
the GPU with a fixed seed (norms 1): the file exercises reading, streaming and memory, not quality.

usage: write_llama70b_layers.py OUT_DIR TOKENIZER_DIR [LAYERS=8]
"""
import json, os, shutil, sys, time

import torch
from safetensors.torch import save_file

out, tok = sys.argv[1], sys.argv[2]
layers = int(sys.argv[3]) if len(sys.argv) > 3 else 8
H, I, heads, kv, V = 8192, 28672, 64, 8, 128256
hd = H // heads
os.makedirs(out, exist_ok=True)
g = torch.Generator(device="cuda").manual_seed(0)


def randn(*shape):
    return (torch.randn(*shape, generator=g, device="cuda", dtype=torch.float32) * 0.02).to(torch.bfloat16).cpu()


def layer_tensors(i):
    p = f"model.layers.{i}."
    return {
        p + "self_attn.q_proj.weight": randn(heads * hd, H),
        p + "self_attn.k_proj.weight": randn(kv * hd, H),
        p + "self_attn.v_proj.weight": randn(kv * hd, H),
        p + "self_attn.o_proj.weight": randn(H, heads * hd),
        p + "mlp.gate_proj.weight": randn(I, H),
        p + "mlp.up_proj.weight": randn(I, H),
        p + "mlp.down_proj.weight": randn(H, I),
        p + "input_layernorm.weight": torch.ones(H, dtype=torch.bfloat16),
        p + "post_attention_layernorm.weight": torch.ones(H, dtype=torch.bfloat16),
    }


t0 = time.time()
shards = [{"model.embed_tokens.weight": randn(V, H)}]
for i in range(0, layers, 2):
    s = {}
    for j in range(i, min(i + 2, layers)):
        s.update(layer_tensors(j))
    shards.append(s)
shards[-1]["model.norm.weight"] = torch.ones(H, dtype=torch.bfloat16)
shards[-1]["lm_head.weight"] = randn(V, H)

weight_map, total = {}, 0
for k, s in enumerate(shards):
    name = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
    save_file(s, os.path.join(out, name), metadata={"format": "pt"})
    for t, v in s.items():
        weight_map[t] = name
        total += v.numel() * v.element_size()
    del s
with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
cfg = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H,
    "intermediate_size": I, "num_attention_heads": heads, "num_key_value_heads": kv,
    "num_hidden_layers": layers, "vocab_size": V, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    "max_position_embeddings": 131072, "hidden_act": "silu", "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "bos_token_id": 128000, "eos_token_id": 128001,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
}
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
for f in os.listdir(tok):
    shutil.copy(os.path.join(tok, f), out)
print(f"wrote {out}: {layers} decoder layers, {len(shards)} shards, {total / 2**30:.2f} GiB in {time.time() - t0:.1f} s")
