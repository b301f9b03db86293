#!/usr/bin/env python3
"""Copies of two family fixtures that llama.cpp's architectures can hold (docs/gguf.md, "Every
family in llama.cpp"); the other six fixtures are exported as they are.

  qwen3      attention_bias false: the fixture has q/k/v/o biases, and llama.cpp's qwen3 has no
             o_proj bias (a real Qwen3 has no biases); the bias tensors stay in the file and are
             ignored by the loader.
  qwen2_moe  the first decoder layer only: the fixture's layer 1 is dense (mlp_only_layers) and
             llama.cpp's qwen2moe makes every layer a mixture of experts.

Usage: bench/reference/gguf_family_fixtures.py FAMILIES_DIR OUT_DIR (standard library only).
"""
import json
import os
import shutil
import sys

src, out = sys.argv[1], sys.argv[2]
changes = {
    "qwen3": {"attention_bias": False},
    "qwen2_moe": {"num_hidden_layers": 1, "mlp_only_layers": [], "layer_types": None},
}
for name, change in changes.items():
    dst = os.path.join(out, name)
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(os.path.join(src, name)):
        shutil.copy(os.path.join(src, name, f), dst)
    cfg = json.load(open(os.path.join(src, name, "config.json")))
    for k, v in change.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    print(dst)
