/**
 * Chart tests for this round's serve flags and the optional Ingress: every `serve` flag's BIGGAN_*
 * variable is set by the chart, with the server's own defaults; overrides reach the container;
 * the drain delay joins the computed termination grace period; the schema refuses bad values;
 * the Ingress routes to the Service's http port with TLS and the ingress-nginx cache annotations.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SERVER_OPTIONS } from '../../src/config/server-config.js';
import { chartDir, helm, one, render, renderFails, type Manifest } from './chart.js';

interface EnvVar {
  name: string;
  value?: string;
}
interface Deployment extends Manifest {
  spec: {
    template: { spec: { terminationGracePeriodSeconds?: number; containers: { name: string; env?: EnvVar[] }[] } };
  };
}
interface Service extends Manifest {
  spec: { ports: { name: string; port: number }[] };
}
interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { name?: string; number?: number } } };
}
interface Ingress extends Manifest {
  spec: {
    ingressClassName?: string;
    tls?: { secretName: string; hosts?: string[] }[];
    rules: { host?: string; http: { paths: IngressPath[] } }[];
  };
}

const scenario = path.join(chartDir, 'ci', 'ingress-values.yaml');

function envOf(objs: Manifest[]): Map<string, string | undefined> {
  const d = one<Deployment>(objs, 'Deployment');
  const server = d.spec.template.spec.containers.find((c) => c.name === 'server') ?? d.spec.template.spec.containers[0];
  return new Map((server.env ?? []).map((e) => [e.name, e.value]));
}

const graceOf = (objs: Manifest[]): number | undefined =>
  one<Deployment>(objs, 'Deployment').spec.template.spec.terminationGracePeriodSeconds;

/** The server's flags this round added, by env var, with the values.yaml key that sets each. */
const NEW_FLAGS: Record<string, string> = {
  BIGGAN_CACHE_SIZE: 'cache.sizeBytes',
  BIGGAN_REQUEST_TIMEOUT_MS: 'server.requestTimeoutMs',
  BIGGAN_HEADERS_TIMEOUT_MS: 'server.headersTimeoutMs',
  BIGGAN_SEND_TIMEOUT_MS: 'server.sendTimeoutMs',
  BIGGAN_SEND_BUDGET_BYTES: 'server.sendBudgetBytes',
  BIGGAN_DRAIN_DELAY_MS: 'shutdown.drainDelayMs',
  BIGGAN_ENGINE_FAILURE_THRESHOLD: 'engineHealth.failureThreshold',
  BIGGAN_ENGINE_PROBE_INTERVAL_MS: 'engineHealth.probeIntervalMs',
};

describe('serve flags in the chart', () => {
  const defaults = envOf(render());

  test('every serve flag is set by the chart (threads, backend and the model list when given)', () => {
    // The locked-down scenario turns on keys, Redis quotas, TLS, the metrics port and CORS.
    const env = envOf(
      render(
        '-f',
        `${chartDir}/ci/access-values.yaml`,
        '--set',
        'threads=2',
        '--set',
        'backend=cpu',
        '--set',
        'models={biggan-deep-128,biggan-deep-256}',
        '--set',
        'defaultModel=biggan-deep-128',
        '--set',
        'memoryBudget=4000000000',
      ),
    );
    // The chart serves its models from the download cache (BIGGAN_MODELS); a repository folder and
    // --preload (all when they fit the budget, else the default model) keep the server's defaults.
    // With several models the chart sets BIGGAN_MODELS instead of BIGGAN_WEIGHTS (one model).
    // BIGGAN_MAX_QUEUE_WAIT_MS is left unset by default: the server then fits it to each model.
    const notInChart = new Set([
      'BIGGAN_MODEL_REPOSITORY',
      'BIGGAN_PRELOAD',
      'BIGGAN_WEIGHTS',
      'BIGGAN_MAX_QUEUE_WAIT_MS',
    ]);
    const missing = SERVER_OPTIONS.flatMap((o) => (o.env && !env.has(o.env) && !notInChart.has(o.env) ? [o.env] : []));
    assert.deepEqual(missing, [], 'serve flags without a chart value');
  });

  test("this round's flags default to the server's own defaults", () => {
    for (const name of Object.keys(NEW_FLAGS)) {
      const option = SERVER_OPTIONS.find((o) => o.env === name);
      assert.ok(option && 'default' in option, `${name} is a serve flag with a default`);
      assert.equal(defaults.get(name), String(option.default), name);
    }
  });

  test('the queue-wait limit is unset by default (per model) and reaches BIGGAN_MAX_QUEUE_WAIT_MS when set', () => {
    assert.equal(defaults.has('BIGGAN_MAX_QUEUE_WAIT_MS'), false);
    assert.equal(envOf(render('--set', 'batching.maxQueueWaitMs=2500')).get('BIGGAN_MAX_QUEUE_WAIT_MS'), '2500');
  });

  test('values reach their BIGGAN_* variables', () => {
    const sets = Object.entries(NEW_FLAGS).map(
      ([name, key], i) =>
        [
          name,
          key,
          String(name === 'BIGGAN_CACHE_SIZE' || name === 'BIGGAN_SEND_BUDGET_BYTES' ? 3 * 2 ** 31 : 1000 + i),
        ] as const,
    );
    // headers within the request timeout
    const env = envOf(
      render(
        ...sets.flatMap(([name, key, value]) => [
          '--set',
          `${key}=${name === 'BIGGAN_HEADERS_TIMEOUT_MS' ? '900' : value}`,
        ]),
      ),
    );
    for (const [name, , value] of sets)
      assert.equal(env.get(name), name === 'BIGGAN_HEADERS_TIMEOUT_MS' ? '900' : value, name);
  });

  test('a cache size beyond 32 bits renders in full, 0 turns the cache off', () => {
    assert.equal(envOf(render('--set', 'cache.sizeBytes=8589934592')).get('BIGGAN_CACHE_SIZE'), '8589934592');
    assert.equal(envOf(render('--set', 'cache.sizeBytes=0')).get('BIGGAN_CACHE_SIZE'), '0');
  });

  test('the drain delay is added to the computed termination grace period', () => {
    const base = graceOf(render());
    assert.equal(base, 10 + 30 + 5, 'preStop 10 + drain 30 + margin 5');
    assert.equal(graceOf(render('--set', 'shutdown.drainDelayMs=15500')), 10 + 16 + 30 + 5);
  });

  test('an explicit grace period must also cover the drain delay', () => {
    const err = renderFails(
      '--set',
      'shutdown.drainDelayMs=20000',
      '--set',
      'shutdown.terminationGracePeriodSeconds=45',
    );
    assert.match(err, /terminationGracePeriodSeconds \(45\) must be at least .*drainDelayMs \(20 s\).* = 60 s/);
    assert.equal(
      graceOf(render('--set', 'shutdown.drainDelayMs=20000', '--set', 'shutdown.terminationGracePeriodSeconds=60')),
      60,
    );
  });

  test('headers timeout above the request timeout is refused, as the server would', () => {
    assert.match(
      renderFails('--set', 'server.headersTimeoutMs=40000'),
      /headersTimeoutMs \(40000\) must not exceed server.requestTimeoutMs \(30000\)/,
    );
  });

  for (const setting of [
    'cache.sizeBytes=-1',
    'cache.bogus=1',
    'server.requestTimeoutMs=50',
    'server.headersTimeoutMs=1.5',
    'batching.maxQueueWaitMs=0',
    'shutdown.drainDelayMs=600001',
    'engineHealth.failureThreshold=0',
    'engineHealth.probeIntervalMs=5',
    'ingress.paths[0].pathType=Bogus',
    'ingress.paths[0].path=no-slash',
    'ingress.host=Not A Host',
    'ingress.bogus=1',
  ]) {
    test(`the schema refuses --set ${setting}`, () => {
      assert.match(renderFails('--set', setting), /values don't meet the specifications of the schema|schema/i);
    });
  }
});

describe('Ingress', () => {
  test('none by default', () => {
    assert.ok(!render().some((o) => o.kind === 'Ingress'));
  });

  test('helm lint --strict passes with ci/ingress-values.yaml', () => {
    const r = helm(['lint', '--strict', chartDir, '-f', scenario]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });

  const objs = render('-f', scenario);
  const ing = one<Ingress>(objs, 'Ingress');

  test('routes the host and path to the main Service http port, with TLS', () => {
    const svc = one<Service>(objs, 'Service', 'rel-biggan-serve');
    assert.equal(ing.metadata.namespace, 'ml');
    assert.equal(ing.spec.ingressClassName, 'nginx');
    assert.deepEqual(ing.spec.tls, [{ secretName: 'biggan-example-com-tls', hosts: ['biggan.example.com'] }]);
    assert.equal(ing.spec.rules.length, 1);
    assert.equal(ing.spec.rules[0].host, 'biggan.example.com');
    const [p] = ing.spec.rules[0].http.paths;
    assert.deepEqual({ path: p.path, pathType: p.pathType }, { path: '/', pathType: 'Prefix' });
    assert.equal(p.backend.service.name, svc.metadata.name);
    assert.ok(
      svc.spec.ports.some((port) => port.name === p.backend.service.port.name && port.name === 'http'),
      'backend port is the Service http port',
    );
  });

  test('carries the ingress-nginx retry and proxy cache annotations', () => {
    const a = ing.metadata.annotations ?? {};
    assert.equal(
      a['nginx.ingress.kubernetes.io/proxy-next-upstream'],
      'error timeout http_502 http_503 non_idempotent',
    );
    assert.match(a['nginx.ingress.kubernetes.io/configuration-snippet'], /^proxy_cache biggan;$/m);
    assert.match(a['nginx.ingress.kubernetes.io/configuration-snippet'], /^proxy_cache_lock on;$/m);
  });

  test('NOTES show a cacheable GET URL through the Ingress', () => {
    const r = helm(['install', 'rel', chartDir, '--namespace', 'ml', '--dry-run=client', '-f', scenario]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout.slice(r.stdout.indexOf('NOTES:')),
      /curl -sI "https:\/\/biggan\.example\.com\/generate\?class=207&seed=7/,
    );
  });

  test('any host, several paths, no TLS without a secret', () => {
    const plain = one<Ingress>(
      render(
        '--set',
        'ingress.enabled=true',
        '--set',
        'ingress.paths[0].path=/generate',
        '--set',
        'ingress.paths[0].pathType=Prefix',
        '--set',
        'ingress.paths[1].path=/v1',
        '--set',
        'ingress.paths[1].pathType=Prefix',
      ),
      'Ingress',
    );
    assert.equal(plain.spec.tls, undefined);
    assert.equal(plain.spec.ingressClassName, undefined);
    assert.equal(plain.spec.rules[0].host, undefined);
    assert.deepEqual(
      plain.spec.rules[0].http.paths.map((p) => p.path),
      ['/generate', '/v1'],
    );
  });
});
