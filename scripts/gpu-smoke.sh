#!/usr/bin/env bash
# GPU smoke test: what an operator runs on a new GPU node pool, and what proves the GPU path the
# first time. At most about five minutes on one GPU machine from a fresh clone:
#
#   1. installs with ONNX Runtime's CUDA provider (npm ci, then onnxruntime-node's install script
#      with ONNXRUNTIME_NODE_INSTALL=cuda12; needs internet) and builds; checks that the
#      provider's libraries resolve (check-provider-deps.sh)
#   2. the golden fixture's reference cases on cuda vs the reference outputs (TF32 off for this
#      step: NVIDIA_TF32_OVERRIDE=0; tolerance 1e-3)
#   3. the raw engine on a full-width random model, on cuda and on cpu with the same thread count
#   4. the service under UNSEEDED POST /generate load on cuda (a seeded rerun would be a cache hit)
#   5. prints nvidia-smi utilisation during 3-4, images/s on both providers and the comparison
#
# It fails loudly (exit 1, "FAIL: ...") when the work ran on the CPU: a step that reports a
# backend other than cuda, GPU utilisation that never rose, or cuda no faster than cpu.
#
# Usage: scripts/gpu-smoke.sh [--skip-install] [--threads N] [--seconds S] [--preset biggan-deep-128]
#        scripts/gpu-smoke.sh --cpu-only [--expect cuda]   (no GPU: the same steps on the cpu provider
#                                                            with a narrow model; run by npm test)
set -euo pipefail
cd "$(dirname "$0")/.."

CPU_ONLY=0 INSTALL=1 THREADS=4 SECONDS_PER_STEP=8 PRESET=biggan-deep-128 EXPECT="" CLIENTS=32
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cpu-only) CPU_ONLY=1; INSTALL=0 ;;
    --skip-install) INSTALL=0 ;;
    --threads) THREADS="$2"; shift ;;
    --seconds) SECONDS_PER_STEP="$2"; shift ;;
    --preset) PRESET="$2"; shift ;;
    --expect) EXPECT="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "gpu-smoke: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
BACKEND=cuda
if [[ "$CPU_ONLY" == 1 ]]; then BACKEND=cpu CLIENTS=4; fi
EXPECT="${EXPECT:-$BACKEND}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu-smoke.XXXXXX")"
SAMPLER=""
cleanup() {
  if [[ -n "$SAMPLER" ]]; then kill "$SAMPLER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
FAILS=()
fail() { FAILS+=("$1"); echo "gpu-smoke: FAIL: $1" >&2; }
step() { echo; echo "== $*"; }
# Reads field $2 (a JS expression over `j`) of the JSON on the last line of file $1.
field() { node -e "const l=require('fs').readFileSync(process.argv[1],'utf8').trim().split('\n').pop();const j=JSON.parse(l);console.log($2)" "$1"; }
smoke() { node dist/src/bench/gpu-smoke.js "$@"; }

step "machine"
if [[ "$CPU_ONLY" == 0 ]]; then
  command -v nvidia-smi >/dev/null || { echo "gpu-smoke: FAIL: nvidia-smi not found: no NVIDIA driver here" >&2; exit 1; }
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
fi
node --version

if [[ "$INSTALL" == 1 ]]; then
  step "install with the CUDA provider and build"
  npm ci --no-audit --no-fund
  # package.json's allowScripts makes npm 11 skip onnxruntime-node's install script: run it for CUDA 12.
  ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
  npm run build
fi
if [[ "$CPU_ONLY" == 0 ]]; then
  bash scripts/check-provider-deps.sh
fi

step "model: random full-size $PRESET (no download)"
WIDTH=128
if [[ "$CPU_ONLY" == 1 ]]; then WIDTH=16; fi # narrow: the CPU-only run checks the steps, not speed
node dist/src/cli/main.js init-random --preset "$PRESET" --channel-width "$WIDTH" --out "$WORK/model" >/dev/null

step "golden fixture on $BACKEND vs the reference (TF32 off)"
NVIDIA_TF32_OVERRIDE=0 smoke fixture --weights test/fixtures/tiny-128 --backend "$BACKEND" --threads "$THREADS" --tolerance 1e-3 | tee "$WORK/fixture.json"

if [[ "$CPU_ONLY" == 0 ]]; then
  # Sampled every 250 ms while the GPU steps run; CSV: utilization.gpu %, memory.used MiB.
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 250 > "$WORK/smi.csv" &
  SAMPLER=$!
fi
step "raw engine on $BACKEND, $THREADS threads"
smoke engine --weights "$WORK/model" --backend "$BACKEND" --threads "$THREADS" --seconds "$SECONDS_PER_STEP" | tee "$WORK/engine-$BACKEND.json"
step "service on $BACKEND under unseeded load"
smoke serve --weights "$WORK/model" --backend "$BACKEND" --threads "$THREADS" --seconds "$SECONDS_PER_STEP" --concurrency "$CLIENTS" | tee "$WORK/serve.json"
if [[ -n "$SAMPLER" ]]; then kill "$SAMPLER" 2>/dev/null || true; SAMPLER=""; fi
step "raw engine on cpu, $THREADS threads (the comparison)"
if [[ "$BACKEND" == cpu ]]; then cp "$WORK/engine-cpu.json" "$WORK/engine-cpu-ref.json"; else
  smoke engine --weights "$WORK/model" --backend cpu --threads "$THREADS" --seconds "$SECONDS_PER_STEP" | tee "$WORK/engine-cpu-ref.json"
fi

step "summary"
for s in fixture engine-$BACKEND serve; do
  ran="$(field "$WORK/$s.json" j.backend)"
  echo "$s ran on: $ran"
  if [[ "$ran" != "$EXPECT" ]]; then fail "$s ran on $ran, not $EXPECT: the work ran on the CPU"; fi
done
echo "fixture: max |diff| $(field "$WORK/fixture.json" j.maxAbsDiff) (tolerance 1e-3)"
[[ "$(field "$WORK/fixture.json" j.ok)" == true ]] || fail "the fixture differs from the reference beyond 1e-3"
GPU_RATE="$(field "$WORK/engine-$BACKEND.json" 'j.best.imagesPerSecond.toFixed(2)')"
CPU_RATE="$(field "$WORK/engine-cpu-ref.json" 'j.best.imagesPerSecond.toFixed(2)')"
echo "raw engine: $BACKEND $GPU_RATE images/s (batch $(field "$WORK/engine-$BACKEND.json" j.best.batchSize)), cpu $CPU_RATE images/s, $THREADS threads each"
echo "service: $(field "$WORK/serve.json" 'j.imagesPerSecond.toFixed(2)') images/s over HTTP (unseeded, $CLIENTS clients), p50 $(field "$WORK/serve.json" 'j.p50Ms.toFixed(0)') ms, p99 $(field "$WORK/serve.json" 'j.p99Ms.toFixed(0)') ms, non-200 $(field "$WORK/serve.json" j.non200), errors $(field "$WORK/serve.json" j.errors)"
# Refusals (503 when the predicted wait is too long) are the service working as designed under
# overload; connection errors, or no image at all, are not.
[[ "$(field "$WORK/serve.json" 'j.errors === 0 && j.imagesPerSecond > 0')" == true ]] || fail "the service failed under load (connection errors or no image served)"
if [[ "$CPU_ONLY" == 0 ]]; then
  echo "speed-up cuda / cpu: $(node -e "console.log(($GPU_RATE / $CPU_RATE).toFixed(1))")x"
  node -e "const r=$GPU_RATE>$CPU_RATE;process.exit(r?0:1)" || fail "cuda ($GPU_RATE images/s) is no faster than cpu ($CPU_RATE): the work ran on the CPU"
  UTIL="$(awk -F', *' '{ if ($1+0 > max) max = $1+0; sum += $1; n++ } END { printf "max %d%% mean %.0f%% over %d samples; memory.used max ", max, (n ? sum / n : 0), n }' "$WORK/smi.csv")"
  MEM="$(awk -F', *' '{ if ($2+0 > m) m = $2+0 } END { print m " MiB" }' "$WORK/smi.csv")"
  echo "nvidia-smi utilization.gpu: $UTIL$MEM"
  MAXUTIL="$(awk -F', *' '{ if ($1+0 > max) max = $1+0 } END { print max + 0 }' "$WORK/smi.csv")"
  if (( MAXUTIL < 20 )); then fail "GPU utilisation never passed 20% (max $MAXUTIL%): the work ran on the CPU"; fi
fi
if (( ${#FAILS[@]} > 0 )); then
  echo; echo "gpu-smoke: FAILED (${#FAILS[@]}):" >&2
  printf '  - %s\n' "${FAILS[@]}" >&2
  exit 1
fi
echo; echo "gpu-smoke: PASSED ($BACKEND)"
