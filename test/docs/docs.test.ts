/**
 * The documentation holds together: README.md stays a front page (at most 200 lines) whose map
 * names every file of docs/, every relative link in README.md and docs/*.md reaches an existing
 * file (and heading, for `#anchors`, slugged as GitHub does), and docs/operations.md names every
 * flag and environment variable of `biggan-serve serve --help`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Lexer, type Token } from 'marked';
import GithubSlugger from 'github-slugger';

/** Tests run from the repository root (scripts/run-tests.mjs). */
const ROOT = process.cwd();
const README = path.join(ROOT, 'README.md');
const DOCS = path.join(ROOT, 'docs');
const README_MAX_LINES = 200;

/** Every markdown file the checks cover: README.md and docs/*.md. */
function markdownFiles(): string[] {
  const docs = readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join(DOCS, f));
  return [README, ...docs];
}

/** Calls `visit` on every token of `tokens`, nested ones included (list items, table cells, inline text). */
function walk(tokens: readonly Token[], visit: (token: Token) => void): void {
  for (const token of tokens) {
    visit(token);
    const t = token as Token & {
      tokens?: Token[];
      items?: Token[];
      header?: { tokens: Token[] }[];
      rows?: { tokens: Token[] }[][];
    };
    if (t.tokens) walk(t.tokens, visit);
    if (t.items) walk(t.items, visit);
    for (const cell of t.header ?? []) walk(cell.tokens, visit);
    for (const row of t.rows ?? []) for (const cell of row) walk(cell.tokens, visit);
  }
}

/** The text a heading renders to (code spans without backticks, links as their text): what GitHub slugs. */
function plainText(tokens: readonly Token[]): string {
  return tokens
    .map((t) => {
      const inner = (t as Token & { tokens?: Token[] }).tokens;
      if (inner && inner.length > 0) return plainText(inner);
      return 'text' in t && typeof t.text === 'string' ? t.text : '';
    })
    .join('');
}

const parsed = new Map<string, Token[]>();
function tokensOf(file: string): Token[] {
  let tokens = parsed.get(file);
  if (!tokens) {
    tokens = new Lexer().lex(readFileSync(file, 'utf8'));
    parsed.set(file, tokens);
  }
  return tokens;
}

/** The anchors of a markdown file's headings, as GitHub generates them (duplicates get -1, -2, ...). */
function anchorsOf(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  walk(tokensOf(file), (t) => {
    if (t.type === 'heading') anchors.add(slugger.slug(plainText((t as Token & { tokens: Token[] }).tokens)));
  });
  return anchors;
}

/** The link and image targets of a markdown file, outside code. */
function linksOf(file: string): string[] {
  const hrefs: string[] = [];
  walk(tokensOf(file), (t) => {
    if ((t.type === 'link' || t.type === 'image') && 'href' in t && typeof t.href === 'string') hrefs.push(t.href);
  });
  return hrefs;
}

/** Why a relative link of `file` does not resolve, or undefined when it does. */
function brokenLink(file: string, href: string): string | undefined {
  const hash = href.indexOf('#');
  const target = decodeURIComponent(hash < 0 ? href : href.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
  const resolved = target === '' ? file : path.resolve(path.dirname(file), target);
  if (!existsSync(resolved)) return `${target}: no such file`;
  if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
    return `#${anchor}: no such heading in ${path.relative(ROOT, resolved)}`;
  }
  return undefined;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

test(`README.md is a front page of at most ${README_MAX_LINES} lines`, () => {
  const lines = readFileSync(README, 'utf8').split('\n').length - 1;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move reference material to docs/`);
});

test('every relative link in README.md and docs/*.md resolves, anchors included', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of markdownFiles()) {
    for (const href of linksOf(file)) {
      if (EXTERNAL.test(href)) continue;
      checked++;
      const why = brokenLink(file, href);
      if (why) broken.push(`${path.relative(ROOT, file)}: (${href}) ${why}`);
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 20, `only ${checked} relative links found: the link extraction is broken`);
});

test('the checker refuses a missing file and a missing heading', () => {
  assert.match(brokenLink(README, 'docs/no-such-file.md') ?? '', /no such file/);
  assert.match(brokenLink(README, 'docs/api.md#no-such-heading') ?? '', /no such heading/);
  assert.equal(brokenLink(README, 'docs/api.md'), undefined);
});

test("README's map of docs/ links every file of docs/", () => {
  const relative = linksOf(README).filter((h) => !EXTERNAL.test(h));
  const linked = new Set(relative.map((h) => path.resolve(ROOT, h.split('#')[0])));
  const missing = markdownFiles()
    .slice(1)
    .filter((f) => !linked.has(f))
    .map((f) => path.relative(ROOT, f));
  assert.deepEqual(missing, [], 'add one line per docs/ file to the map in README.md');
});

test('docs/operations.md names every flag and environment variable of `serve --help`', () => {
  const cli = path.join(ROOT, 'dist/src/cli/main.js');
  const help = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const flags = [...help.stdout.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => `--${m[1]}`).filter((f) => f !== '--help');
  const envs = [...help.stdout.matchAll(/env (BIGGAN_[A-Z0-9_]+)/g)].map((m) => m[1]);
  const counts = `parsed ${flags.length} flags and ${envs.length} variables from --help`;
  assert.ok(flags.length > 30 && envs.length > 30, counts);
  const ops = readFileSync(path.join(DOCS, 'operations.md'), 'utf8');
  const missing = [...flags, ...envs].filter((name) => !new RegExp(`\`${name}[\` =]`).test(ops));
  assert.deepEqual(missing, [], 'document these in the flag table of docs/operations.md');
});
