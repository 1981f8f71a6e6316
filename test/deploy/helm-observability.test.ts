/**
 * Chart tests for the observability add-ons: the Grafana dashboard ConfigMap, the PrometheusRule,
 * the KEDA ScaledObject (the HPA's alternative) and their values' schema. The queries are run
 * against a real Prometheus in prometheus.test.ts; here they are checked statically.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createMetrics } from '../../src/metrics/metrics.js';
import {
  chartDir,
  dashboardOf,
  dashboardQueries,
  helm,
  one,
  render,
  renderFails,
  type ConfigMap,
  type Manifest,
  type PrometheusRule,
} from './chart.js';

interface ScaledObject extends Manifest {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    advanced?: {
      horizontalPodAutoscalerConfig?: { behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } } };
    };
    triggers: {
      type: string;
      metricType?: string;
      metadata: Record<string, string>;
      authenticationRef?: { name: string };
    }[];
  };
}
interface Deployment extends Manifest {
  spec: { replicas?: number };
}

const scenario = path.join(chartDir, 'ci', 'observability-values.yaml');
const ALERTS = [
  'BigganServeNotReady',
  'BigganServeQueueWaitHigh',
  'BigganServeUnavailableRatioHigh',
  'BigganServeErrorRatioHigh',
  'BigganServeRestarting',
];
const kinds = (objs: Manifest[]) => objs.map((o) => o.kind);

test('helm lint --strict passes with ci/observability-values.yaml', () => {
  const r = helm(['lint', '--strict', chartDir, '-f', scenario]);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

test('by default there is no dashboard, PrometheusRule or ScaledObject', () => {
  const k = kinds(render());
  for (const kind of ['ConfigMap', 'PrometheusRule', 'ScaledObject']) assert.ok(!k.includes(kind), kind);
});

describe('Grafana dashboard', () => {
  const objs = render('-f', scenario);

  test('a ConfigMap with the sidecar label, in the configured namespace and folder', () => {
    const cm = one<ConfigMap>(objs, 'ConfigMap', 'rel-biggan-serve-dashboard');
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    assert.equal(cm.metadata.namespace, 'monitoring');
    assert.equal(cm.metadata.annotations?.grafana_folder, 'ML');
    assert.deepEqual(Object.keys(cm.data), ['biggan-serve.json']);
    const custom = one<ConfigMap>(
      render(
        '--set',
        'dashboards.enabled=true',
        '--set',
        'dashboards.label=my_dashboards',
        '--set',
        'dashboards.labelValue=yes',
      ),
      'ConfigMap',
    );
    assert.equal(custom.metadata.labels?.my_dashboards, 'yes');
    assert.equal(custom.metadata.labels?.grafana_dashboard, undefined);
    assert.equal(custom.metadata.namespace, 'ml');
  });

  test('has the panels an operator needs, each on the chosen Prometheus data source', () => {
    const d = dashboardOf(objs);
    assert.equal(d.uid, 'biggan-serve');
    const titles = d.panels.map((p) => p.title);
    for (const needed of [
      'Images generated / s',
      'Requests / s by status',
      'Request latency (generate, interpolate)',
      'Queue depth (samples)',
      'Queue wait',
      'Batch size distribution',
      'Engine time per batch',
      'Ready pods',
      'Readiness by pod',
    ]) {
      assert.ok(titles.includes(needed), `panel ${needed}`);
    }
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of d.panels.filter((x) => x.type !== 'row')) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
    }
    const latency = d.panels.find((p) => p.title === 'Request latency (generate, interpolate)');
    assert.deepEqual(
      latency?.targets?.map((t) => /histogram_quantile\(([\d.]+)/.exec(t.expr)?.[1]),
      ['0.5', '0.95', '0.99'],
    );
  });

  test('every query is per model: grouped by the model label (process metrics by the pods serving the model) and filtered by the variables', () => {
    const d = dashboardOf(objs);
    const vars = d.templating.list.map((v) => v.name);
    assert.deepEqual(vars, ['datasource', 'namespace', 'model', 'pod']);
    for (const { panel, target } of dashboardQueries(d)) {
      assert.match(target.expr, /\bmodel\b/, `${panel}: per model`);
      assert.match(target.expr, /namespace="\$namespace"/, `${panel}: filtered by namespace`);
      assert.match(target.expr, /model=~"\$model"/, `${panel}: filtered by model`);
    }
  });

  test('queries use only metrics the service exports (standard names for the process metrics)', async () => {
    const exported = new Set<string>();
    for (const m of await createMetrics().registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) exported.add(m.name + suffix);
    }
    const used = new Set<string>();
    for (const { target } of dashboardQueries(dashboardOf(objs))) {
      for (const m of target.expr.matchAll(/\b((?:biggan|process|nodejs)_[a-z0-9_]+)\s*\{/g)) used.add(m[1]);
    }
    assert.ok(used.size >= 12, `queries name ${used.size} metrics`);
    for (const name of used) assert.ok(exported.has(name), `${name} is exported by the service`);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      assert.ok(used.has(name), name);
  });
});

describe('PrometheusRule', () => {
  const objs = render('-f', scenario);

  test('five alerts, with the ruleSelector labels, routing labels and thresholds from values', () => {
    const rule = one<PrometheusRule>(objs, 'PrometheusRule', 'rel-biggan-serve');
    assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(rule.metadata.labels?.release, 'kube-prometheus-stack');
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    assert.deepEqual(
      rules.map((r) => r.alert),
      ALERTS,
    );
    for (const r of rules) {
      assert.equal(r.labels.team, 'ml', `${r.alert}: ruleLabels`);
      assert.ok(r.labels.severity, `${r.alert}: severity`);
      assert.ok(r.annotations.summary && r.annotations.description, `${r.alert}: annotations`);
      assert.match(
        r.expr,
        /namespace="ml", pod=~"rel-biggan-serve-\[a-z0-9\]\+-\[a-z0-9\]\+"/,
        `${r.alert}: only this release's pods`,
      );
    }
    const byName = new Map(rules.map((r) => [r.alert, r]));
    assert.match(byName.get('BigganServeQueueWaitHigh')?.expr ?? '', /> 1\.5$/);
    assert.equal(byName.get('BigganServeNotReady')?.for, '5m');
    assert.match(byName.get('BigganServeUnavailableRatioHigh')?.expr ?? '', /> 0\.05$/);
  });

  test('alerts can be turned off one by one; the selector and restart source are configurable', () => {
    const rule = one<PrometheusRule>(
      render(
        '--set',
        'alerts.enabled=true',
        '--set',
        'alerts.errorRatio.enabled=false',
        '--set',
        'alerts.restarts.source=kubeStateMetrics',
        '--set-string',
        'metrics.selector=kubernetes_namespace="ml"',
      ),
      'PrometheusRule',
    );
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    assert.deepEqual(
      rules.map((r) => r.alert),
      ALERTS.filter((a) => a !== 'BigganServeErrorRatioHigh'),
    );
    for (const r of rules) assert.match(r.expr, /\{kubernetes_namespace="ml"/, r.alert);
    assert.match(
      rules.at(-1)?.expr ?? '',
      /kube_pod_container_status_restarts_total\{kubernetes_namespace="ml", container="server"\}/,
    );
  });
});

describe('KEDA ScaledObject', () => {
  const objs = render('-f', scenario);

  test('scales the Deployment on queued samples per pod from Prometheus, instead of the HPA', () => {
    const so = one<ScaledObject>(objs, 'ScaledObject', 'rel-biggan-serve');
    assert.equal(so.apiVersion, 'keda.sh/v1alpha1');
    assert.deepEqual(so.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rel-biggan-serve' });
    assert.equal(so.spec.minReplicaCount, 2);
    assert.equal(so.spec.maxReplicaCount, 6);
    assert.equal(so.spec.triggers.length, 1);
    const t = so.spec.triggers[0];
    assert.equal(t.type, 'prometheus');
    assert.equal(t.metricType, 'AverageValue');
    assert.equal(t.metadata.serverAddress, 'http://kube-prometheus-stack-prometheus.monitoring.svc:9090');
    assert.equal(
      t.metadata.query,
      'sum(biggan_queue_depth_samples{namespace="ml", pod=~"rel-biggan-serve-[a-z0-9]+-[a-z0-9]+"})',
    );
    assert.equal(t.metadata.threshold, '16');
    assert.equal(
      so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown?.stabilizationWindowSeconds,
      300,
      'autoscaling.behavior is passed on',
    );
    assert.ok(!kinds(objs).includes('HorizontalPodAutoscaler'));
    assert.equal(one<Deployment>(objs, 'Deployment').spec.replicas, undefined, 'KEDA owns the replica count');
  });

  test('a custom query and a TriggerAuthentication are passed through', () => {
    const so = one<ScaledObject>(
      render(
        '--set',
        'keda.enabled=true',
        '--set',
        'keda.query=sum(my_queue)',
        '--set',
        'keda.authenticationRef=prom-auth',
      ),
      'ScaledObject',
    );
    assert.equal(so.spec.triggers[0].metadata.query, 'sum(my_queue)');
    assert.deepEqual(so.spec.triggers[0].authenticationRef, { name: 'prom-auth' });
  });

  test('KEDA and the chart HPA are mutually exclusive', () => {
    const err = renderFails('-f', scenario, '--set', 'autoscaling.enabled=true');
    assert.match(err, /autoscaling\.enabled and keda\.enabled are alternatives/);
  });
});

describe('values.schema.json: observability values', () => {
  const cases: [string, string][] = [
    ['keda.minReplicaCount=0', "at '/keda/minReplicaCount'"],
    ['keda.serverAddress=prometheus:9090', "at '/keda/serverAddress'"],
    ['alerts.restarts.source=bogus', "at '/alerts/restarts/source'"],
    ['alerts.unavailableRatio.threshold=2', "at '/alerts/unavailableRatio/threshold'"],
    ['alerts.rateWindow=five', "at '/alerts/rateWindow'"],
    ['alerts.notReady.for=5', "at '/alerts/notReady/for'"],
    ['dashboards.bogus=1', "additional properties 'bogus' not allowed"],
  ];
  const many = renderFails(...cases.flatMap(([setting]) => ['--set', setting]));
  for (const [setting, where] of cases) {
    test(`--set ${setting} is refused`, () => {
      assert.match(many, /schema/);
      assert.ok(many.includes(where), `expected ${where} in:\n${many}`);
    });
  }

  test('decimal thresholds given with --set (strings) are accepted', () => {
    const rule = one<PrometheusRule>(
      render(
        '--set',
        'alerts.enabled=true',
        '--set',
        'alerts.errorRatio.threshold=0.02',
        '--set',
        'alerts.queueWait.thresholdSeconds=0.5',
      ),
      'PrometheusRule',
    );
    const exprs = rule.spec.groups
      .flatMap((g) => g.rules)
      .map((r) => r.expr)
      .join('\n');
    assert.match(exprs, /> 0\.02$/m);
    assert.match(exprs, /> 0\.5$/m);
  });
});

test('NOTES name the dashboard, the alerts and the KEDA ScaledObject', () => {
  const r = helm(['install', 'rel', chartDir, '--namespace', 'ml', '--dry-run=client', '-f', scenario]);
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
  assert.match(notes, /ConfigMap rel-biggan-serve-dashboard in monitoring \(grafana_dashboard=1\)/);
  assert.match(notes, /get prometheusrule rel-biggan-serve/);
  assert.match(notes, /Autoscaling \(KEDA\): 2-6 pods/);
});
