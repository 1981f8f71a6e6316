/**
 * One infer request, whatever transport carried it: the model and version it names, its decoded
 * input tensors and the outputs it asks for, to the service's generate requests and back to
 * output tensors. Only the outputs asked for are built (the `image` pixels are decoded from the
 * PNG only when `image` is asked for or no output is named).
 */
import { BigGanError, invalidArgument, quoteValue } from '../../errors.js';
import { generateRequests, samplesOf, OUTPUT_NAMES, type OutputName } from './biggan-tensors.js';
import { pngToRgb, type CallContext, type ModelInfo, type OipPort } from './service-port.js';
import type { Tensor } from './tensor.js';

/** Each model has one version. */
export const MODEL_VERSION = '1';

/** An output the request names, and whether it wants it as binary data (REST only). */
export interface RequestedOutput {
  readonly name: string;
  readonly binary?: boolean;
}

/** A decoded infer request. */
export interface InferRequest {
  readonly modelName: string;
  /** '' for none. */
  readonly modelVersion: string;
  readonly id?: string;
  readonly inputs: readonly Tensor[];
  /** Absent: every output. */
  readonly outputs?: readonly RequestedOutput[];
}

/** An output tensor: UINT8 pixels as one buffer, or BYTES elements. */
export type OutputTensor =
  | { readonly name: 'image'; readonly datatype: 'UINT8'; readonly shape: number[]; readonly raw: Buffer }
  | { readonly name: 'png'; readonly datatype: 'BYTES'; readonly shape: number[]; readonly elements: Buffer[] };

/** The answer to an infer request. */
export interface InferResult {
  readonly model: ModelInfo;
  readonly outputs: OutputTensor[];
}

/** The model a request names at `version`; NOT_FOUND for an unknown model or version. */
export function resolveModel(port: OipPort, name: string, version: string): ModelInfo {
  const model = port.model(name);
  if (version !== '' && version !== MODEL_VERSION) {
    throw new BigGanError(
      'NOT_FOUND',
      `model ${quoteValue(name)} has no version ${quoteValue(version)}; versions: ${MODEL_VERSION}`,
    );
  }
  return model;
}

/** The outputs to build, in the request's order (the model's order when none is named). */
export function outputsWanted(outputs: readonly RequestedOutput[] | undefined): OutputName[] {
  if (outputs === undefined || outputs.length === 0) return [...OUTPUT_NAMES];
  const seen = new Set<OutputName>();
  return outputs.map((o, i) => {
    if (!(OUTPUT_NAMES as readonly string[]).includes(o.name)) {
      throw invalidArgument(
        `outputs[${i}].name`,
        `must be one of ${OUTPUT_NAMES.join(', ')}, got ${quoteValue(o.name)}`,
      );
    }
    const name = o.name as OutputName;
    if (seen.has(name)) throw invalidArgument(`outputs[${i}].name`, `${name} is asked for twice`);
    seen.add(name);
    return name;
  });
}

/** Bytes of the `image` output for `samples` samples of `model`. */
export function imageBytes(model: ModelInfo, samples: number): number {
  return samples * model.resolution * model.resolution * 3;
}

/** Options of one run. */
export interface InferOptions {
  /** Refuse before computing when the `image` output alone would exceed this many bytes. */
  readonly maxImageBytes?: { readonly bytes: number; readonly what: string };
}

/** Runs one infer request through the service. */
export async function runInfer(
  port: OipPort,
  req: InferRequest,
  ctx: CallContext,
  opts: InferOptions = {},
): Promise<InferResult> {
  const model = resolveModel(port, req.modelName, req.modelVersion);
  const wanted = outputsWanted(req.outputs);
  const samples = samplesOf(req.inputs, model);
  const limit = opts.maxImageBytes;
  if (limit && wanted.includes('image') && imageBytes(model, samples.length) > limit.bytes) {
    throw new BigGanError(
      'PAYLOAD_TOO_LARGE',
      `the image output of ${samples.length} samples is ${imageBytes(model, samples.length)} bytes, above ${limit.what} (${limit.bytes} bytes): send fewer samples per request, or ask for the png output only`,
    );
  }
  const parts = await Promise.all(generateRequests(samples, model).map((r) => port.generate(r, ctx)));
  const images = parts.flat();
  const n = images.length;
  const outputs: OutputTensor[] = [];
  for (const name of wanted) {
    if (name === 'png') outputs.push({ name, datatype: 'BYTES', shape: [n], elements: images.map((i) => i.png) });
    else {
      const raw = Buffer.concat(await Promise.all(images.map((i) => pngToRgb(i.png))));
      outputs.push({ name, datatype: 'UINT8', shape: [n, images[0].height, images[0].width, 3], raw });
    }
  }
  return { model, outputs };
}
