/**
 * grpc.health.v1.Health for the gRPC server (npm grpc-health-check), as Kubernetes gRPC probes and
 * load balancers query it: the overall service "" and each named service report SERVING or
 * NOT_SERVING together.
 */
import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation, protoPath } from 'grpc-health-check';

/** Path of grpc/health/v1/health.proto (for reflection). */
export const HEALTH_PROTO_PATH: string = protoPath;

/** The health service of one server: every listed service name shares one status. */
export class HealthReporter {
  private readonly impl: HealthImplementation;
  private current = false;

  /** Starts NOT_SERVING: nothing is served until the owner says so. */
  constructor(private readonly serviceNames: readonly string[]) {
    this.impl = new HealthImplementation(Object.fromEntries(serviceNames.map((name) => [name, 'NOT_SERVING'])));
  }

  /** Registers grpc.health.v1.Health (Check and Watch) on `server`. */
  addToServer(server: grpc.Server): void {
    this.impl.addToServer(server);
  }

  /** Whether SERVING is reported now. */
  get serving(): boolean {
    return this.current;
  }

  /** Reports SERVING or NOT_SERVING for every service name (Watch streams see changes only). */
  set(serving: boolean): void {
    if (serving === this.current) return;
    this.current = serving;
    for (const name of this.serviceNames) this.impl.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  }
}
