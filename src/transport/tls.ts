/**
 * TLS material for both listeners, re-read on change: the certificate chain and key (and the
 * client CA for mutual TLS) are read and checked (`tls.createSecureContext`) at start-up, where a
 * bad file fails the start; `reload()` (on a file change or SIGHUP) swaps them in on the HTTPS
 * server (`setSecureContext`) and on gRPC (a grpc-js CertificateProvider), or keeps the old ones
 * and reports why when the new files do not load (e.g. a half-written renewal).
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { BigGanError } from '../errors.js';
import { watchFiles, type FileWatch } from '../auth/file-watch.js';

/** Paths of the PEM files. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** CA bundle clients' certificates must chain to (mutual TLS). */
  readonly clientCa?: string | undefined;
}

type Identity = grpc.experimental.IdentityCertificateUpdate;
type Ca = grpc.experimental.CaCertificateUpdate;

/** A CertificateProvider whose certificates are pushed by `TlsMaterial`. */
class PushedCertificates implements grpc.experimental.CertificateProvider {
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();

  constructor(
    private identity: Identity,
    private ca: Ca | null,
  ) {}

  push(identity: Identity, ca: Ca | null): void {
    this.identity = identity;
    this.ca = ca;
    for (const l of this.identityListeners) l(identity);
    for (const l of this.caListeners) l(ca);
  }

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    process.nextTick(listener, this.ca);
  }

  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    process.nextTick(listener, this.identity);
  }

  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }
}

/** What a reload reports. */
export interface TlsReloadEvents {
  onReloaded?(): void;
  onRejected?(message: string): void;
}

/** The server's TLS files, loaded and kept current. */
export class TlsMaterial {
  private current: SecureContextOptions;
  private readonly provider: PushedCertificates;
  private readonly servers = new Set<{ setSecureContext(options: SecureContextOptions): void }>();
  private watch: FileWatch | undefined;

  /** Reads and checks the files now (throws INVALID_CONFIG naming the file at fault). */
  constructor(
    readonly files: TlsFiles,
    private readonly events: TlsReloadEvents = {},
  ) {
    this.current = TlsMaterial.read(files);
    this.provider = new PushedCertificates(this.identity(), this.ca());
  }

  private static read(files: TlsFiles): SecureContextOptions {
    const readPem = (file: string, what: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new BigGanError('INVALID_CONFIG', `cannot read the TLS ${what} ${file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    };
    const options: SecureContextOptions = {
      cert: readPem(files.cert, 'certificate (--tls-cert)'),
      key: readPem(files.key, 'private key (--tls-key)'),
      ...(files.clientCa ? { ca: readPem(files.clientCa, 'client CA (--tls-client-ca)') } : {}),
    };
    try {
      createSecureContext(options);
    } catch (err) {
      const files_ = [files.cert, files.key, files.clientCa].filter(Boolean).join(', ');
      throw new BigGanError('INVALID_CONFIG', `the TLS files (${files_}) do not load: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return options;
  }

  /** Options of the HTTPS server (client certificates required when a client CA is set). */
  httpsOptions(): SecureContextOptions & { requestCert: boolean } {
    return { ...this.current, requestCert: this.files.clientCa !== undefined };
  }

  /** Registers an HTTPS server to receive reloaded certificates. */
  attachHttps(server: { setSecureContext(options: SecureContextOptions): void }): void {
    this.servers.add(server);
  }

  /** gRPC server credentials that follow reloads (client certificates required with a client CA). */
  grpcCredentials(): grpc.ServerCredentials {
    // grpc-js's exported function passes its first argument on as the identity provider.
    return grpc.experimental.createCertificateProviderServerCredentials(
      this.provider,
      this.files.clientCa ? this.provider : null,
      this.files.clientCa !== undefined,
    );
  }

  /** Re-reads the files; keeps the old ones (and reports why) when the new ones do not load. */
  reload(): boolean {
    let next: SecureContextOptions;
    try {
      next = TlsMaterial.read(this.files);
    } catch (err) {
      this.events.onRejected?.(`${(err as Error).message}; keeping the certificates loaded before`);
      return false;
    }
    const same = (a: unknown, b: unknown) => (a instanceof Buffer && b instanceof Buffer ? a.equals(b) : a === b);
    if (same(next.cert, this.current.cert) && same(next.key, this.current.key) && same(next.ca, this.current.ca))
      return false;
    this.current = next;
    for (const s of this.servers) s.setSecureContext(next);
    this.provider.push(this.identity(), this.ca());
    this.events.onReloaded?.();
    return true;
  }

  startWatching(): void {
    this.watch ??= watchFiles(
      [this.files.cert, this.files.key, ...(this.files.clientCa ? [this.files.clientCa] : [])],
      () => this.reload(),
    );
  }

  close(): void {
    this.watch?.close();
    this.watch = undefined;
  }

  private identity(): Identity {
    const { cert, key } = this.current;
    if (!(cert instanceof Buffer) || !(key instanceof Buffer))
      throw new BigGanError('INTERNAL', 'TLS material not loaded');
    return { certificate: cert, privateKey: key };
  }

  private ca(): Ca | null {
    return this.current.ca instanceof Buffer ? { caCertificate: this.current.ca } : null;
  }
}
