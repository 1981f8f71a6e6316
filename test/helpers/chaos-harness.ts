/**
 * The chaos suite's side of the chaos server (chaos-server.ts): spawns it as a child process with
 * `--unhandled-rejections=strict`, sends it engine commands and waits on its engine events, and
 * reads its queue depth from /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ChaosCommand, ChaosEvent } from './chaos-engine.js';
import { FIXTURE_DIR } from './fixtures.js';

const SCRIPT = path.join(process.cwd(), 'dist/test/helpers/chaos-server.js');

type Message = ChaosEvent | { ack: number } | { ready: true; httpPort: number; grpcPort: number };

/** A running chaos server. */
export class ChaosServer {
  readonly events: ChaosEvent[] = [];
  stderr = '';
  /** Set when the process ended; a test fails if it ends before `stop`. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  httpPort = 0;
  grpcPort = 0;
  private nextId = 0;
  private waiters: (() => void)[] = [];
  /** Every message from the server (acks, events, the ready message). */
  private readonly acks: Message[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d));
    child.on('message', (m: Message) => {
      if ('event' in m) this.events.push(m);
      this.acks.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Starts the server with extra `serve` flags; resolves when it is ready. */
  static async start(flags: string[]): Promise<ChaosServer> {
    const child = spawn(
      process.execPath,
      [
        '--unhandled-rejections=strict',
        SCRIPT,
        '--weights',
        FIXTURE_DIR,
        '--host',
        '127.0.0.1',
        '--http-port',
        '0',
        '--grpc-port',
        '0',
        ...flags,
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    );
    const server = new ChaosServer(child);
    const ready = await server.until(
      () => server.acks.find((m): m is Extract<Message, { ready: true }> => 'ready' in m),
      60_000,
      'the server to start',
    );
    server.httpPort = ready.httpPort;
    server.grpcPort = ready.grpcPort;
    return server;
  }

  get base(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Sends an engine command; resolves once the server has applied it. */
  async command(c: ChaosCommand): Promise<void> {
    const id = ++this.nextId;
    this.child.send({ ...c, id });
    await this.until(() => this.acks.some((m) => 'ack' in m && m.ack === id), 10_000, `ack of ${c.cmd}`);
  }

  /**
   * Resolves with the `n`-th engine event (1-based) matching `pred` after index `from`, or with
   * 'gave-up' once `giveUp()` says it will not come (checked on each message and each `poke`).
   */
  event(
    pred: (e: ChaosEvent) => boolean,
    from: number,
    n = 1,
    giveUp: () => boolean = () => false,
  ): Promise<ChaosEvent | 'gave-up'> {
    return this.until(
      () => this.events.slice(from).filter(pred)[n - 1] ?? (giveUp() ? 'gave-up' : undefined),
      10_000,
      'an engine event',
    );
  }

  /** Re-checks every waiter after something outside the server changed (e.g. a request settled). */
  poke(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `get` returns something (re-checked on each message), failing if the server dies. */
  private until<T>(get: () => T | undefined | false, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      const check = (): void => {
        const v = get();
        if (v !== undefined && v !== false) {
          clearTimeout(timer);
          resolve(v);
        } else if (this.exit) {
          clearTimeout(timer);
          reject(
            new Error(`the server exited (${JSON.stringify(this.exit)}) while waiting for ${what}: ${this.stderr}`),
          );
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Reads one sample from /metrics: the metric's only series (unlabelled, or labelled by the one model served). */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.base}/metrics`)).text();
    // Summed over label sets (e.g. `model`); a labelled counter with no series yet is 0.
    const lines = text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    if (lines.length === 0) {
      if (text.includes(`# TYPE ${name} `)) return 0;
      throw new Error(`no metric ${name}`);
    }
    return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  /** Polls /metrics until `name` satisfies `ok` (state, not time: each poll is a round trip). */
  async metricUntil(name: string, ok: (v: number) => boolean, ms = 10_000): Promise<number> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await this.metric(name);
      if (ok(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** SIGTERM (graceful drain); resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (!this.exit) {
      this.child.kill('SIGTERM');
      await this.until(() => this.exit, 30_000, 'the server to exit');
    }
    return this.exit?.code ?? null;
  }

  /** Ends the process at once (test clean-up). */
  kill(): void {
    if (!this.exit) this.child.kill('SIGKILL');
  }
}
