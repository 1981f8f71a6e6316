/**
 * Browser-test harness: one real server on the tiny-128 fixture (port 0) and one headless
 * Chromium from Debian's `chromium` package, driven by playwright-core. A missing Chromium fails
 * the tests with how to install it (never a silent skip).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page, type Locator } from 'playwright-core';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

/** Chromium used by the tests (override with CHROMIUM_PATH). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots go (git-ignored). */
export const OUTPUT_DIR = path.join(process.cwd(), 'test-output');

/** Launches headless Chromium (a fresh temporary profile per launch); throws how to install it when absent. */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `The browser tests need Chromium at ${executablePath}, which is missing. Install it with ` +
        '`sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), or point CHROMIUM_PATH at a Chrome/Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

/** Starts the real server (HTTP only) on the fixture. */
export async function startFixtureServer(): Promise<{ server: RunningServer; base: string }> {
  const { config } = parseServerConfig(
    [
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port=-1',
      '--max-batch-size',
      '8',
      '--max-queue-delay-ms',
      '2',
      '--max-samples-per-request',
      '16',
    ],
    {},
  );
  const server = await startServer(config, { logger: false });
  return { server, base: `http://127.0.0.1:${server.httpPort}/` };
}

/** POSTs JSON to the API and returns status, headers and body bytes. */
export async function post(
  base: string,
  route: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(new URL(route, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The exact bytes behind an <img> (blob: or data: URL), read inside the page. */
export async function imageBytes(img: Locator): Promise<Buffer> {
  const src = await img.getAttribute('src');
  if (!src) throw new Error('the image has no src');
  const b64: unknown = await img.page().evaluate(`(async () => {
    const buf = new Uint8Array(await (await fetch(${JSON.stringify(src)})).arrayBuffer());
    let s = '';
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(s);
  })()`);
  if (typeof b64 !== 'string') throw new Error('could not read the image bytes');
  return Buffer.from(b64, 'base64');
}

/** Sets a range input as a user would (Playwright's fill sets the value and fires input and change). */
export async function setRange(range: Locator, value: number): Promise<void> {
  await range.fill(String(value));
}

/**
 * In-page code is passed as strings: the test build has no DOM types (lib "dom" is only in the
 * page's own tsconfig), and a string keeps Node's and the browser's globals apart.
 */

/**
 * Waits until an expression is true in the page (up to 30 s). Polled with `page.evaluate`, which
 * the page's Content-Security-Policy does not govern: `page.waitForFunction` compiles a string
 * in the page, which a CSP without 'unsafe-eval' (the server's) refuses.
 */
export async function until(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(`Boolean(${expression})`))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Evaluates an expression in the page. */
export async function inPage(page: Page, expression: string): Promise<unknown> {
  return page.evaluate(expression);
}

/** Opens the playground and waits until it has loaded its models and classes. */
export async function openPlayground(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
}

/** Types into a class picker and chooses the option whose text contains `optionText`. */
export async function pickClass(page: Page, testId: string, typed: string, optionText: string): Promise<void> {
  const input = page.getByTestId(testId);
  await input.fill(typed);
  await page.getByTestId('class-option').filter({ hasText: optionText }).first().click();
}

/** Makes the screenshot folder. */
export async function outputDir(): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  return OUTPUT_DIR;
}
