/**
 * Calls back when a file changes: a watch on its folder (not the file), so an editor's
 * write-and-rename and a Kubernetes Secret update (which swaps a `..data` symlink in the folder)
 * are both seen. Bursts of events within `debounceMs` become one call.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** A running watch; `close()` stops it. */
export interface FileWatch {
  close(): void;
}

/** Watches the folders of `files` and calls `onChange` (debounced) after any change there that may touch them. */
export function watchFiles(files: readonly string[], onChange: () => void, debounceMs = 100): FileWatch {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const dir = path.dirname(path.resolve(f));
    const names = byDir.get(dir) ?? new Set<string>();
    names.add(path.basename(f));
    byDir.set(dir, names);
  }
  for (const [dir, names] of byDir) {
    const w = watch(dir, { persistent: false }, (_event, name) => {
      // Kubernetes swaps `..data`; editors write temporary files then rename over the target.
      if (name === null || names.has(name) || name.startsWith('..')) fire();
    });
    // A folder that disappears (unmounted) must not crash the server; reloads via SIGHUP still work.
    w.on('error', () => undefined);
    watchers.push(w);
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
