/**
 * GPU defaults of the chart: no node selector (the GPU resource request places the pod under any
 * device plugin; the GPU operator's label is opt-in), a small thread count with gpu.enabled,
 * gpu.count above 1 refused by values.schema.json (only device 0 is used), and the liveness
 * timeout after a lost GPU passed to the server.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { one, render, renderFails, type Manifest } from './chart.js';

interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  name: string;
  env?: EnvVar[];
  resources?: { limits?: Record<string, string | number> };
}
interface Deployment extends Manifest {
  spec: { template: { spec: { nodeSelector?: Record<string, string>; containers: Container[] } } };
}

function server(objs: Manifest[]): {
  pod: Deployment['spec']['template']['spec'];
  env: Map<string, string | undefined>;
  limits: Record<string, string | number>;
} {
  const d = one<Deployment>(objs, 'Deployment');
  const c = d.spec.template.spec.containers[0];
  return {
    pod: d.spec.template.spec,
    env: new Map((c.env ?? []).map((e) => [e.name, e.value])),
    limits: c.resources?.limits ?? {},
  };
}

describe('helm template: GPU defaults', () => {
  test('gpu.enabled: one GPU, no node selector, BIGGAN_THREADS 4, cuda', () => {
    const s = server(render('--set', 'gpu.enabled=true'));
    assert.equal(s.limits['nvidia.com/gpu'], 1);
    assert.equal(s.pod.nodeSelector, undefined);
    assert.equal(s.env.get('BIGGAN_THREADS'), '4');
    assert.equal(s.env.get('BIGGAN_BACKEND'), 'cuda');
  });

  test('a node selector is opt-in, and merged over the general one', () => {
    const s = server(
      render(
        '--set',
        'gpu.enabled=true',
        '--set-string',
        'gpu.nodeSelector.nvidia\\.com/gpu\\.present=true',
        '--set',
        'nodeSelector.pool=inference',
      ),
    );
    assert.deepEqual(s.pod.nodeSelector, { 'nvidia.com/gpu.present': 'true', pool: 'inference' });
  });

  test('threads: an explicit value wins; gpu.threads sets the GPU default; without a GPU none is set', () => {
    assert.equal(server(render('--set', 'gpu.enabled=true', '--set', 'threads=2')).env.get('BIGGAN_THREADS'), '2');
    assert.equal(server(render('--set', 'gpu.enabled=true', '--set', 'gpu.threads=8')).env.get('BIGGAN_THREADS'), '8');
    assert.equal(server(render()).env.get('BIGGAN_THREADS'), undefined, 'cpu: all cores the container sees');
    assert.match(renderFails('--set', 'gpu.enabled=true', '--set', 'gpu.threads=0'), /\/gpu\/threads'?: minimum/);
  });

  test('gpu.count above 1 is refused by the schema (only device 0 would be used)', () => {
    const err = renderFails('--set', 'gpu.enabled=true', '--set', 'gpu.count=2');
    assert.match(err, /\/gpu\/count'?: maximum: got 2, want 1/);
  });

  test('BIGGAN_ENGINE_LIVENESS_TIMEOUT_MS: 300000 by default, settable, 0 allowed, negative refused', () => {
    assert.equal(server(render()).env.get('BIGGAN_ENGINE_LIVENESS_TIMEOUT_MS'), '300000');
    assert.equal(
      server(render('--set', 'engineHealth.livenessTimeoutMs=0')).env.get('BIGGAN_ENGINE_LIVENESS_TIMEOUT_MS'),
      '0',
    );
    assert.equal(
      server(render('--set', 'engineHealth.livenessTimeoutMs=60000')).env.get('BIGGAN_ENGINE_LIVENESS_TIMEOUT_MS'),
      '60000',
    );
    assert.match(renderFails('--set', 'engineHealth.livenessTimeoutMs=-1'), /livenessTimeoutMs/);
  });
});
