// `prepare` runs after `npm install` / `npm ci` in a clone: compile the TypeScript so that
// `npx biggan-serve` works at once. A production install (`npm ci --omit=dev`) has no
// TypeScript compiler; there the build output must already be present (the Docker image copies
// it from its build stage), so we say so instead of failing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  if (!existsSync('dist/src/cli/main.js')) {
    console.warn(
      'biggan-serve: TypeScript is not installed and dist/ is missing; run `npm install` (with dev dependencies) to build.',
    );
  }
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// The playground page (web/ -> dist/web).
const web = spawnSync(process.execPath, ['scripts/build-web.mjs'], { stdio: 'inherit' });
process.exit(web.status ?? 1);
