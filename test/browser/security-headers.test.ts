/**
 * The security headers do not break the pages: the playground and Swagger UI load and run in
 * Chromium under the server's Content-Security-Policy with no CSP violation reported.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../../src/server/start.js';
import { launchChromium, startFixtureServer, openPlayground } from './harness.js';

let browser: Browser;
let server: RunningServer;
let base: string;

before(async () => {
  browser = await launchChromium();
  ({ server, base } = await startFixtureServer());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page that records every CSP violation message. */
async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return { page, violations };
}

test('the playground loads under the CSP without violations', async () => {
  const { page, violations } = await watchedPage();
  const res = await page.goto(base);
  assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await openPlayground(page, base);
  assert.deepEqual(violations, []);
  await page.close();
});

test('Swagger UI renders the API under the CSP without violations', async () => {
  const { page, violations } = await watchedPage();
  const res = await page.goto(new URL('docs/', base).toString());
  assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.locator('.swagger-ui .opblock').first().waitFor({ state: 'visible' });
  assert.ok((await page.locator('.swagger-ui .opblock').count()) > 3, 'operations are listed');
  assert.deepEqual(violations, []);
  await page.close();
});
