# syntax=docker/dockerfile:1
#
# biggan-serve container images. Three runtime targets (docs/deployment.md says which to pick):
#
#   cpu       (default)  Node 24 LTS slim (Debian 12); onnxruntime-node CPU provider + tfjs-wasm.
#                        docker build -t biggan-serve:0.1.0 .
#   gpu                  NVIDIA CUDA 12 + cuDNN 9 runtime (Ubuntu 22.04) with Node 24; onnxruntime-node
#                        with its CUDA execution provider (downloaded by its postinstall at build time).
#                        docker build --target gpu -t biggan-serve:0.1.0-gpu .
#   gpu-tfjs             CUDA 11.2 + cuDNN 8.1 runtime (Ubuntu 20.04), which @tensorflow/tfjs-node-gpu 4.22
#                        (libtensorflow 2.9) needs; the tfjs engine with the `tensorflow` backend. That
#                        libtensorflow predates Hopper: on an H100 it JIT-compiles its kernels from PTX at
#                        start (TensorFlow warns it may take up to 30 minutes). Node 24 runs it through a
#                        shim (src/engine/tfjs/node-compat.ts restores util.isNullOrUndefined).
#                        docker build --target gpu-tfjs -t biggan-serve:0.1.0-gpu-tfjs .
#
# Weights are not in the image: mount a model folder at /models (the Helm chart downloads one there
# with an initContainer). For air-gapped sites, bake one model in at build time (needs internet
# while building):  docker build --build-arg BAKE_MODEL=biggan-deep-256 -t biggan-serve:0.1.0-256 .
#
# The steps are plain npm / node commands so that they can be run (and tested) without Docker:
#   build stage (working directory = a copy of the build context, see .dockerignore):
#     1. ONNXRUNTIME_NODE_INSTALL=skip npm ci      (gpu: =cuda12; installs dev deps; `prepare` compiles)
#     2. npm run build                             (tsc -> dist/)
#     3. npm prune --omit=dev                      (runtime node_modules only)
#     4. rm -rf node_modules/@tensorflow/tfjs-node node_modules/@tensorflow/tfjs-node-gpu
#                                                  (cpu, gpu; gpu-tfjs keeps tfjs-node-gpu only)
#     5. node -e "<trim onnxruntime-node to this platform>"   (see ORT_TRIM below; saves ~290 MB)
#   weights stage (only with BAKE_MODEL set):
#     6. node dist/src/cli/main.js download "$BAKE_MODEL" --cache /models
#   runtime stage: copy dist/ proto/ data/ package.json node_modules/ into /app, then run
#     7. tini -- node dist/src/cli/main.js serve    with BIGGAN_HOST=0.0.0.0 BIGGAN_WEIGHTS=/models/biggan-deep-128
#     8. HEALTHCHECK: node -e "<GET http://127.0.0.1:$BIGGAN_HTTP_PORT/healthz, exit 0 on 2xx>"

ARG NODE_IMAGE=node:24-bookworm-slim
ARG CUDA12_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
ARG CUDA11_IMAGE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
# Step 5: keeps only this platform's onnxruntime-node binaries (the package ships darwin, win32 and
# linux-arm64 builds too). A one-liner so that it stays a plain `node -e` step; build stages
# re-declare it with a bare `ARG ORT_TRIM`.
ARG ORT_TRIM="const fs=require('fs'),p=require('path'),b='node_modules/onnxruntime-node/bin';if(fs.existsSync(b))for(const n of fs.readdirSync(b))for(const os of fs.readdirSync(p.join(b,n)))for(const a of fs.readdirSync(p.join(b,n,os)))if(os!==process.platform||a!==process.arch)fs.rmSync(p.join(b,n,os,a),{recursive:true,force:true})"

# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------

# Node 24 LTS itself (Node 20 is end-of-life; package.json still allows >= 20 for other installs):
# the official image is the source of the node binary for the CUDA images too (official Linux
# builds need glibc >= 2.28: Ubuntu 20.04 and 22.04 qualify).
FROM ${NODE_IMAGE} AS node

# tini from Debian, as a static binary so it runs unchanged on the Ubuntu-based CUDA images.
FROM ${NODE_IMAGE} AS tini
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# CUDA base + Node 24 (node and npm copied from the official image) for the GPU build stages.
FROM ${CUDA12_IMAGE} AS cuda12-node
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version

FROM ${CUDA11_IMAGE} AS cuda11-node
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version

# ---------------------------------------------------------------------------------------------
# Build stages: npm ci (with dev dependencies) -> npm run build -> npm prune --omit=dev.
# Each runs on the same OS as its runtime image, so native add-ons match the runtime's glibc.
# ---------------------------------------------------------------------------------------------

FROM ${NODE_IMAGE} AS build
ARG ORT_TRIM
# package.json's allowScripts (npm 11) already denies onnxruntime-node's install script (its only
# job is the CUDA download); the variable also keeps it off under an npm that ignores allowScripts.
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci
RUN npm run build
RUN npm prune --omit=dev \
 && rm -rf node_modules/@tensorflow/tfjs-node node_modules/@tensorflow/tfjs-node-gpu \
 && node -e "$ORT_TRIM"

FROM cuda12-node AS build-gpu
ARG ORT_TRIM
# Download onnxruntime-node's CUDA 12 execution provider (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux):
# this stage needs internet access. npm 11 (Node 24) honours package.json's allowScripts, which
# denies onnxruntime-node's install script during `npm ci`, so the script is run explicitly.
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci
RUN node node_modules/onnxruntime-node/script/install.js
RUN npm run build
# tfjs-node-gpu 4.22 cannot load on CUDA 12 (it wants libcudart.so.11.0): drop both tfjs-node builds;
# the ort engine is the one this image is for (tfjs-wasm stays as a fallback).
RUN npm prune --omit=dev \
 && rm -rf node_modules/@tensorflow/tfjs-node node_modules/@tensorflow/tfjs-node-gpu \
 && node -e "$ORT_TRIM" \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
# Every library the CUDA provider needs (CUDA 12, cuBLAS, cuDNN 9, ...) must resolve in this base
# image (`ldd -r`; the driver's libcuda.so.1 is ignored, the container toolkit mounts it at run
# time): a missing one fails the build with its name, not the first session with "Failed to load".
RUN bash scripts/check-provider-deps.sh node_modules/onnxruntime-node/bin/napi-v6/linux/x64

FROM cuda11-node AS build-gpu-tfjs
ARG ORT_TRIM
# Compilers for node-gyp, in case tfjs-node-gpu has no prebuilt binding for this Node ABI.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /src
COPY . .
# @tensorflow/tfjs-node-gpu is an optional dependency: its install script downloads libtensorflow
# (GPU, CUDA 11.2) here, which needs internet access. npm ci does not fail when it cannot, so the
# check below makes a silently CPU-only image impossible.
RUN --mount=type=cache,target=/root/.npm npm ci
RUN npm run build
RUN npm prune --omit=dev \
 && rm -rf node_modules/@tensorflow/tfjs-node \
 && node -e "$ORT_TRIM" \
 && ls node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v*/tfjs_binding.node

# ---------------------------------------------------------------------------------------------
# Optional baked weights: `biggan-serve download $BAKE_MODEL --cache /models`, only when set.
# One stage per build stage, so a gpu build never needs the cpu build stage.
# ---------------------------------------------------------------------------------------------
FROM build AS weights-cpu
ARG BAKE_MODEL=
RUN mkdir -p /models \
 && if [ -n "$BAKE_MODEL" ]; then node dist/src/cli/main.js download "$BAKE_MODEL" --cache /models; fi

FROM build-gpu AS weights-gpu
ARG BAKE_MODEL=
RUN mkdir -p /models \
 && if [ -n "$BAKE_MODEL" ]; then node dist/src/cli/main.js download "$BAKE_MODEL" --cache /models; fi

FROM build-gpu-tfjs AS weights-gpu-tfjs
ARG BAKE_MODEL=
RUN mkdir -p /models \
 && if [ -n "$BAKE_MODEL" ]; then node dist/src/cli/main.js download "$BAKE_MODEL" --cache /models; fi

# ---------------------------------------------------------------------------------------------
# Runtime images. Same layout in all three:
#   /app     dist/ proto/ data/ package.json node_modules/   (owned by root: read-only to the app)
#   /models  model folders <model>/{config.json,pytorch_model.bin}  (owned by the app user)
#   user     biggan, uid/gid 10001 (the Helm chart's runAsUser / fsGroup)
# ---------------------------------------------------------------------------------------------

FROM ${CUDA12_IMAGE} AS gpu
ARG BAKE_MODEL=
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=tini /usr/bin/tini-static /usr/bin/tini
RUN groupadd --system --gid 10001 biggan \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin biggan
WORKDIR /app
COPY --from=build-gpu /src/package.json ./
COPY --from=build-gpu /src/node_modules ./node_modules
COPY --from=build-gpu /src/proto ./proto
COPY --from=build-gpu /src/data ./data
COPY --from=build-gpu /src/dist ./dist
COPY --from=weights-gpu --chown=10001:10001 /models /models
ENV NODE_ENV=production \
    BIGGAN_HOST=0.0.0.0 \
    BIGGAN_CACHE=/models \
    BIGGAN_WEIGHTS=/models/${BAKE_MODEL:-biggan-deep-128} \
    BIGGAN_ENGINE=ort \
    BIGGAN_BACKEND=cuda
USER 10001:10001
EXPOSE 8080 50051
HEALTHCHECK --interval=30s --timeout=5s --start-period=10m --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BIGGAN_HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "dist/src/cli/main.js"]
CMD ["serve"]

FROM ${CUDA11_IMAGE} AS gpu-tfjs
ARG BAKE_MODEL=
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=tini /usr/bin/tini-static /usr/bin/tini
RUN groupadd --system --gid 10001 biggan \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin biggan
WORKDIR /app
COPY --from=build-gpu-tfjs /src/package.json ./
COPY --from=build-gpu-tfjs /src/node_modules ./node_modules
COPY --from=build-gpu-tfjs /src/proto ./proto
COPY --from=build-gpu-tfjs /src/data ./data
COPY --from=build-gpu-tfjs /src/dist ./dist
COPY --from=weights-gpu-tfjs --chown=10001:10001 /models /models
ENV NODE_ENV=production \
    BIGGAN_HOST=0.0.0.0 \
    BIGGAN_CACHE=/models \
    BIGGAN_WEIGHTS=/models/${BAKE_MODEL:-biggan-deep-128} \
    BIGGAN_ENGINE=tfjs \
    BIGGAN_BACKEND=tensorflow \
    TF_FORCE_GPU_ALLOW_GROWTH=true
# TF_CPP_MIN_LOG_LEVEL is left at TensorFlow's default on purpose: its warnings (no GPU found,
# missing libcudart/libcudnn, PTX JIT on a newer GPU) are how an operator sees a silent CPU fall back.
USER 10001:10001
EXPOSE 8080 50051
HEALTHCHECK --interval=30s --timeout=5s --start-period=10m --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BIGGAN_HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "dist/src/cli/main.js"]
CMD ["serve"]

# The default target comes last: `docker build .` builds the cpu image.
FROM ${NODE_IMAGE} AS cpu
ARG BAKE_MODEL=
COPY --from=tini /usr/bin/tini-static /usr/bin/tini
RUN groupadd --system --gid 10001 biggan \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin biggan
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/proto ./proto
COPY --from=build /src/data ./data
COPY --from=build /src/dist ./dist
COPY --from=weights-cpu --chown=10001:10001 /models /models
ENV NODE_ENV=production \
    BIGGAN_HOST=0.0.0.0 \
    BIGGAN_CACHE=/models \
    BIGGAN_WEIGHTS=/models/${BAKE_MODEL:-biggan-deep-128}
USER 10001:10001
EXPOSE 8080 50051
HEALTHCHECK --interval=30s --timeout=5s --start-period=10m --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BIGGAN_HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "dist/src/cli/main.js"]
CMD ["serve"]
