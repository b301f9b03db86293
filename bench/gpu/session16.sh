#!/usr/bin/env bash
# Session 16, issue 16 item 4: MXQ's probed plans judged on text sampled from mpq-llama-42m itself.
# Two runs on one warm machine (a run returns at most 8 files, so each part comes back as a tarball):
#   part build (carry .gpudebs-cli .gpudata .gpu42a): stages the data and mpq-llama-42m's first
#     shard, builds mpq against the machine's CUDA LibTorch;
#   part self (carry .gpu42b): unpacks the model, samples calibration windows from it with
#     transformers (bench/reference/self_generate.py), takes the C4 windows of the default from a
#     GPTQ run's calibration.bin (the sampler's first 16 windows of 512: probed's 8 + 8), and sweeps
#     MXQ (auto -> probed) at every budget with each calibration file, WikiText-2 and C4 evaluated.
#   part cuda (carry .gpudebs-cli .gpudata; one run, when no second run can be had): builds, then
#     `--calib self` on the family fixtures on the CPU and on CUDA against the reference
#     (bench/reference/self_sample_reference.py: transformers' logits with Python's random), the
#     time to sample 16 x 512 from stories260K on CUDA, and stories260K's MXQ sweep with
#     `--calib c4+self` on CUDA (C4, 512-token windows, as docs/figures.md's stories260K rows).
# usage: [DEADLINE=epoch] session16.sh build|self|cuda OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
part=$1; O=$2; mkdir -p "$O/r"
if [ "$part" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -30 "$O/r/build.log"; exit 1; }
  source bench/gpu/env.sh
  D=/root/data16; C=/root/cal; mkdir -p $D $C
  tar xzf .gpudata/data.tar.gz -C $D && tar xzf .gpudata/s260.tar.gz -C $D
  export MPQ_DATA_DIR=$D
  mpq=build-cuda/app/cli/mpq
  for fam in llama3 qwen2 mistral qwen3_moe; do
    for dev in cpu cuda; do
      $mpq quantize tests/data/families/$fam --device $dev --method gptq --bits 4 --calib self --nsamples 4 --seqlen 32 \
        --out $C/$fam-$dev > $C/$fam-$dev.log 2>&1 || tail -3 $C/$fam-$dev.log
      python3 bench/reference/self_sample_reference.py tests/data/families/$fam $C/$fam-$dev/calibration.bin \
        | sed "s/^/$dev /" >> "$O/r/self_reference.txt" 2>&1
    done
  done
  S=$D/models/stories260K/stories260K.bin
  { /usr/bin/time -f "%e s" $mpq quantize $S --device cuda --method gptq --bits 4 --calib self --nsamples 16 --seqlen 512 \
      --out $C/s260self 2>&1 | tr '\r' '\n' | grep -E "sampling calibration text.*100%|[0-9] s$"; } > "$O/r/s260_sampling.txt" 2>&1
  lim=240; [ -n "${DEADLINE:-}" ] && lim=$(( DEADLINE - $(date +%s) - 15 ))
  timeout $lim $mpq sweep $S --device cuda --method mxq --budget 3.13,3.25,3.5,3.75,4.0,4.25,4.5,4.6 --calib c4+self \
    --eval-datasets c4 --eval-seqlen 512 --out $C/s260c4self > "$O/r/s260_c4self.log" 2> $C/s260c4self.err
  cp $C/s260c4self/sweep.json "$O/r/s260_c4self_sweep.json" 2>/dev/null
  exit 0  # the files in $O/r come back as they are (a run cut short by its limit still returns them)
elif [ "$part" = build ]; then
  mkdir -p /root/stage42 && cp -r .gpu42a .gpudata /root/stage42/
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -30 "$O/r/build.log"; exit 1; }
  tail -3 "$O/r/build.log"
else
  STAGE=/root/stage42 bash bench/gpu/seeds42m.sh "$O/r/unpack" none > "$O/r/unpack.log" 2>&1 || { cat "$O/r/unpack.log"; exit 1; }
  source bench/gpu/env.sh
  export MPQ_DATA_DIR=/root/data42
  M=/root/m42; C=/root/cal; W=/root/sweeps16; mkdir -p $C $W
  mpq=build-cuda/app/cli/mpq
  gen=bench/reference/self_generate.py
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  # The default's C4 windows: GPTQ's sampler with --nsamples 16 --seqlen 512 draws the windows
  # that probed draws with its default 8 + 8 (the same sampler, seed 0).
  $mpq quantize $M --device cuda --method gptq --bits 4 --nsamples 16 --seqlen 512 --out $C/c4q > "$O/r/c4q.log" 2>&1
  {
    python3 $gen $M $C/self16.bin --windows 16 --seqlen 512
    python3 $gen $M $C/self64.bin --windows 64 --seqlen 512
    python3 $gen $M $C/mix32.bin --windows 16 --seqlen 512 --mix $C/c4q/calibration.bin --layout mix
    python3 $gen $M $C/judge16.bin --windows 8 --seqlen 512 --mix $C/c4q/calibration.bin --layout judge
    python3 $gen $M $C/self16t07.bin --windows 16 --seqlen 512 --temperature 0.7
  } > "$O/r/generate.log" 2>&1
  cp $C/self16.bin "$O/r/" 2>/dev/null
  B=3.13,3.25,3.5,3.75,4.0,4.25,4.5,4.6
  run() {
    local name=$1; shift
    if [ -n "${DEADLINE:-}" ] && [ $(( DEADLINE - $(date +%s) )) -lt 60 ]; then echo "== $name: skipped (deadline)" >> "$O/r/sweeps.log"; return; fi
    echo "== $name: mpq sweep mpq-llama-42m --device cuda --method mxq --budget $B $*" >> "$O/r/sweeps.log"
    timeout 180 $mpq sweep $M --device cuda --method mxq --budget $B --out $W/$name "$@" 2> $W/$name.err >> "$O/r/sweeps.log"
    echo "rc=$?" >> "$O/r/sweeps.log"
    cp $W/$name/sweep.json "$O/r/${name}_sweep.json" 2>/dev/null
    cp $W/$name/mxq-costs.json "$O/r/${name}_mxq-costs.json" 2>/dev/null
  }
  run self16 --calib-tokens $C/self16.bin
  run judge16 --calib-tokens $C/judge16.bin
  run native_self --calib self
  run native_c4self --calib c4+self
  run mix32 --calib-tokens $C/mix32.bin
  run self64 --calib-tokens $C/self64.bin
  run self16t07 --calib-tokens $C/self16t07.bin
  ls $W/self16 > "$O/r/sweep_folder.txt" 2>&1
  grep -a "sampl" $W/native_self.err | tr '\r' '\n' | tail -3 > "$O/r/native_sampling.txt" 2>/dev/null
fi
tar czf "$O/session16-$part.tgz" -C "$O/r" .
