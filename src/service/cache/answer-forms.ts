/**
 * Serialised forms of cached answers, made once and shared. A seeded count-16 answer at 512 px is
 * about 13 MB of JSON; serialising it per reply made every reader hold its own copy (about 28 MB
 * each with the string and its bytes), so 40 clients that never read pinned about 1 GB. Here a
 * transport asks the answer for its form (e.g. `json`) and stores the bytes it made; the next
 * identical answer gets the same Buffer, and every socket writing it shares one copy.
 *
 * The forms live beside the response cache (bounded by bytes, least recently used out first) and
 * are attached to a result through a WeakMap, so the service types do not change and a result
 * without a slot (a random answer) is simply serialised as before.
 */
import { ByteLru } from './lru-cache.js';

/** The shared serialised forms of one answer, by form name (`json`, ...). */
export interface AnswerForms {
  get(form: string): Buffer | undefined;
  set(form: string, bytes: Buffer): void;
}

const slots = new WeakMap<object, AnswerForms>();

/** The shared forms of `result`, when it is a repeatable (seeded) answer of a cache. */
export function answerForms(result: object): AnswerForms | undefined {
  return slots.get(result);
}

/** A byte-bounded store of serialised answers, keyed by the answer's cache identity and form. */
export class AnswerFormCache {
  private readonly lru: ByteLru<Buffer>;

  constructor(maxBytes: number) {
    this.lru = new ByteLru<Buffer>(maxBytes);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.lru.bytes;
  }

  /** Gives `result` (the answer of cache identity `responseKey`) its shared forms; returns it. */
  attach<T extends object>(result: T, responseKey: string): T {
    if (this.lru.maxBytes > 0) {
      slots.set(result, {
        get: (form) => this.lru.get(`${form}\0${responseKey}`),
        set: (form, bytes) => this.lru.set(`${form}\0${responseKey}`, bytes),
      });
    }
    return result;
  }
}
