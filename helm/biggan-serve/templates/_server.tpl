{{/*
The server container's environment, shared by the Deployment and the KServe InferenceService:
called with (dict "root" $ "http" <HTTP port> "grpc" <gRPC port>).
*/}}
{{- define "biggan-serve.serverEnv" -}}
- name: BIGGAN_HOST
  value: "0.0.0.0"
- name: BIGGAN_HTTP_PORT
  value: {{ $.http | int | quote }}
- name: BIGGAN_GRPC_PORT
  value: {{ $.grpc | int | quote }}
- name: BIGGAN_MODEL
  value: {{ $.root.Values.model | quote }}
- name: BIGGAN_CACHE
  value: {{ $.root.Values.weights.mountPath | quote }}
{{- if $.root.Values.models }}
# A model repository: every listed model from the cache, chosen per request by `model`.
- name: BIGGAN_MODELS
  value: {{ join "," $.root.Values.models | quote }}
{{- else }}
- name: BIGGAN_WEIGHTS
  value: {{ printf "%s/%s" (trimSuffix "/" $.root.Values.weights.mountPath) $.root.Values.model | quote }}
{{- end }}
{{- with $.root.Values.defaultModel }}
- name: BIGGAN_DEFAULT_MODEL
  value: {{ . | quote }}
{{- end }}
{{- with $.root.Values.memoryBudget }}
- name: BIGGAN_MEMORY_BUDGET
  value: {{ . | int64 | quote }}
{{- end }}
# The weights are in place before the server starts (initContainer, claim or image).
- name: BIGGAN_DOWNLOAD
  value: "false"
- name: BIGGAN_ENGINE
  value: {{ include "biggan-serve.engine" $.root | quote }}
{{- with include "biggan-serve.backend" $.root }}
- name: BIGGAN_BACKEND
  value: {{ . | quote }}
{{- end }}
{{- with include "biggan-serve.threads" $.root }}
- name: BIGGAN_THREADS
  value: {{ . | quote }}
{{- end }}
- name: BIGGAN_MAX_BATCH_SIZE
  value: {{ $.root.Values.batching.maxBatchSize | int | quote }}
- name: BIGGAN_MAX_QUEUE_DELAY_MS
  value: {{ $.root.Values.batching.maxQueueDelayMs | int | quote }}
- name: BIGGAN_MAX_QUEUE_SIZE
  value: {{ $.root.Values.batching.maxQueueSize | int | quote }}
- name: BIGGAN_MAX_CONCURRENT_BATCHES
  value: {{ $.root.Values.batching.maxConcurrentBatches | int | quote }}
- name: BIGGAN_MAX_SAMPLES_PER_REQUEST
  value: {{ $.root.Values.batching.maxSamplesPerRequest | int | quote }}
- name: BIGGAN_GRACE_PERIOD_MS
  value: {{ $.root.Values.shutdown.gracePeriodMs | int | quote }}
- name: BIGGAN_GRPC_MAX_CONNECTION_AGE_MS
  value: {{ $.root.Values.server.grpcMaxConnectionAgeMs | int | quote }}
- name: BIGGAN_GRPC_MAX_CONNECTION_AGE_GRACE_MS
  value: {{ $.root.Values.server.grpcMaxConnectionAgeGraceMs | int | quote }}
- name: BIGGAN_GRPC_MAX_RECEIVE_MESSAGE_BYTES
  value: {{ $.root.Values.server.grpcMaxReceiveMessageBytes | int | quote }}
- name: BIGGAN_GRPC_MAX_SEND_MESSAGE_BYTES
  value: {{ $.root.Values.server.grpcMaxSendMessageBytes | int | quote }}
- name: BIGGAN_LOG_LEVEL
  value: {{ $.root.Values.server.logLevel | quote }}
- name: BIGGAN_BODY_LIMIT_BYTES
  value: {{ $.root.Values.server.bodyLimitBytes | int | quote }}
{{- if $.root.Values.batching.maxQueueWaitMs }}
- name: BIGGAN_MAX_QUEUE_WAIT_MS
  value: {{ $.root.Values.batching.maxQueueWaitMs | int | quote }}
{{- end }}
- name: BIGGAN_SEND_TIMEOUT_MS
  value: {{ $.root.Values.server.sendTimeoutMs | int | quote }}
- name: BIGGAN_SEND_BUDGET_BYTES
  value: {{ $.root.Values.server.sendBudgetBytes | int64 | quote }}
- name: BIGGAN_REQUEST_TIMEOUT_MS
  value: {{ $.root.Values.server.requestTimeoutMs | int | quote }}
- name: BIGGAN_HEADERS_TIMEOUT_MS
  value: {{ $.root.Values.server.headersTimeoutMs | int | quote }}
- name: BIGGAN_TRUST_PROXY
  value: {{ $.root.Values.server.trustProxy | quote }}
- name: BIGGAN_PUBLIC_BASE_URL
  value: {{ $.root.Values.server.publicBaseUrl | quote }}
- name: BIGGAN_DRAIN_DELAY_MS
  value: {{ $.root.Values.shutdown.drainDelayMs | int | quote }}
- name: BIGGAN_ENGINE_FAILURE_THRESHOLD
  value: {{ $.root.Values.engineHealth.failureThreshold | int | quote }}
- name: BIGGAN_ENGINE_PROBE_INTERVAL_MS
  value: {{ $.root.Values.engineHealth.probeIntervalMs | int | quote }}
- name: BIGGAN_ENGINE_LIVENESS_TIMEOUT_MS
  value: {{ $.root.Values.engineHealth.livenessTimeoutMs | int | quote }}
# int64: a cache of 2 GiB or more must not wrap (Helm's int is 64-bit, printed in full).
- name: BIGGAN_CACHE_SIZE
  value: {{ $.root.Values.cache.sizeBytes | int64 | quote }}
{{- include "biggan-serve.accessEnv" $.root | nindent 0 }}
# Libraries that write under $HOME find a writable one (the root filesystem is read-only).
- name: HOME
  value: /tmp
{{- with $.root.Values.extraEnv }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}

{{/*
The init container that downloads each model's files into the weights volume (weights.source
"download"), shared by the Deployment and the KServe InferenceService.
*/}}
{{- define "biggan-serve.downloadInitContainer" -}}
- name: download-weights
  image: {{ include "biggan-serve.image" $ | quote }}
  imagePullPolicy: {{ $.Values.image.pullPolicy }}
  # The image's entrypoint is `tini -- node dist/src/cli/main.js`: this runs
  # `biggan-serve download <model> --cache <mountPath>`.
  args:
    - download
    {{- range ($.Values.models | default (list $.Values.model)) }}
    - {{ . | quote }}
    {{- end }}
    - --cache
    - {{ $.Values.weights.mountPath | quote }}
    {{- with $.Values.weights.baseUrl }}
    - --base-url
    - {{ . | quote }}
    {{- end }}
  env:
    - name: HOME
      value: /tmp
    - name: BIGGAN_LOG_LEVEL
      value: {{ $.Values.server.logLevel | quote }}
  {{- with $.Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $.Values.weights.download.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: weights
      mountPath: {{ $.Values.weights.mountPath }}
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/* The server container's volume mounts (Deployment and InferenceService). */}}
{{- define "biggan-serve.serverVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if (ne $.Values.weights.source "image") }}
- name: weights
  mountPath: {{ $.Values.weights.mountPath }}
  readOnly: true
{{- end }}
{{- if $.Values.apiKeys.enabled }}
- name: api-keys
  mountPath: /etc/biggan/api-keys
  readOnly: true
{{- end }}
{{- if $.Values.tls.existingSecret }}
- name: tls
  mountPath: /etc/biggan/tls
  readOnly: true
{{- end }}
{{- with $.Values.extraVolumeMounts }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}

{{/* The pod's volumes (Deployment and InferenceService). */}}
{{- define "biggan-serve.serverVolumes" -}}
- name: tmp
  {{- $tmp := dict }}
  {{- with $.Values.tmp.medium }}{{ $_ := set $tmp "medium" . }}{{ end }}
  {{- with $.Values.tmp.sizeLimit }}{{ $_ := set $tmp "sizeLimit" . }}{{ end }}
  emptyDir: {{- toYaml $tmp | nindent 4 }}
{{- if (ne $.Values.weights.source "image") }}
- name: weights
  {{- if (include "biggan-serve.weightsClaim" $) }}
  persistentVolumeClaim:
    claimName: {{ (include "biggan-serve.weightsClaim" $) }}
    {{- if eq $.Values.weights.source "existingClaim" }}
    readOnly: true
    {{- end }}
  {{- else }}
  {{- $dir := dict }}
  {{- with $.Values.weights.emptyDir.sizeLimit }}{{ $_ := set $dir "sizeLimit" . }}{{ end }}
  emptyDir: {{- toYaml $dir | nindent 4 }}
  {{- end }}
{{- end }}
{{- if $.Values.apiKeys.enabled }}
# A Secret volume (not subPath), so key file updates reach the running server.
- name: api-keys
  secret:
    secretName: {{ $.Values.apiKeys.existingSecret | default (printf "%s-api-keys" (include "biggan-serve.fullname" $)) }}
    items:
      - key: {{ $.Values.apiKeys.secretKey }}
        path: keys.json
{{- end }}
{{- if $.Values.tls.existingSecret }}
- name: tls
  secret:
    secretName: {{ $.Values.tls.existingSecret }}
{{- end }}
{{- with $.Values.extraVolumes }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}
