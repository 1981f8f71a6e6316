/**
 * Chart tests for access control: the key file Secret (created from hashes, or an existing one),
 * the env of every flag, Redis, TLS and mutual TLS (probes on the plain metrics port), the
 * NetworkPolicy (service ports from the allowed peers, metrics only from the monitoring
 * namespace), the ServiceMonitor's token, the hardened pod, and the values' schema.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { chartDir, helm, one, render, renderFails, type Manifest } from './chart.js';

interface Env {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number; scheme?: string };
}
interface Container {
  name: string;
  env: Env[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: Probe;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext: {
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
    seccompProfile?: { type: string };
  };
}
interface Deployment extends Manifest {
  spec: {
    template: {
      spec: {
        containers: Container[];
        volumes: { name: string; secret?: { secretName: string }; emptyDir?: object }[];
        securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
      };
    };
  };
}
interface Secret extends Manifest {
  stringData: Record<string, string>;
}
interface NetworkPolicy extends Manifest {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { ports: { port: string | number }[]; from?: object[] }[];
  };
}
interface ServiceMonitor extends Manifest {
  spec: { endpoints: { port: string; authorization?: { credentials: { name: string; key: string } } }[] };
}

const scenario = path.join(chartDir, 'ci', 'access-values.yaml');
const server = (objs: Manifest[]) =>
  one<Deployment>(objs, 'Deployment').spec.template.spec.containers.find((c) => c.name === 'server')!;
const env = (c: Container, name: string) => c.env.find((e) => e.name === name);

test('helm lint --strict passes with ci/access-values.yaml', () => {
  const r = helm(['lint', '--strict', chartDir, '-f', scenario]);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

test('the locked-down scenario: key file Secret with hashes, env of every flag, TLS volume, probes on the metrics port', () => {
  const objs = render('-f', scenario);
  const secret = one<Secret>(objs, 'Secret', 'rel-biggan-serve-api-keys');
  const file = JSON.parse(secret.stringData['keys.json']) as { keys: { name: string; sha256: string }[] };
  assert.deepEqual(
    file.keys.map((k) => k.name),
    ['alice', 'batch-jobs'],
  );
  const c = server(objs);
  assert.equal(env(c, 'BIGGAN_API_KEYS_FILE')?.value, '/etc/biggan/api-keys/keys.json');
  assert.equal(env(c, 'BIGGAN_QUOTA_REDIS')?.value, 'redis://redis.ml.svc:6379');
  assert.equal(env(c, 'BIGGAN_QUOTA_REDIS_FAILURE')?.value, 'closed');
  assert.equal(env(c, 'BIGGAN_TLS_CERT')?.value, '/etc/biggan/tls/tls.crt');
  assert.equal(env(c, 'BIGGAN_TLS_KEY')?.value, '/etc/biggan/tls/tls.key');
  assert.equal(env(c, 'BIGGAN_TLS_CLIENT_CA')?.value, '/etc/biggan/tls/ca.crt');
  assert.equal(env(c, 'BIGGAN_METRICS_PORT')?.value, '9090');
  assert.deepEqual(env(c, 'BIGGAN_METRICS_TOKEN')?.valueFrom?.secretKeyRef, {
    name: 'biggan-metrics-token',
    key: 'token',
  });
  assert.equal(env(c, 'BIGGAN_CORS_ORIGIN')?.value, 'https://app.example.com');
  assert.ok(c.ports.some((p) => p.name === 'metrics' && p.containerPort === 9090));
  for (const probe of [c.readinessProbe, c.startupProbe, c.livenessProbe])
    if (probe?.httpGet) assert.equal(probe.httpGet.port, 'metrics', 'kubelet cannot present a client certificate');
  const volumes = one<Deployment>(objs, 'Deployment').spec.template.spec.volumes;
  assert.equal(volumes.find((v) => v.name === 'api-keys')?.secret?.secretName, 'rel-biggan-serve-api-keys');
  assert.equal(volumes.find((v) => v.name === 'tls')?.secret?.secretName, 'biggan-tls');
  assert.ok(
    c.volumeMounts.every((m) => m.name === 'tmp' || m.readOnly === true),
    'only /tmp is writable',
  );
  const sm = one<ServiceMonitor>(objs, 'ServiceMonitor');
  assert.equal(sm.spec.endpoints[0].port, 'metrics');
  assert.deepEqual(sm.spec.endpoints[0].authorization?.credentials, { name: 'biggan-metrics-token', key: 'token' });
});

test('the NetworkPolicy admits the service ports from the allowed peers and the metrics port only from the monitoring namespace', () => {
  const np = one<NetworkPolicy>(render('-f', scenario), 'NetworkPolicy');
  assert.deepEqual(np.spec.policyTypes, ['Ingress']);
  assert.equal(np.spec.podSelector.matchLabels['app.kubernetes.io/name'], 'biggan-serve');
  const [service, metrics] = np.spec.ingress;
  assert.deepEqual(
    service.ports.map((p) => p.port),
    ['http', 'grpc'],
  );
  assert.deepEqual(service.from, [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } },
  ]);
  assert.deepEqual(
    metrics.ports.map((p) => p.port),
    ['metrics'],
  );
  assert.deepEqual(metrics.from, [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
  ]);
  assert.equal(np.spec.ingress.length, 2, 'no other port is open');
});

test('the pod is hardened: non-root, read-only root filesystem, all capabilities dropped, RuntimeDefault seccomp, emptyDir /tmp', () => {
  const objs = render('-f', scenario);
  const d = one<Deployment>(objs, 'Deployment');
  assert.equal(d.spec.template.spec.securityContext?.runAsNonRoot, true);
  assert.equal(d.spec.template.spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  const sc = server(objs).securityContext;
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.deepEqual(sc.capabilities?.drop, ['ALL']);
  assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');
  assert.ok(d.spec.template.spec.volumes.find((v) => v.name === 'tmp')?.emptyDir);
});

test('an existing key Secret is mounted and no Secret is created; TLS without client certificates probes over HTTPS', () => {
  const objs = render(
    '--set',
    'apiKeys.enabled=true',
    '--set',
    'apiKeys.existingSecret=my-keys',
    '--set',
    'tls.existingSecret=my-tls',
  );
  assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0);
  const c = server(objs);
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http', scheme: 'HTTPS' });
  assert.equal(env(c, 'BIGGAN_TLS_CLIENT_CA'), undefined);
  assert.equal(env(c, 'BIGGAN_QUOTA_REDIS'), undefined, 'per-replica quotas by default');
  assert.equal(
    one<Deployment>(objs, 'Deployment').spec.template.spec.volumes.find((v) => v.name === 'api-keys')?.secret
      ?.secretName,
    'my-keys',
  );
});

test('the default values stay open and unchanged: no access env, Secret or NetworkPolicy', () => {
  const objs = render();
  assert.equal(objs.filter((o) => o.kind === 'Secret' || o.kind === 'NetworkPolicy').length, 0);
  const c = server(objs);
  for (const name of [
    'BIGGAN_API_KEYS_FILE',
    'BIGGAN_TLS_CERT',
    'BIGGAN_METRICS_PORT',
    'BIGGAN_QUOTA_REDIS',
    'BIGGAN_CORS_ORIGIN',
  ])
    assert.equal(env(c, name), undefined, name);
});

test('bad access values are refused with a reason', () => {
  assert.match(renderFails('--set', 'apiKeys.enabled=true'), /apiKeys.enabled needs apiKeys.existingSecret/);
  assert.match(
    renderFails('--set', 'tls.requireClientCert=true', '--set', 'tls.existingSecret=t'),
    /needs metricsPort.enabled/,
  );
  assert.match(renderFails('--set', 'quota.redis.failure=maybe'), /quota\/redis\/failure/);
  assert.match(renderFails('--set', 'quota.redis.url=http://x'), /quota\/redis\/url/);
  assert.match(renderFails('--set-json', 'apiKeys.keys=[{"name":"a","sha256":"not-a-hash"}]'), /sha256/);
  assert.match(renderFails('--set-json', 'corsOrigins=["https://a.example/path"]'), /corsOrigins/);
});
