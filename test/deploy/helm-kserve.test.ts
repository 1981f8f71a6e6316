/**
 * The chart's KServe mode: `kserve.enabled=true` alone renders an InferenceService
 * (serving.kserve.io/v1beta1) whose predictor runs our image as a custom container with KServe's
 * port conventions (h1c 8080, h2c 8081), probes on /v2/health/*, and the Deployment's model
 * download, environment (ports aside), resources and volumes; no Deployment is rendered then.
 * Serverless exposes the one port `kserve.protocol` chooses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { one, render, renderFails, type Manifest } from './chart.js';

interface EnvVar {
  name: string;
  value?: string;
}
interface Port {
  name: string;
  containerPort: number;
}
interface Probe {
  httpGet: { path: string; port: number };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env: EnvVar[];
  ports?: Port[];
  resources: object;
  volumeMounts: object[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes: object[];
  terminationGracePeriodSeconds: number;
}
interface InferenceService extends Manifest {
  spec: { predictor: PodSpec & { minReplicas: number } };
}
interface Deployment extends Manifest {
  spec: { template: { spec: PodSpec } };
}

const isvc = (...extra: string[]) =>
  one<InferenceService>(render('--set', 'kserve.enabled=true', ...extra), 'InferenceService');
const ports = (s: InferenceService) =>
  (s.spec.predictor.containers[0].ports ?? []).map((p) => `${p.name}:${p.containerPort}`);

describe('KServe InferenceService', () => {
  test('kserve.enabled=true alone renders it, RawDeployment, with no Deployment beside it', () => {
    const objs = render('--set', 'kserve.enabled=true');
    const s = one<InferenceService>(objs, 'InferenceService');
    assert.equal(s.apiVersion, 'serving.kserve.io/v1beta1');
    assert.equal(s.metadata.annotations?.['serving.kserve.io/deploymentMode'], 'RawDeployment');
    assert.equal(objs.filter((o) => o.kind === 'Deployment').length, 0);
    assert.deepEqual(ports(s), ['h1c:8080', 'h2c:8081']);
  });

  test("the predictor runs the Deployment's container: image, download, env (ports aside), resources, volumes", () => {
    const d = one<Deployment>(render(), 'Deployment').spec.template.spec;
    const p = isvc().spec.predictor;
    const [server, kc] = [d.containers[0], p.containers[0]];
    assert.equal(kc.name, 'kserve-container');
    assert.equal(kc.image, server.image);
    assert.deepEqual(kc.args, server.args);
    assert.deepEqual(p.initContainers, d.initContainers);
    assert.deepEqual(kc.resources, server.resources);
    assert.deepEqual(kc.volumeMounts, server.volumeMounts);
    assert.deepEqual(p.volumes, d.volumes);
    assert.equal(p.terminationGracePeriodSeconds, d.terminationGracePeriodSeconds);
    const env = (c: Container) => c.env.filter((e) => !/_PORT$/.test(e.name));
    assert.deepEqual(env(kc), env(server));
    const port = (name: string) => kc.env.find((e) => e.name === name)?.value;
    assert.equal(port('BIGGAN_HTTP_PORT'), '8080');
    assert.equal(port('BIGGAN_GRPC_PORT'), '8081');
  });

  test('probes use the protocol health routes on the HTTP port', () => {
    const kc = isvc().spec.predictor.containers[0];
    assert.deepEqual(kc.readinessProbe?.httpGet, { path: '/v2/health/ready', port: 8080 });
    assert.deepEqual(kc.startupProbe?.httpGet, { path: '/v2/health/ready', port: 8080 });
    assert.deepEqual(kc.livenessProbe?.httpGet, { path: '/v2/health/live', port: 8080 });
  });

  test('Serverless exposes one port: HTTP by default, gRPC (h2c) when chosen', () => {
    assert.deepEqual(ports(isvc('--set', 'kserve.deploymentMode=Serverless')), ['h1c:8080']);
    assert.deepEqual(ports(isvc('--set', 'kserve.deploymentMode=Serverless', '--set', 'kserve.protocol=grpc')), [
      'h2c:8081',
    ]);
    assert.deepEqual(ports(isvc('--set', 'kserve.protocol=grpc')), ['h2c:8081', 'h1c:8080']);
  });

  test('the schema refuses an unknown mode or protocol', () => {
    assert.match(
      renderFails('--set', 'kserve.enabled=true', '--set', 'kserve.deploymentMode=ModelMesh'),
      /deploymentMode/,
    );
    assert.match(renderFails('--set', 'kserve.enabled=true', '--set', 'kserve.protocol=rest'), /protocol/);
  });
});
