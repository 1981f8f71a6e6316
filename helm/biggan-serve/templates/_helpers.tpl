{{/*
Names, labels and the derived settings every template shares.
*/}}

{{/* Chart name, or nameOverride; 63 characters at most (DNS label). */}}
{{- define "biggan-serve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name used for every object: fullnameOverride, else <release>-<name>, or just the
release name when it already contains the chart name. Leaves room for the "-headless" suffix.
*/}}
{{- define "biggan-serve.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart label value: <name>-<version>. */}}
{{- define "biggan-serve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "biggan-serve.labels" -}}
helm.sh/chart: {{ include "biggan-serve.chart" . }}
{{ include "biggan-serve.selectorLabels" . }}
app.kubernetes.io/version: {{ include "biggan-serve.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: biggan-serve
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pods (immutable in a Deployment: never add to these). */}}
{{- define "biggan-serve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "biggan-serve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "biggan-serve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "biggan-serve.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Headless Service name: client-side gRPC round-robin resolves dns:///<this>.<ns>:<grpc port>. */}}
{{- define "biggan-serve.headlessName" -}}
{{- printf "%s-headless" (include "biggan-serve.fullname" .) }}
{{- end }}

{{/*
Image tag: image.tag or the chart's appVersion, plus the GPU suffix when gpu.enabled
("-gpu" for the onnxruntime CUDA image, "-gpu-tfjs" for the tfjs-node-gpu image; see the
Dockerfile's targets), unless gpu.imageTagSuffix says otherwise.
*/}}
{{- define "biggan-serve.imageTag" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.gpu.enabled }}
{{- $suffix := .Values.gpu.imageTagSuffix }}
{{- if not $suffix }}
{{- $suffix = ternary "-gpu-tfjs" "-gpu" (eq .Values.engine "tfjs") }}
{{- end }}
{{- $tag = printf "%s%s" $tag $suffix }}
{{- end }}
{{- $tag }}
{{- end }}

{{/* Full image reference; a digest pins it. */}}
{{- define "biggan-serve.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "biggan-serve.imageTag" .) }}
{{- end }}
{{- end }}

{{/* BIGGAN_ENGINE: with a GPU, "auto" means the onnxruntime CUDA image's engine, ort. */}}
{{- define "biggan-serve.engine" -}}
{{- if and .Values.gpu.enabled (eq .Values.engine "auto") }}ort{{ else }}{{ .Values.engine }}{{ end }}
{{- end }}

{{/*
BIGGAN_BACKEND: backend when set; with a GPU and none set, cuda (ort) or tensorflow (tfjs);
else empty (the server picks).
*/}}
{{- define "biggan-serve.backend" -}}
{{- if .Values.backend }}
{{- .Values.backend }}
{{- else if .Values.gpu.enabled }}
{{- ternary "tensorflow" "cuda" (eq .Values.engine "tfjs") }}
{{- end }}
{{- end }}

{{/*
BIGGAN_THREADS: threads when set (> 0); else gpu.threads with gpu.enabled (a small number: the GPU
computes, and one thread per core of a big GPU node would only contend); else empty (all cores).
*/}}
{{- define "biggan-serve.threads" -}}
{{- if gt (int .Values.threads) 0 }}
{{- .Values.threads | int }}
{{- else if .Values.gpu.enabled }}
{{- .Values.gpu.threads | int }}
{{- end }}
{{- end }}

{{/* Seconds the server may spend draining after SIGTERM: BIGGAN_GRACE_PERIOD_MS rounded up. */}}
{{- define "biggan-serve.drainSeconds" -}}
{{- div (add .Values.shutdown.gracePeriodMs 999) 1000 }}
{{- end }}

{{/* Seconds the server stays unready but serving after SIGTERM: BIGGAN_DRAIN_DELAY_MS rounded up. */}}
{{- define "biggan-serve.drainDelaySeconds" -}}
{{- div (add (.Values.shutdown.drainDelayMs | default 0) 999) 1000 }}
{{- end }}

{{/* preStop pause in seconds (0 when shutdown.preStop.mode is none). */}}
{{- define "biggan-serve.preStopSeconds" -}}
{{- if eq .Values.shutdown.preStop.mode "none" }}0{{ else }}{{ .Values.shutdown.preStop.seconds }}{{ end }}
{{- end }}

{{/*
preStop handler kind: "sleep" (kubelet's built-in sleep action, Kubernetes >= 1.30) or "exec"
(node -e with a timer, any version); mode auto picks by the cluster's version.
*/}}
{{- define "biggan-serve.preStopKind" -}}
{{- $mode := .Values.shutdown.preStop.mode }}
{{- if eq $mode "auto" }}
{{- ternary "sleep" "exec" (semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version) }}
{{- else }}
{{- $mode }}
{{- end }}
{{- end }}

{{/*
terminationGracePeriodSeconds: covers the preStop pause, the drain delay (unready but serving),
then the server's drain, plus a margin (shutdown.marginSeconds). When set explicitly it must be
at least preStop + drain delay + drain.
*/}}
{{- define "biggan-serve.terminationGracePeriodSeconds" -}}
{{- $needed := add (include "biggan-serve.preStopSeconds" . | int) (include "biggan-serve.drainDelaySeconds" . | int) (include "biggan-serve.drainSeconds" . | int) }}
{{- $explicit := .Values.shutdown.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $explicit }}
{{- add $needed .Values.shutdown.marginSeconds }}
{{- else if lt (int $explicit) (int $needed) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must be at least the preStop pause (%s s) + shutdown.drainDelayMs (%s s) + shutdown.gracePeriodMs (%s s) = %d s, or Kubernetes kills pods before they drain" (int $explicit) (include "biggan-serve.preStopSeconds" .) (include "biggan-serve.drainDelaySeconds" .) (include "biggan-serve.drainSeconds" .) (int $needed)) }}
{{- else }}
{{- int $explicit }}
{{- end }}
{{- end }}

{{/* Name of the claim holding the weights ("" when the weights are not on a PVC). */}}
{{- define "biggan-serve.weightsClaim" -}}
{{- if eq .Values.weights.source "existingClaim" }}
{{- .Values.weights.existingClaim }}
{{- else if and (eq .Values.weights.source "download") (eq .Values.weights.volume "pvc") }}
{{- printf "%s-weights" (include "biggan-serve.fullname" .) }}
{{- end }}
{{- end }}

{{/* Cross-field checks the schema cannot express. */}}
{{- define "biggan-serve.validate" -}}
{{- if and (eq .Values.weights.source "existingClaim") (not .Values.weights.existingClaim) }}
{{- fail "weights.source=existingClaim needs weights.existingClaim (the name of a PVC that holds <model>/config.json and the weights)" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not .Values.autoscaling.targetCPUUtilizationPercentage) (not .Values.autoscaling.targetMemoryUtilizationPercentage) (not .Values.autoscaling.queueDepth.enabled) }}
{{- fail "autoscaling.enabled needs at least one metric: targetCPUUtilizationPercentage, targetMemoryUtilizationPercentage or queueDepth.enabled" }}
{{- end }}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled are alternatives: KEDA creates its own HPA for the Deployment, and two HPAs fight over the replica count. Enable one of them" }}
{{- end }}
{{- if gt (int64 .Values.server.headersTimeoutMs) (int64 .Values.server.requestTimeoutMs) }}
{{- fail (printf "server.headersTimeoutMs (%d) must not exceed server.requestTimeoutMs (%d): the headers are part of the request, and the server refuses to start otherwise" (int64 .Values.server.headersTimeoutMs) (int64 .Values.server.requestTimeoutMs)) }}
{{- end }}
{{- if and .Values.apiKeys.enabled (not .Values.apiKeys.existingSecret) (not .Values.apiKeys.keys) }}
{{- fail "apiKeys.enabled needs apiKeys.existingSecret (a Secret with the key file) or apiKeys.keys (entries made with `biggan-serve keys new NAME`)" }}
{{- end }}
{{- if and .Values.tls.requireClientCert (not .Values.tls.existingSecret) }}
{{- fail "tls.requireClientCert needs tls.existingSecret (a Secret with tls.crt, tls.key and ca.crt)" }}
{{- end }}
{{- if and .Values.tls.requireClientCert (not .Values.metricsPort.enabled) }}
{{- fail "tls.requireClientCert needs metricsPort.enabled: kubelet probes cannot present a client certificate, so they use the plain metrics port" }}
{{- end }}
{{- if and .Values.tls.existingSecret (eq .Values.probes.readiness.type "grpc") }}
{{- fail "probes.readiness.type=grpc cannot reach a TLS gRPC port (kubelet gRPC probes are plaintext); use the http readiness probe" }}
{{- end }}
{{- if and (ne .Values.service.type "LoadBalancer") (ne .Values.service.type "NodePort") .Values.service.externalTrafficPolicy }}
{{- fail "service.externalTrafficPolicy applies only to service.type LoadBalancer or NodePort" }}
{{- end }}
{{- end }}

{{/*
PromQL label matchers that pick this release's series in Prometheus (alerts, KEDA query):
metrics.selector, else the release namespace and the Deployment's pod names
(<fullname>-<replicaset hash>-<suffix>), the target labels a ServiceMonitor and the usual pod
discovery attach.
*/}}
{{- define "biggan-serve.promSelector" -}}
{{- if .Values.metrics.selector }}
{{- .Values.metrics.selector }}
{{- else }}
{{- printf "namespace=%q, pod=~%q" .Release.Namespace (printf "%s-[a-z0-9]+-[a-z0-9]+" (include "biggan-serve.fullname" .)) }}
{{- end }}
{{- end }}

{{/* True ("true") when an autoscaler (the chart's HPA or KEDA's) owns the replica count. */}}
{{- define "biggan-serve.autoscaled" -}}
{{- if or .Values.autoscaling.enabled .Values.keda.enabled }}true{{ end }}
{{- end }}

{{/*
Where HTTP probes go: the plain metrics port when it is on, else the HTTP port (over HTTPS with TLS;
kubelet does not verify the certificate).
*/}}
{{- define "biggan-serve.probeTarget" -}}
{{- if .Values.metricsPort.enabled -}}
port: metrics
{{- else -}}
port: http
{{- if .Values.tls.existingSecret }}
scheme: HTTPS
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment of access control: API key file, CORS, quota store, TLS, metrics port and token.
*/}}
{{- define "biggan-serve.accessEnv" -}}
{{- if .Values.apiKeys.enabled }}
- name: BIGGAN_API_KEYS_FILE
  value: /etc/biggan/api-keys/keys.json
{{- end }}
{{- with .Values.corsOrigins }}
- name: BIGGAN_CORS_ORIGIN
  value: {{ join "," . | quote }}
{{- end }}
{{- if .Values.quota.redis.existingSecret }}
- name: BIGGAN_QUOTA_REDIS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.quota.redis.existingSecret }}
      key: {{ .Values.quota.redis.secretKey }}
{{- else if .Values.quota.redis.url }}
- name: BIGGAN_QUOTA_REDIS
  value: {{ .Values.quota.redis.url | quote }}
{{- end }}
{{- if or .Values.quota.redis.existingSecret .Values.quota.redis.url }}
- name: BIGGAN_QUOTA_REDIS_FAILURE
  value: {{ .Values.quota.redis.failure | quote }}
{{- end }}
{{- if .Values.tls.existingSecret }}
- name: BIGGAN_TLS_CERT
  value: /etc/biggan/tls/tls.crt
- name: BIGGAN_TLS_KEY
  value: /etc/biggan/tls/tls.key
{{- if .Values.tls.requireClientCert }}
- name: BIGGAN_TLS_CLIENT_CA
  value: /etc/biggan/tls/ca.crt
{{- end }}
{{- end }}
{{- if .Values.metricsPort.enabled }}
- name: BIGGAN_METRICS_PORT
  value: {{ .Values.metricsPort.port | int | quote }}
{{- end }}
{{- if .Values.metricsPort.tokenSecret }}
- name: BIGGAN_METRICS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.metricsPort.tokenSecret }}
      key: {{ .Values.metricsPort.tokenSecretKey }}
{{- end }}
{{- end }}
