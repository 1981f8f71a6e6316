/**
 * The base of a RequestService decorator: every call passes to `inner`; a decorator overrides only
 * the calls it changes (QuotaService: generate and interpolate).
 */
import type {
  CacheKeys,
  CallContext,
  GenerateRequest,
  GenerateResult,
  InterpolateRequest,
  InterpolateResult,
  InterpolationFrame,
  RequestService,
} from './types.js';

/** Passes every call to `inner`. */
export abstract class RequestDecorator implements RequestService {
  constructor(protected readonly inner: RequestService) {}

  generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    return this.inner.generate(req, ctx);
  }

  interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    return this.inner.interpolate(req, ctx, onFrame);
  }

  generateKeys(req: GenerateRequest): CacheKeys {
    return this.inner.generateKeys(req);
  }

  interpolateKeys(req: InterpolateRequest): CacheKeys {
    return this.inner.interpolateKeys(req);
  }
}
