#!/usr/bin/env bash
# Session 18, issue 16 item 4: two-configuration plans ("pairs", bench/mxq/safe_plans.py --pair) and
# the default, both data sets with per-window NLL, on both shared models. Two runs on one warm machine:
#   part s260 (carry .gpudebs-cli .gpudata .gpu42a .gpuwork): stages mpq-llama-42m's first half,
#     builds mpq against the machine's CUDA LibTorch, then stories260K on CUDA (512-token windows,
#     WikiText-2 and C4): the pair plans and uniform points of .gpuwork/s260_pairs.json, the default
#     MXQ sweep at 8 budgets, and one evaluation on the CPU and on CUDA in fp32 (window means compared);
#   part 42m (carry .gpu42b): mpq-llama-42m, WikiText-2 and C4 (2048-token windows, fp16): the
#     default MXQ sweep at 8 budgets, then the pair plans and uniform points of .gpuwork/m42_pairs.json.
# .gpuwork/{m42,s260}_pairs.json: written here by bench/mxq/pair_tables.py from session 14's stored tables
# (docs/measurements/issue14-16-s14/{m42,s260}auto14_mxq-costs.json; list .gpuwork in .git/info/exclude).
#   parts s260b (carry .gpudebs-cli .gpudata .gpu42a) and 42mb (carry .gpu42b): the default again after the pair plans joined the probed
#     kind's candidates: stories260K (s260_default2) after the build, then mpq-llama-42m (m42_default2).
# usage: [DEADLINE=epoch] session18.sh s260|42m|s260b|42mb OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
part=$1; O=$2; mkdir -p "$O/r"
B=3.13,3.25,3.5,3.75,4.0,4.25,4.5,4.6
budgets() { python3 -c "import json,sys; print(','.join(repr(s['budget_bits_per_parameter']) for s in json.load(open(sys.argv[1]))['selections']))" "$1"; }
left() { local l=${1}; [ -n "${DEADLINE:-}" ] && l=$(( DEADLINE - $(date +%s) - 15 )); echo $l; }
# Stages the carried folders for the second run, builds mpq, unpacks the data (the first run of two).
build_and_stage() {
  mkdir -p /root/stage42 && cp -r "$@" /root/stage42/
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  GUI=0 TARGETS=mpq DEBS=.gpudebs-cli bash bench/gpu/build-cuda.sh > "$O/r/build.log" 2>&1 || { tail -30 "$O/r/build.log"; exit 1; }
  source bench/gpu/env.sh
  D=/root/data42; W=/root/s18; mkdir -p $D $W
  tar xzf .gpudata/data.tar.gz -C $D && tar xzf .gpudata/s260.tar.gz -C $D
  export MPQ_DATA_DIR=$D
}
# Unpacks mpq-llama-42m from what the first run staged and this run carries (.gpu42b).
unpack42() {
  STAGE=/root/stage42 bash bench/gpu/seeds42m.sh "$O/r/unpack" none > "$O/r/unpack.log" 2>&1 || { cat "$O/r/unpack.log"; exit 1; }
  source bench/gpu/env.sh
  export MPQ_DATA_DIR=/root/data42
}
if [ "$part" = s260b ]; then
  build_and_stage .gpu42a .gpudata
  { time timeout $(left 200) build-cuda/app/cli/mpq sweep $D/models/stories260K/stories260K.bin --device cuda --method mxq \
      --budget $B --eval-datasets wikitext2,c4 --eval-seqlen 512 --out $W/s260_default2; } > "$O/r/s260b.log" 2>&1
  cp $W/s260_default2/sweep.json "$O/r/s260_default2_sweep.json"; cp $W/s260_default2/mxq-costs.json "$O/r/s260_default2_mxq-costs.json"
elif [ "$part" = 42mb ]; then
  unpack42
  W=/root/s18; mkdir -p $W
  { time timeout $(left 300) build-cuda/app/cli/mpq sweep /root/m42 --device cuda --method mxq --budget $B --out $W/m42_default2; } > "$O/r/m42b.log" 2>&1
  cp $W/m42_default2/sweep.json "$O/r/m42_default2_sweep.json"; cp $W/m42_default2/mxq-costs.json "$O/r/m42_default2_mxq-costs.json"
elif [ "$part" = s260 ]; then
  build_and_stage .gpu42a .gpudata .gpuwork
  mpq=build-cuda/app/cli/mpq; S=$D/models/stories260K/stories260K.bin
  for dev in cpu cuda; do
    $mpq eval $S --device $dev --dtype fp32 --seqlen 512 --dataset wikitext2 --json > "$O/r/s260_eval_$dev.json" 2> $W/eval_$dev.err
  done
  E="--eval-datasets wikitext2,c4 --eval-seqlen 512"
  { time timeout $(left 200) $mpq sweep $S --device cuda --method mxq --budget $B $E --out $W/s260_default; } > "$O/r/s260.log" 2>&1
  { time timeout $(left 300) $mpq sweep $S --device cuda --method mxq --costs .gpuwork/s260_pairs.json \
      --budget "$(budgets .gpuwork/s260_pairs.json)" $E --out $W/s260_pairs; } >> "$O/r/s260.log" 2>&1
  for n in s260_default s260_pairs; do cp $W/$n/sweep.json "$O/r/${n}_sweep.json" 2>/dev/null; done
else
  unpack42
  mpq=build-cuda/app/cli/mpq; M=/root/m42; W=/root/s18; G=/root/stage42/.gpuwork; mkdir -p $W
  nvidia-smi --query-gpu=name,memory.total --format=csv > "$O/r/gpu.txt"
  { time timeout $(left 200) $mpq sweep $M --device cuda --method mxq --budget $B --out $W/m42_default; } > "$O/r/m42.log" 2>&1
  { time timeout $(left 400) $mpq sweep $M --device cuda --method mxq --costs $G/m42_pairs.json \
      --budget "$(budgets $G/m42_pairs.json)" --out $W/m42_pairs; } >> "$O/r/m42.log" 2>&1
  for n in m42_default m42_pairs; do cp $W/$n/sweep.json "$O/r/${n}_sweep.json" 2>/dev/null; cp $W/$n/mxq-costs.json "$O/r/${n}_mxq-costs.json" 2>/dev/null; done
fi
tar czf "$O/session18-$part.tgz" -C "$O/r" .
exit 0
