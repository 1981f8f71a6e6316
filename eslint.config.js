// ESLint flat config: the recommended JS and TypeScript rules over src/ and test/, and the
// import direction of src/ (the layer table below; README "Layout" describes the same).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/, by rank: a module may import modules of a LOWER rank and its own folder,
// never a module of the same rank elsewhere or of a higher rank. Requests flow
// transport -> service -> batching -> engine -> model -> weights; metrics observes batching and
// is used by service and transport; dataset (bulk generation into tar shards) sits beside
// service and drives the engine directly; download fetches model files beside engine; latents and
// image are leaf helpers beside weights; auth (key file, key checks, token buckets, file watches)
// is a leaf used by service (quotas) and transport (key checks, TLS reload); tracing (spans,
// request ids, log redaction; no HTTP or gRPC stack: the observers live in transport/) is a leaf
// used by service (call contexts) and transport; client (the typed REST client) sits beside
// transport, above the contract it is typed by; errors and package-root are below everything.
// Every folder of src/ is named here or in ROOTS / config (test/lint/layer-table.test.ts checks).
export const LAYERS = [
  { name: 'transport', rank: 7 },
  { name: 'client', rank: 7 },
  { name: 'service', rank: 6 },
  { name: 'dataset', rank: 6 },
  { name: 'metrics', rank: 5 },
  { name: 'batching', rank: 4 },
  { name: 'engine', rank: 3 },
  { name: 'download', rank: 3 },
  { name: 'model', rank: 2 },
  { name: 'weights', rank: 1 },
  { name: 'latents', rank: 1 },
  { name: 'image', rank: 1 },
  { name: 'auth', rank: 1 },
  { name: 'tracing', rank: 1 },
  { name: 'errors', rank: 0, file: true },
  { name: 'package-root', rank: 0, file: true },
];
// Composition roots wire the layers together: they may import anything, and nothing imports them.
// config/ is read by the roots only, and itself reads only the light modules listed here, so
// parsing flags never loads TensorFlow.js or ONNX Runtime.
export const ROOTS = ['cli', 'bench', 'server', 'access', 'index'];
export const CONFIG_FOLDER = 'config';
const CONFIG_MAY_IMPORT = ['errors.js', 'model/config.js', 'engine/choices.js'];
// Native runtimes and protocol stacks, each allowed in one layer only (and the roots).
const PACKAGES = [
  { regex: '^(@tensorflow/|onnxruntime-node$)', layer: 'engine', what: 'TensorFlow.js and ONNX Runtime' },
  { regex: '^(fastify$|@fastify/|@grpc/|grpc-health-check$)', layer: 'transport', what: 'HTTP and gRPC stacks' },
  { regex: '^ioredis$', layer: 'auth', what: 'The Redis client' },
];
// Deepest folder nesting under a layer folder (src/engine/ort/x.ts is depth 2).
const MAX_DEPTH = 3;

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Regex for a relative import, from `depth` folders below src/, of src/<name>/... or src/<name>.js. */
const target = (depth, names) => `^${'\\.\\./'.repeat(depth)}(${names.map(esc).join('|')})(/|\\.js$)`;

/** One `no-restricted-imports` pattern plus the same check on dynamic `import()`. */
function restriction(regex, message) {
  // esquery regex literals cannot hold '/', so it is written as \x2f there.
  return {
    pattern: { regex, message },
    selector: { selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\x2f')}/]`, message },
  };
}

function block(files, restrictions) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: restrictions.map((r) => r.pattern) }],
      'no-restricted-syntax': ['error', ...restrictions.map((r) => r.selector)],
    },
  };
}

function packageRestrictions(layerName) {
  return PACKAGES.filter((p) => p.layer !== layerName).map((p) =>
    restriction(p.regex, `${p.what} belong in src/${p.layer}/ only.`),
  );
}

function layerRestrictions(layer, depth) {
  const lower = LAYERS.filter((l) => l.rank < layer.rank).map((l) => l.name);
  const forbidden = [
    ...LAYERS.filter((l) => l.rank >= layer.rank && l.name !== layer.name).map((l) => l.name),
    'config',
    ...ROOTS,
  ];
  const message = `src/${layer.name}/ may import only ${lower.length ? lower.join(', ') : 'node built-ins and packages'} (lower layers; see eslint.config.js and README "Layout").`;
  return [restriction(target(depth, forbidden), message), ...packageRestrictions(layer.name)];
}

const layerBlocks = [];
for (const layer of LAYERS.filter((l) => !l.file)) {
  for (let depth = 1; depth <= MAX_DEPTH; depth++) {
    layerBlocks.push(block([`src/${layer.name}/${'*/'.repeat(depth - 1)}*.ts`], layerRestrictions(layer, depth)));
  }
}
// Worker threads load only worker-side code: never the host-side engine modules that start them.
const engine = LAYERS.find((l) => l.name === 'engine');
layerBlocks.push(
  block(
    ['src/engine/*/*-worker.ts'],
    [
      ...layerRestrictions(engine, 2),
      restriction(
        '^(\\./[a-z-]+-engine\\.js|\\.\\./create-engine\\.js)$',
        'A worker must not import the host side (*-engine.ts, create-engine.ts): share code through a worker-side module.',
      ),
    ],
  ),
);
for (const leaf of LAYERS.filter((l) => l.file)) {
  layerBlocks.push(
    block(
      [`src/${leaf.name}.ts`],
      [restriction('^\\.', `src/${leaf.name}.ts is at the bottom: it imports no other module of src/.`)],
    ),
  );
}
for (let depth = 1; depth <= MAX_DEPTH; depth++) {
  const allowed = CONFIG_MAY_IMPORT.map((p) => `${esc(p)}$`).join('|');
  layerBlocks.push(
    block(
      [`src/config/${'*/'.repeat(depth - 1)}*.ts`],
      [
        restriction(
          `^${'\\.\\./'.repeat(depth)}(?!${allowed})`,
          `src/config/ may import only ${CONFIG_MAY_IMPORT.join(', ')} (light modules: parsing flags loads no engine).`,
        ),
        ...PACKAGES.map((p) => restriction(p.regex, `src/config/ must not load ${p.what}.`)),
      ],
    ),
  );
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      'helm/**',
      'coverage/**',
      'src/transport/grpc/generated/**',
      'src/transport/oip/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerBlocks,
  {
    // Frame limit: a function of src/ fits on a screen or two; split it (one exception: the
    // unpickler's opcode loop, marked where it stands).
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['scripts/**/*.mjs', '*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
