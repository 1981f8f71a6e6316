/**
 * Access control as the server wires it: the key file (watched), the quota store (in process or
 * Redis, with its metric and log lines), and the TLS material (watched); SIGHUP re-reads the key
 * file and the certificates. A composition root beside server.ts.
 */
import type { AccessSettings } from './config/server-config.js';
import type { Metrics } from './metrics/metrics.js';
import { KeyFile } from './auth/key-file-loader.js';
import { LocalQuotaStore, type QuotaStore } from './auth/quota-store.js';
import { RedisQuotaStore, redactedRedisUrl } from './auth/redis-quota-store.js';
import type { QuotaOptions } from './service/quota-service.js';
import { TlsMaterial } from './transport/tls.js';

/** Where access control logs (the server's JSON logger). */
export interface AccessLog {
  info(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
}

/** The running access-control pieces. */
export interface Access {
  /** Undefined without --api-keys: the API is open. */
  readonly keyFile: KeyFile | undefined;
  /** Undefined without --tls-cert: plain HTTP and gRPC. */
  readonly tls: TlsMaterial | undefined;
  readonly quota: QuotaOptions;
  /** Re-reads the key file and the certificates (what SIGHUP does). */
  reload(): void;
  close(): Promise<void>;
}

/** Least time between two "quota store failed" log lines, ms (each failure is still counted). */
const STORE_FAILURE_LOG_MS = 10_000;

/**
 * Loads the key file and TLS files (an invalid one throws: start-up fails with its line/field) and
 * opens the quota store. `config` is the access group of the server's settings. `log` is called lazily, so the logger may be created after this.
 */
export function setUpAccess(config: AccessSettings, metrics: Metrics, log: () => AccessLog): Access {
  const keyFile = config.apiKeysFile
    ? new KeyFile(config.apiKeysFile, {
        onReloaded: (names) => log().info('API keys reloaded', { file: config.apiKeysFile, keys: names.length, names }),
        onRejected: (message) => log().warn(`API key file not reloaded: ${message}`, { file: config.apiKeysFile }),
      })
    : undefined;
  const tls =
    config.tlsCert && config.tlsKey
      ? new TlsMaterial(
          { cert: config.tlsCert, key: config.tlsKey, clientCa: config.tlsClientCa },
          {
            onReloaded: () => log().info('TLS certificates reloaded', { cert: config.tlsCert }),
            onRejected: (message) => log().warn(`TLS certificates not reloaded: ${message}`),
          },
        )
      : undefined;
  let store: QuotaStore;
  if (config.quotaRedis) {
    const where = redactedRedisUrl(config.quotaRedis);
    metrics.registry.registerMetric(metrics.quotaStoreUp);
    metrics.quotaStoreUp.set(0);
    store = new RedisQuotaStore({
      url: config.quotaRedis,
      onStateChange: (up, reason) => {
        metrics.quotaStoreUp.set(up ? 1 : 0);
        if (up) log().info('quota store (Redis) reachable again: quotas are shared again', { redis: where });
        else
          log().warn(
            `quota store (Redis) unreachable: ${reason ?? 'no answer'}; ${config.quotaRedisFailure === 'closed' ? 'requests of keys with a quota get 503 until it is back' : 'requests of keys with a quota pass unmetered until it is back'} (--quota-redis-failure ${config.quotaRedisFailure})`,
            { redis: where },
          );
      },
    });
  } else {
    store = new LocalQuotaStore();
  }
  let lastFailureLog = -Infinity;
  const quota: QuotaOptions = {
    store,
    failure: config.quotaRedisFailure,
    observer: {
      rejected: (key) => metrics.quotaRejections.inc({ key }),
      images: (key, count) => metrics.keyImages.inc({ key }, count),
      storeFailed: (err, failOpen) => {
        metrics.quotaStoreErrors.inc();
        const now = performance.now();
        if (now - lastFailureLog < STORE_FAILURE_LOG_MS) return;
        lastFailureLog = now;
        log().warn(
          `quota store (Redis) failed: ${err instanceof Error ? err.message : String(err)}; ${failOpen ? 'request let through unmetered' : 'request refused with 503'}`,
        );
      },
    },
  };
  keyFile?.startWatching();
  tls?.startWatching();
  const reload = () => {
    keyFile?.reload();
    tls?.reload();
  };
  return {
    keyFile,
    tls,
    quota,
    reload,
    async close() {
      keyFile?.close();
      tls?.close();
      await store.close();
    },
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}
