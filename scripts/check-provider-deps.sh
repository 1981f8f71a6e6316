#!/usr/bin/env bash
# Image build step: checks that onnxruntime-node's GPU provider libraries can find every shared
# library they depend on (`ldd -r`), so that a missing CUDA / cuDNN library fails `docker build`
# with its name instead of failing the first session at run time with "Failed to load shared
# library". libcuda.so.1 is ignored: it is the driver's library, which the NVIDIA container
# toolkit mounts into the container at run time, so it is absent while building.
#
# Usage: scripts/check-provider-deps.sh [FOLDER]   (default: onnxruntime-node's linux/x64 bin folder)
# Exit status: 0 when every dependency resolves, 1 when one is missing (each printed), 2 on bad use.
set -euo pipefail

folder="${1:-node_modules/onnxruntime-node/bin/napi-v6/linux/x64}"
libs=("$folder/libonnxruntime_providers_shared.so" "$folder/libonnxruntime_providers_cuda.so")
if [[ -f "$folder/libonnxruntime_providers_tensorrt.so" ]]; then libs+=("$folder/libonnxruntime_providers_tensorrt.so"); fi
command -v ldd >/dev/null || { echo "check-provider-deps: ldd is not installed" >&2; exit 2; }

missing=0
for lib in "${libs[@]}"; do
  if [[ ! -f "$lib" ]]; then
    echo "check-provider-deps: $lib does not exist (install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12)" >&2
    missing=1
    continue
  fi
  # LD_LIBRARY_PATH gets the folder itself: ORT loads the providers from there, after
  # libonnxruntime_providers_shared.so (which the provider libraries need) is already loaded.
  out="$(LD_LIBRARY_PATH="$folder${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd -r "$lib" 2>&1 || true)"
  while IFS= read -r line; do
    [[ "$line" == *"=> not found"* ]] || continue
    name="$(echo "$line" | awk '{print $1}')"
    [[ "$name" == libcuda.so.1 ]] && continue # the driver's: mounted at run time
    echo "check-provider-deps: $(basename "$lib") needs $name, which is not found" >&2
    missing=1
  done <<< "$out"
done
if [[ "$missing" != 0 ]]; then
  echo "check-provider-deps: FAILED: install the missing libraries (CUDA 12 runtime, cuDNN 9) in the image" >&2
  exit 1
fi
echo "check-provider-deps: every dependency of ${#libs[@]} provider libraries resolves (libcuda.so.1 ignored)"
