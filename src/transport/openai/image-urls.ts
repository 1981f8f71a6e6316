/**
 * `url` answers: absolute, seeded GET /generate URLs. Their base is the configured public base URL
 * (--public-base-url, e.g. https://images.example.com/biggan behind a path-prefixing proxy), else
 * the request's own scheme and Host. X-Forwarded-Proto / X-Forwarded-Host count only with
 * --trust-proxy: fastify's `trustProxy` then makes `request.protocol` and `request.host` read them
 * (from a trusted hop only), so a client cannot make us hand out links to another host.
 */
import type { FastifyRequest } from 'fastify';
import { invalidArgument, quoteValue } from '../../errors.js';

/** What one image URL fixes: everything that decides its pixels. */
export interface SeededImage {
  readonly model: string;
  /** A class index, or a mixture {index: weight}. */
  readonly class: number | string | Record<string, number>;
  readonly seed: bigint;
  readonly truncation: number;
}

/** `https://host[:port][/prefix]` without a trailing slash: the public base URL, else the request's origin. */
export function baseUrlOf(request: FastifyRequest, publicBaseUrl: string | undefined): string {
  if (publicBaseUrl !== undefined) return publicBaseUrl.replace(/\/+$/, '');
  let origin: string;
  try {
    origin = new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    throw invalidArgument(
      'Host',
      `is not a host name: ${quoteValue(request.host)} (a url answer is built from it; set --public-base-url)`,
    );
  }
  return origin;
}

/** The class as GET /generate's `class` parameter: `207`, or a mixture `207:0.5,852:0.5`. */
function classParam(spec: SeededImage['class']): string {
  if (typeof spec !== 'object') return String(spec);
  return Object.entries(spec)
    .map(([k, w]) => `${k}:${w}`)
    .join(',');
}

/** The GET /generate URL of one image (format png: the same bytes as the b64_json answer). */
export function seededImageUrl(base: string, image: SeededImage): string {
  const query = new URLSearchParams({
    class: classParam(image.class),
    seed: image.seed.toString(),
    truncation: String(image.truncation),
    model: image.model,
    format: 'png',
  });
  return `${base}/generate?${query.toString()}`;
}
