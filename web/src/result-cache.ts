/** A small least-recently-used cache of results by request, so back/forward show them at once. */
export class ResultCache<T> {
  private readonly map = new Map<string, { value: T; evict?: (value: T) => void }>();

  constructor(private readonly capacity: number) {}

  get(key: string): T | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  /** Stores a value; `evict` frees it (e.g. revokes object URLs) when it falls out. */
  set(key: string, value: T, evict?: (value: T) => void): void {
    this.map.delete(key);
    this.map.set(key, { value, ...(evict ? { evict } : {}) });
    while (this.map.size > this.capacity) {
      const [oldest, entry] = this.map.entries().next().value ?? [];
      if (oldest === undefined || !entry) break;
      this.map.delete(oldest);
      entry.evict?.(entry.value);
    }
  }
}
