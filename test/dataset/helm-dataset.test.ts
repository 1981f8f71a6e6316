/**
 * The chart's dataset Job (dataset.enabled=true): an Indexed Job with one part per index, the
 * Deployment's image, weights, GPU and security settings, writing into a ReadWriteMany claim or an
 * existing one, and pods the Services never select.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render, renderFails, one, type Manifest } from '../deploy/chart.js';

interface Container {
  name: string;
  image: string;
  args: string[];
  env?: { name: string; value?: string }[];
  resources: { limits?: Record<string, unknown> };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  restartPolicy: string;
  securityContext: Record<string, unknown>;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean }; emptyDir?: unknown }[];
}
interface Job extends Manifest {
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    backoffLimitPerIndex: number;
    maxFailedIndexes?: number;
    podFailurePolicy: {
      rules: {
        action: string;
        onPodConditions?: { type: string }[];
        onExitCodes?: { containerName: string; operator: string; values: number[] };
      }[];
    };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Deployment extends Manifest {
  spec: { selector: { matchLabels: Record<string, string> }; template: { spec: PodSpec } };
}
interface Claim extends Manifest {
  spec: { accessModes: string[]; resources: { requests: { storage: string } } };
}

const args = (c: Container, flag: string) => c.args[c.args.indexOf(flag) + 1];

test('no Job unless dataset.enabled; with it alone, an Indexed Job and a ReadWriteMany claim', () => {
  assert.equal(render().filter((o) => o.kind === 'Job').length, 0);
  const objs = render('--set', 'dataset.enabled=true');
  const job = one<Job>(objs, 'Job');
  const deployment = one<Deployment>(objs, 'Deployment');
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.equal(job.spec.completions, 4);
  assert.equal(job.spec.parallelism, 4);
  assert.equal(job.spec.backoffLimitPerIndex, 3);
  const rules = job.spec.podFailurePolicy.rules;
  assert.deepEqual(rules[0], { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] });
  assert.deepEqual(rules[1].onExitCodes, { containerName: 'dataset', operator: 'In', values: [2] });
  const pod = job.spec.template.spec;
  assert.equal(pod.restartPolicy, 'Never');
  const c = pod.containers[0];
  const server = deployment.spec.template.spec.containers[0];
  assert.equal(c.image, server.image);
  assert.deepEqual(c.securityContext, server.securityContext);
  assert.deepEqual(pod.securityContext, deployment.spec.template.spec.securityContext);
  assert.equal(c.args[0], 'dataset');
  assert.equal(args(c, '--parts'), '4');
  assert.equal(args(c, '--out'), '/data');
  assert.equal(args(c, '--classes'), '0-999');
  assert.equal(args(c, '--per-class'), '1280');
  assert.equal(c.env?.find((e) => e.name === 'BIGGAN_WEIGHTS')?.value, '/models/biggan-deep-128');
  assert.equal(pod.initContainers?.[0].args[0], 'download');
  const claim = one<Claim>(
    objs.filter((o) => o.kind === 'PersistentVolumeClaim'),
    'PersistentVolumeClaim',
    'rel-biggan-serve-dataset',
  );
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  assert.equal(
    pod.volumes.find((v) => v.name === 'output')?.persistentVolumeClaim?.claimName,
    'rel-biggan-serve-dataset',
  );
  assert.ok(c.volumeMounts.some((m) => m.name === 'output' && m.mountPath === '/data' && !m.readOnly));
  // The Services select the Deployment's pods only: the Job's pods must not match.
  const labels = job.spec.template.metadata.labels;
  assert.ok(
    Object.entries(deployment.spec.selector.matchLabels).some(([k, v]) => labels[k] !== v),
    "Job pods must not carry the Services' selector",
  );
});

test('GPU, existing claims, parts and spec values reach the Job', () => {
  const objs = render(
    '--set',
    'dataset.enabled=true',
    '--set',
    'gpu.enabled=true',
    '--set',
    'gpu.nodeSelector.accelerator=nvidia-l4',
    '--set',
    'dataset.parts=16',
    '--set',
    'dataset.parallelism=8',
    '--set',
    'dataset.output.existingClaim=shared-nfs',
    '--set',
    'weights.source=existingClaim',
    '--set',
    'weights.existingClaim=models',
    '--set',
    'dataset.format=webp',
    '--set',
    'dataset.seed=18446744073709551615',
    '--set',
    'dataset.maxFailedIndexes=2',
    '--set',
    'dataset.classes=207\\,208',
  );
  const job = one<Job>(objs, 'Job');
  assert.equal(job.spec.completions, 16);
  assert.equal(job.spec.parallelism, 8);
  assert.equal(job.spec.maxFailedIndexes, 2);
  const pod = job.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(c.resources.limits?.['nvidia.com/gpu'], 1);
  assert.match(c.image, /-gpu$/);
  assert.equal(c.env?.find((e) => e.name === 'BIGGAN_BACKEND')?.value, 'cuda');
  // gpu.nodeSelector is empty by default (docs/gpu.md); one that is set reaches the Job's pods.
  assert.equal(pod.nodeSelector?.accelerator, 'nvidia-l4');
  assert.equal(args(c, '--format'), 'webp');
  assert.equal(args(c, '--seed'), '18446744073709551615');
  assert.equal(args(c, '--classes'), '207,208');
  assert.equal(pod.initContainers, undefined);
  assert.deepEqual(pod.volumes.find((v) => v.name === 'weights')?.persistentVolumeClaim, {
    claimName: 'models',
    readOnly: true,
  });
  assert.equal(pod.volumes.find((v) => v.name === 'output')?.persistentVolumeClaim?.claimName, 'shared-nfs');
  assert.equal(
    objs.filter((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name.endsWith('-dataset')).length,
    0,
  );
});

test('bad dataset values are refused by the schema', () => {
  assert.match(renderFails('--set', 'dataset.enabled=true', '--set', 'dataset.parts=0'), /parts/);
  assert.match(renderFails('--set', 'dataset.enabled=true', '--set', 'dataset.format=gif'), /format/);
  assert.match(renderFails('--set', 'dataset.enabled=true', '--set', 'dataset.prefix=a.b'), /prefix/);
});
