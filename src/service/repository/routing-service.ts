/**
 * The request path over a model repository: each model has its own response cache (its front) in
 * front of its handle, and the router picks the front of the model the request names (the default
 * model when it names none; NOT_FOUND listing the models when unknown).
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
} from '../types.js';
import type { ModelCatalog } from './model-catalog.js';
import type { ModelHandle } from './model-handle.js';

/** Dispatches every call by its `model`. */
export class RoutingService implements RequestService {
  private readonly fronts = new Map<string, RequestService>();

  /** `front` builds the keyed (cached) service of a model over its handle. */
  constructor(
    private readonly catalog: ModelCatalog,
    front: (handle: ModelHandle) => RequestService,
  ) {
    for (const handle of catalog.allHandles()) this.fronts.set(handle.source.name, front(handle));
  }

  generateKeys(req: GenerateRequest): CacheKeys {
    return this.front(req.model).generateKeys(req);
  }

  interpolateKeys(req: InterpolateRequest): CacheKeys {
    return this.front(req.model).interpolateKeys(req);
  }

  generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    return this.front(req.model).generate(req, ctx);
  }

  interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    return this.front(req.model).interpolate(req, ctx, onFrame);
  }

  private front(name: string | undefined): RequestService {
    return this.fronts.get(this.catalog.handle(name).source.name)!;
  }
}
