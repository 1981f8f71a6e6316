// Builds the playground (web/): compiles its TypeScript modules with tsc into dist/web and copies
// the static files (web/public: index.html, style.css) beside them, so dist/web is the whole site.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'web/tsconfig.json'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync('dist/web', { recursive: true });
cpSync('web/public', 'dist/web', { recursive: true });
