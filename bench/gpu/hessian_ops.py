"""Times the dense operations behind GPTQ at LLaMA-70B shapes on the GPU (issue 14): the
Hessian accumulation X^T X per 2048-token window (fp32 with TF32, or bf16 inputs with fp32
accumulation into the fp32 H), and the factorisations GPTQ runs on H. Prints one JSON line per
operation. usage: python3 hessian_ops.py [OUT.json]"""
import json, sys, time
import torch

dev = "cuda"
torch.manual_seed(0)
res = []

def timed(name, fn, reps=3, **extra):
    fn(); torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    s = (time.perf_counter() - t) / reps
    res.append(dict(op=name, seconds=s, **extra)); print(json.dumps(res[-1]), flush=True)
    return s

for n in (8192, 28672):
    x = torch.randn(16, 2048, n, device=dev).to(torch.bfloat16)   # 16 windows of activations
    H = torch.zeros(n, n, device=dev)
    flops = 2.0 * 16 * 2048 * n * n
    def tf32():
        torch.backends.cuda.matmul.allow_tf32 = True
        for b in range(16):
            w = x[b].float(); H.addmm_(w.t(), w)
    def bf16_out32():
        for b in range(16):
            w = x[b]; torch.addmm(H, w.t(), w, out_dtype=torch.float32, out=H)
    def bf16_batched():
        w = x.reshape(-1, n); torch.addmm(H, w.t(), w, out_dtype=torch.float32, out=H)
    for name, fn in (("hessian_tf32_per_window", tf32), ("hessian_bf16_fp32acc_per_window", bf16_out32),
                     ("hessian_bf16_fp32acc_16_windows", bf16_batched)):
        try:
            s = timed(name, fn, n=n, windows=16)
            res[-1]["tflops"] = flops / s / 1e12
        except Exception as e:  # an API this torch lacks
            res.append(dict(op=name, n=n, error=str(e)[:200])); print(json.dumps(res[-1]))
    # Agreement of the bf16 path with fp32 (TF32 off) on one window.
    torch.backends.cuda.matmul.allow_tf32 = False
    w = x[0]
    ref = w.float().t() @ w.float()
    try:
        got = torch.mm(w.t(), w, out_dtype=torch.float32)
        res.append(dict(op="bf16_fp32acc_vs_fp32", n=n, max_rel=float(((got - ref).abs().max() / ref.abs().max()).item())))
        print(json.dumps(res[-1]))
    except Exception as e:
        print("mm out_dtype:", e)
    del x
    Hs = (H / H.diagonal().mean()) + 0.01 * torch.eye(n, device=dev)
    timed("cholesky", lambda: torch.linalg.cholesky_ex(Hs), reps=2, n=n)
    L = torch.linalg.cholesky_ex(Hs)[0]
    timed("cholesky_inverse", lambda: torch.cholesky_inverse(L), reps=2, n=n)
    torch.backends.cuda.matmul.allow_tf32 = False
    del H, Hs, L
    torch.cuda.empty_cache()
if len(sys.argv) > 1:
    json.dump(res, open(sys.argv[1], "w"), indent=1)
