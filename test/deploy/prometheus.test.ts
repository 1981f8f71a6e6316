/**
 * The chart's alerts and dashboard checked by real Prometheus tools (Debian package `prometheus`):
 * `promtool check rules` on the rendered PrometheusRule, `promtool test rules` with a unit test per
 * alert (test/deploy/promtool), and a real Prometheus server that scrapes a running biggan-serve
 * (tiny-128 fixture) every second: after a short load every dashboard query returns data.
 * Missing tools fail the tests with the command that installs them (no silent skip).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { dashboardOf, dashboardQueries, one, render, root, type Dashboard, type PrometheusRule } from './chart.js';

const INSTALL =
  'install it with `apt-get install -y --no-install-recommends prometheus` (Debian/Ubuntu; `.ci/run` does this)';
const CLI = path.join(root, 'dist/src/cli/main.js');
const PROMTOOL_DIR = path.join(root, 'test/deploy/promtool');
// The labels a ServiceMonitor gives the scraped series; the pod name matches the Deployment's pattern
// that the rendered alerts select (release "rel", namespace "ml").
const NAMESPACE = 'ml';
const POD = 'rel-biggan-serve-7d9f8c6b5-abcde';

/** Absolute path of an executable on PATH (or /usr/bin); throws with the install command when absent. */
function tool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`${name} is not installed: ${INSTALL}`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'biggan-prom-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** The rendered alerting rules as a Prometheus rule file (the PrometheusRule's spec). */
function writeRules(file: string, ...extra: string[]): string {
  const rule = one<PrometheusRule>(render('--set', 'alerts.enabled=true', ...extra), 'PrometheusRule');
  const out = path.join(work, file);
  writeFileSync(out, stringify(rule.spec));
  return out;
}

function run(bin: string, args: string[], cwd = work): string {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `${path.basename(bin)} ${args.join(' ')} failed:\n${output}`);
  return output;
}

describe('promtool', () => {
  test('check rules: the rendered PrometheusRule is valid (both restart sources)', () => {
    const promtool = tool('promtool');
    const rules = writeRules('rules.yaml');
    const ksm = writeRules('rules-ksm.yaml', '--set', 'alerts.restarts.source=kubeStateMetrics');
    const out = run(promtool, ['check', 'rules', rules, ksm]);
    assert.equal((out.match(/SUCCESS: 5 rules found/g) ?? []).length, 2, out);
  });

  test('test rules: every alert fires on its input series and stays quiet on the others', () => {
    const promtool = tool('promtool');
    writeRules('rules.yaml');
    writeRules('rules-ksm.yaml', '--set', 'alerts.restarts.source=kubeStateMetrics');
    for (const f of ['alerts-test.yaml', 'restarts-ksm-test.yaml'])
      copyFileSync(path.join(PROMTOOL_DIR, f), path.join(work, f));
    const out = run(promtool, ['test', 'rules', 'alerts-test.yaml', 'restarts-ksm-test.yaml']);
    assert.equal((out.match(/SUCCESS/g) ?? []).length, 2, out);
  });
});

// ---- a real Prometheus scraping a real server ----

/** A free TCP port on 127.0.0.1 (closed again before use). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `fn` every 100 ms until it returns a value other than undefined, or throws after `ms`. */
async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}

/** A started child process and what it printed. */
interface Child {
  proc: ChildProcess;
  output: string;
}
function start(bin: string, args: string[]): Child {
  const child: Child = { proc: spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }), output: '' };
  child.proc.stdout?.on('data', (d: Buffer) => (child.output += d.toString()));
  child.proc.stderr?.on('data', (d: Buffer) => (child.output += d.toString()));
  return child;
}

describe('a real Prometheus scraping biggan-serve', { timeout: 60_000 }, () => {
  let server: Child | undefined;
  let prom: Child | undefined;
  let base = '';
  let promBase = '';
  let dashboard: Dashboard;
  // A set-up failure (e.g. prometheus not installed) fails every test with its message rather
  // than cancelling them.
  let setupError: unknown;
  const ready = () => {
    if (setupError) throw setupError;
  };

  async function query(expr: string): Promise<PromSample[]> {
    const res = await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as PromResponse<{ resultType: string; result: PromSample[] }>;
    assert.equal(body.status, 'success', `${expr}: ${body.error ?? res.status}`);
    return body.data.result;
  }

  /** Waits until Prometheus has scraped `images` generated images in total. */
  async function scraped(images: number): Promise<void> {
    await waitFor(`Prometheus to scrape ${images} images`, 15_000, async () => {
      const r = await query('sum(biggan_images_generated_total)');
      return r.length === 1 && Number(r[0].value[1]) === images ? true : undefined;
    });
  }

  /** `count` generate requests of 1-2 samples each, 4 at a time, plus one invalid request (400, counted as a rejection). */
  async function load(count: number, seed0: number): Promise<number> {
    const bad = await fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ class: 'no such class', seed: 1 }),
    });
    assert.equal(bad.status, 400);
    let images = 0;
    for (let i = 0; i < count; i += 4) {
      await Promise.all(
        [0, 1, 2, 3]
          .filter((j) => i + j < count)
          .map(async (j) => {
            const n = 1 + ((i + j) % 2);
            // Seeds 2 apart: a count-2 request's second image (seed + 1) is never another request's
            // first, so the response cache answers none of them and every image is generated.
            const res = await fetch(`${base}/generate`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ class: 207, seed: seed0 + 2 * (i + j), count: n }),
            });
            assert.equal(res.status, 200);
            await res.arrayBuffer();
            images += n;
          }),
      );
    }
    return images;
  }

  before(async () => {
    try {
      await setUp();
    } catch (err) {
      setupError = err;
    }
  });

  async function setUp(): Promise<void> {
    const prometheus = tool('prometheus');
    dashboard = dashboardOf(render('--set', 'dashboards.enabled=true'));
    const rules = writeRules('server-rules.yaml');

    server = start(process.execPath, [
      CLI,
      'serve',
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port=-1',
      '--engine',
      'ort',
      '--threads',
      '1',
      '--max-batch-size',
      '4',
      '--log-level',
      'info',
    ]);
    const httpPort = await waitFor(
      'the server to listen',
      30_000,
      async () => /"httpPort":(\d+)/.exec(server?.output ?? '')?.[1],
    );
    base = `http://127.0.0.1:${httpPort}`;

    const port = await freePort();
    promBase = `http://127.0.0.1:${port}`;
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [rules],
      scrape_configs: [
        {
          job_name: 'biggan-serve',
          static_configs: [{ targets: [`127.0.0.1:${httpPort}`], labels: { namespace: NAMESPACE, pod: POD } }],
        },
      ],
    };
    writeFileSync(path.join(work, 'prometheus.yml'), stringify(config));
    prom = start(prometheus, [
      `--config.file=${path.join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(work, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    await waitFor('Prometheus to be ready', 20_000, async () =>
      (await fetch(`${promBase}/-/ready`)).ok ? true : undefined,
    );
    await waitFor('the server to be ready', 30_000, async () =>
      (await fetch(`${base}/readyz`)).ok ? true : undefined,
    );
    await waitFor('a scrape of the ready server', 10_000, async () =>
      (await query('biggan_ready == 1')).length === 1 ? true : undefined,
    );
    // Two rounds of load with a scrape after each: every series exists in at least two scrapes
    // and grows between them, so rates and quantiles have data.
    const first = await load(8, 100);
    await scraped(first);
    const second = await load(12, 200);
    await scraped(first + second);
  }

  after(() => {
    for (const c of [prom, server]) if (c?.proc.pid !== undefined && c.proc.exitCode === null) c.proc.kill('SIGKILL');
  });

  test('every dashboard query returns data', async () => {
    ready();
    const vars: Record<string, string> = { __rate_interval: '1m', namespace: NAMESPACE, model: '.*', pod: '.*' };
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 15, `${queries.length} queries`);
    const empty: string[] = [];
    for (const { panel, target } of queries) {
      const expr = target.expr.replace(/\$(\w+)/g, (m, name: string) => vars[name] ?? m);
      assert.doesNotMatch(expr, /\$/, `${panel}: every variable is substituted`);
      const result = await query(expr);
      const finite = result.filter((s) => Number.isFinite(Number(s.value[1])));
      if (finite.length === 0) empty.push(`${panel} [${target.refId}]: ${expr} -> ${JSON.stringify(result)}`);
      // Process metrics belong to the pod (one process serves every model of its repository): per pod,
      // filtered to the pods serving $model. Service metrics carry the model label themselves.
      else if (/\b(process|nodejs)_/.test(expr))
        assert.ok(
          finite.every((s) => s.metric.pod === POD),
          `${panel}: per pod ${JSON.stringify(finite[0].metric)}`,
        );
      else if (!/\bsum by \(le\)/.test(expr))
        assert.ok(
          finite.every((s) => s.metric.model === 'tiny-128'),
          `${panel}: per model ${JSON.stringify(finite[0].metric)}`,
        );
    }
    assert.deepEqual(empty, [], 'panels without data');
  });

  test('the dashboard variables find the namespace, model and pod', async () => {
    ready();
    const values = async (label: string, match: string): Promise<string[]> => {
      const res = await fetch(`${promBase}/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`);
      return ((await res.json()) as PromResponse<string[]>).data;
    };
    const variable = (name: string) => {
      const v = dashboard.templating.list.find((x) => x.name === name);
      const q = typeof v?.query === 'string' ? v.query : v?.query.query;
      const m = /^label_values\((.+), (\w+)\)$/.exec(q ?? '');
      assert.ok(m, `${name}: label_values(...) query, got ${q}`);
      return { match: m[1].replace('$namespace', NAMESPACE).replace('$model', '.*'), label: m[2] };
    };
    for (const [name, expected] of [
      ['namespace', NAMESPACE],
      ['model', 'tiny-128'],
      ['pod', POD],
    ]) {
      const { match, label } = variable(name);
      assert.deepEqual(await values(label, match), [expected], name);
    }
  });

  test('Prometheus loads and evaluates every rendered alert without errors; none fires on a healthy server', async () => {
    ready();
    const res = await fetch(`${promBase}/api/v1/rules?type=alert`);
    const body = (await res.json()) as PromResponse<{
      groups: { rules: { name: string; health: string; lastError?: string; state: string }[] }[];
    }>;
    const rules = body.data.groups.flatMap((g) => g.rules);
    assert.equal(rules.length, 5);
    for (const r of rules) {
      assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? ''}`);
      assert.notEqual(r.state, 'firing', r.name);
    }
    // The process metrics under their standard names, with the scrape's pod label.
    const cpu = await query('process_cpu_seconds_total');
    assert.equal(cpu[0]?.metric.pod, POD);
  });
});
