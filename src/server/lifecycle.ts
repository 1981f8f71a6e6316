/**
 * What the server opened, closed once in reverse order: on a failed start (whatever had been
 * opened so far) and at the end of a drain. Each part registers its closer right after opening,
 * so teardown is written once (the idea of avvio's `onClose` and Python's `async with`).
 */

/** One registered closer. */
interface Closer {
  readonly name: string;
  readonly close: () => Promise<unknown> | unknown;
}

/** Records closers and runs them once, last opened first. */
export class Lifecycle {
  private readonly closers: Closer[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly onCloseError: (name: string, err: unknown) => void = () => undefined) {}

  /** Registers `close` for the part just opened; it runs before the closers registered earlier. */
  defer(name: string, close: () => Promise<unknown> | unknown): void {
    this.closers.push({ name, close });
  }

  /** Runs every closer once, in reverse order; a failing closer is reported and the others still run. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.closers.splice(0).reverse()) {
        try {
          await c.close();
        } catch (err) {
          this.onCloseError(c.name, err);
        }
      }
    })();
    return this.closing;
  }
}
