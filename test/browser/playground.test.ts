/**
 * The playground in a real browser (headless Chromium via playwright-core) against the real server
 * on the tiny-128 fixture: every image the page shows must be byte-identical to what the REST API
 * answers for the same request. One browser and one server serve all tests.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import type { RunningServer } from '../../src/server/start.js';
import {
  launchChromium,
  startFixtureServer,
  post,
  imageBytes,
  setRange,
  openPlayground,
  pickClass,
  outputDir,
  until,
  inPage,
} from './harness.js';

/** True once the first result image is the one of this seed. */
const shownSeed = (seed: string) =>
  `document.querySelector('[data-testid="result-image"]')?.getAttribute('data-seed') === '${seed}'`;

let browser: Browser;
let server: RunningServer;
let base: string;
const contexts: BrowserContext[] = [];

before(async () => {
  // Launch first: a missing Chromium fails here, with how to install it.
  browser = await launchChromium();
  ({ server, base } = await startFixtureServer());
});

after(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await server?.stop();
});

async function newPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** Waits for `n` result images whose sources are set, and returns their locators. */
async function results(page: Page, n: number) {
  const imgs = page.getByTestId('result-image');
  await until(
    page,
    `(() => {
    const all = [...document.querySelectorAll('[data-testid="result-image"]')];
    return all.length === ${n} && all.every((i) => i.complete && i.naturalWidth > 0);
  })()`,
  );
  return imgs;
}

/** Opens the page and generates golden retriever, truncation 0.5, seed 7 through the controls. */
async function generateGolden(page: Page): Promise<void> {
  await openPlayground(page, base);
  await pickClass(page, 'class-input', 'golden', 'golden retriever');
  await setRange(page.getByTestId('truncation'), 0.5);
  await page.getByTestId('seed').fill('7');
  await page.getByTestId('generate').click();
  await results(page, 1);
}

test('type "golden", pick it, truncation 0.5, seed 7, Generate: the bytes equal POST /generate', async () => {
  const page = await newPage();
  await generateGolden(page);
  const api = await post(base, 'generate', { class: 207, seed: 7, truncation: 0.5 });
  assert.equal(api.status, 200);
  const shown = await imageBytes(page.getByTestId('result-image'));
  assert.ok(shown.equals(api.bytes), 'the page image differs from the API image');
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('class'), '207');
  assert.equal(url.searchParams.get('seed'), '7');
  assert.equal(url.searchParams.get('truncation'), '0.5');
  // The Generate button is enabled again and the caption names the class, seed and truncation.
  assert.equal(await page.getByTestId('generate').isDisabled(), false);
  const caption = await page.locator('figcaption').first().innerText();
  assert.match(caption, /golden retriever/);
  assert.match(caption, /seed 7 · t 0\.50/);
});

test('count 4 gives four images with seeds 7..10; clicking one makes its seed current', async () => {
  const page = await newPage();
  await generateGolden(page);
  await page.getByTestId('count').fill('4');
  await page.getByTestId('generate').click();
  const imgs = await results(page, 4);
  const seeds = await imgs.evaluateAll((els) => els.map((e) => e.getAttribute('data-seed')));
  assert.deepEqual(seeds, ['7', '8', '9', '10']);
  // Sample i reproduces alone: the second image is seed 8 by itself.
  const alone = await post(base, 'generate', { class: 207, seed: 8, truncation: 0.5 });
  assert.ok((await imageBytes(imgs.nth(1))).equals(alone.bytes));
  await imgs.nth(2).click();
  assert.equal(await page.getByTestId('seed').inputValue(), '9');
  assert.equal(new URL(page.url()).searchParams.get('seed'), '9');
});

test('a permalink in a new page restores the controls and the same bytes; back and forward work', async () => {
  const page = await newPage();
  await generateGolden(page);
  const first = await imageBytes(page.getByTestId('result-image'));
  const permalink = page.url();

  const other = await newPage();
  await other.goto(permalink);
  await results(other, 1);
  assert.equal(await other.getByTestId('class-input').inputValue(), 'golden retriever');
  assert.equal(await other.getByTestId('truncation').inputValue(), '0.5');
  assert.equal(await other.getByTestId('seed').inputValue(), '7');
  assert.ok((await imageBytes(other.getByTestId('result-image'))).equals(first));

  // A second generation, then back (seed 7 and its image) and forward (seed 12 again).
  await page.getByTestId('seed').fill('12');
  await page.getByTestId('generate').click();
  await until(page, shownSeed('12'));
  const second = await imageBytes(page.getByTestId('result-image'));
  assert.ok(!second.equals(first));
  await page.goBack();
  await until(page, shownSeed('7'));
  assert.equal(await page.getByTestId('seed').inputValue(), '7');
  assert.ok((await imageBytes(page.getByTestId('result-image'))).equals(first));
  await page.goForward();
  await until(page, shownSeed('12'));
  assert.equal(await page.getByTestId('seed').inputValue(), '12');
});

test('the mix slider gives the API mixture {"207": w, "1": 1 - w}', async () => {
  const page = await newPage();
  await openPlayground(page, base);
  await pickClass(page, 'class-input', 'golden', 'golden retriever');
  await pickClass(page, 'mix-class-input', 'goldf', 'goldfish');
  const w = 0.7;
  await setRange(page.getByTestId('mix'), w);
  await page.getByTestId('seed').fill('3');
  await page.getByTestId('generate').click();
  await results(page, 1);
  const api = await post(base, 'generate', { class: { '207': w, '1': 1 - w }, seed: 3, truncation: 0.4 });
  assert.equal(api.status, 200);
  assert.ok((await imageBytes(page.getByTestId('result-image'))).equals(api.bytes));
  // Not just the first class alone.
  const pure = await post(base, 'generate', { class: 207, seed: 3, truncation: 0.4 });
  assert.ok(!api.bytes.equals(pure.bytes));
  assert.match(await page.locator('figcaption').first().innerText(), /70% golden retriever \+ 30% goldfish/);
  // Reroll picks a new seed; unlocked, every Generate rolls one, and the URL keeps the one used.
  await page.getByTestId('reroll').click();
  assert.notEqual(await page.getByTestId('seed').inputValue(), '3');
  await page.locator('#lock').click();
  assert.equal(await page.locator('#lock').getAttribute('aria-pressed'), 'false');
  const before = await page.getByTestId('seed').inputValue();
  await page.getByTestId('generate').click();
  await until(page, `document.querySelector('[data-testid="result-image"]').getAttribute('data-seed') !== '3'`);
  const used = await page.getByTestId('seed').inputValue();
  assert.notEqual(used, before);
  assert.equal(await page.getByTestId('result-image').getAttribute('data-seed'), used);
  assert.equal(new URL(page.url()).searchParams.get('seed'), used);
  assert.equal(new URL(page.url()).searchParams.get('lock'), '0');
});

test('the interpolation view plays frames equal to /interpolate, scrubs, and downloads the GIF', async () => {
  const page = await newPage();
  await openPlayground(page, base);
  await page.getByTestId('tab-interpolate').click();
  await pickClass(page, 'interp-from-class', 'golden', 'golden retriever');
  await page.getByTestId('interp-from-seed').fill('1');
  await pickClass(page, 'interp-to-class', 'goldfish', 'goldfish');
  await page.getByTestId('interp-to-seed').fill('2');
  await page.getByTestId('interp-frames').fill('5');
  await page.getByTestId('interp-run').click();
  const frames = page.getByTestId('interp-result').getByTestId('interp-frame');
  await until(page, `document.querySelectorAll('[data-testid="interp-frame"]').length === 5`);
  const body = { from: { class: 207, seed: 1 }, to: { class: 1, seed: 2 }, frames: 5, method: 'lerp', truncation: 0.4 };
  const api = JSON.parse((await post(base, 'interpolate', { ...body, format: 'png' })).bytes.toString()) as {
    frames: { data: string }[];
  };
  assert.equal(api.frames.length, 5);
  for (let i = 0; i < 5; i++)
    assert.ok((await imageBytes(frames.nth(i))).equals(Buffer.from(api.frames[i].data, 'base64')), `frame ${i}`);
  // It plays: the shown frame moves on by itself.
  const screen = page.getByTestId('interp-frame-current');
  const src0 = await screen.getAttribute('src');
  await until(
    page,
    `document.querySelector('[data-testid="interp-frame-current"]').getAttribute('src') !== ${JSON.stringify(src0)}`,
  );
  // Scrubbing pauses and shows the chosen frame.
  await setRange(page.getByTestId('interp-scrub'), 3);
  assert.ok((await imageBytes(screen)).equals(Buffer.from(api.frames[3].data, 'base64')));
  assert.equal(await page.getByTestId('interp-play').getAttribute('aria-pressed'), 'false');
  // The GIF download is the API's animation for the same request.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('interp-download-gif').click(),
  ]);
  const gif = await readFile((await download.path())!);
  assert.ok(gif.equals((await post(base, 'interpolate', { ...body, format: 'gif' })).bytes));
  assert.equal(new URL(page.url()).searchParams.get('view'), 'interpolate');
});

/** Presses Tab until the focused element has this data-testid (at most 40 presses). */
async function tabTo(page: Page, testId: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if ((await inPage(page, `document.activeElement?.getAttribute('data-testid')`)) === testId) return;
  }
  assert.fail(`Tab never reached [data-testid=${testId}]`);
}

test('keyboard only: Tab, typing, arrow keys and Enter complete a generation, with a visible focus ring', async () => {
  const page = await newPage();
  await openPlayground(page, base);
  await tabTo(page, 'class-input');
  await page.keyboard.type('golden');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.getByTestId('class-option').first().getAttribute('aria-selected'), 'true');
  await page.keyboard.press('Enter');
  assert.equal(await page.getByTestId('class-input').inputValue(), 'golden retriever');
  await tabTo(page, 'truncation');
  const outline = await inPage(page, 'getComputedStyle(document.activeElement).outlineStyle');
  assert.notEqual(outline, 'none', 'the focused control shows no outline');
  await page.keyboard.press('ArrowRight'); // 0.40 -> 0.41
  await tabTo(page, 'seed');
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('11');
  await tabTo(page, 'generate');
  await page.keyboard.press('Enter');
  await results(page, 1);
  const api = await post(base, 'generate', { class: 207, seed: 11, truncation: 0.41 });
  assert.ok((await imageBytes(page.getByTestId('result-image'))).equals(api.bytes));
  // Escape closes an open list.
  await page.getByTestId('class-input').focus();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('gold');
  assert.ok(await page.locator('#class-list').isVisible());
  await page.keyboard.press('Escape');
  assert.ok(await page.locator('#class-list').isHidden());
});

test('API errors show inline: a real 400 names the field; a 503 says when to retry', async () => {
  const page = await newPage();
  await openPlayground(page, `${base}?class=5000&seed=1`);
  const error = page.getByTestId('error');
  await error.waitFor({ state: 'visible' });
  const text400 = await error.innerText();
  assert.match(text400, /5000/);
  assert.match(text400, /HTTP 400/);
  assert.match(text400, /field: class/);

  await page.route('**/v1/generate', (route) =>
    route.fulfill({
      status: 503,
      headers: { 'retry-after': '7', 'content-type': 'application/json' },
      body: JSON.stringify({ error: { code: 'OVERLOADED', message: 'the queue is full (64 samples)' } }),
    }),
  );
  await pickClass(page, 'class-input', 'golden', 'golden retriever');
  await page.getByTestId('generate').click();
  await until(page, `document.querySelector('[data-testid="error"]').textContent.includes('queue is full')`);
  const text503 = await error.innerText();
  assert.match(text503, /HTTP 503/);
  assert.match(text503, /Try again in [1-7] s/);
  await page.screenshot({ path: path.join(await outputDir(), 'playground-error-503.png') });
});

test('a 401 asks for an API key, keeps it in sessionStorage and sends it as a Bearer token', async () => {
  const page = await newPage();
  const seen: (string | undefined)[] = [];
  await page.route('**/v1/**', (route, request: Request) => {
    const auth = request.headers().authorization;
    seen.push(auth);
    if (auth !== 'Bearer sekrit') {
      return route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'an API key is required' } }),
      });
    }
    return route.continue();
  });
  await page.goto(base);
  const dialog = page.locator('#key-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.getByTestId('api-key').fill('wrong');
  await page.getByTestId('api-key-save').click();
  // Still 401: asked again, saying the key was refused.
  await until(page, `document.querySelector('#key-reason').textContent.includes('did not accept')`);
  await page.screenshot({ path: path.join(await outputDir(), 'playground-api-key.png') });
  await page.getByTestId('api-key').fill('sekrit');
  await page.getByTestId('api-key-save').click();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await inPage(page, `sessionStorage.getItem('biggan-api-key')`), 'sekrit');
  await pickClass(page, 'class-input', 'golden', 'golden retriever');
  await page.getByTestId('seed').fill('7');
  await page.getByTestId('generate').click();
  await results(page, 1);
  assert.equal(seen.at(-1), 'Bearer sekrit');
  assert.ok(seen.includes(undefined) && seen.includes('Bearer wrong'));
});

test('the model picker shows for several models and sends `model` only for a non-default one', async () => {
  const page = await newPage();
  const real = (await (await fetch(new URL('v1/models', base))).json()) as { models: { name: string }[] };
  const models = [real.models[0], { ...real.models[0], name: 'biggan-deep-256', resolution: 256 }];
  await page.route('**/v1/models', (route) =>
    route.fulfill({ contentType: 'application/json', body: JSON.stringify({ models }) }),
  );
  const bodies: Record<string, unknown>[] = [];
  const png = (await post(base, 'generate', { class: 207, seed: 1 })).bytes;
  await page.route('**/v1/generate', (route, request) => {
    bodies.push(JSON.parse(request.postData() ?? '{}') as Record<string, unknown>);
    // The server does not accept `model` yet: answer with a stand-in image.
    return route.fulfill({
      status: 200,
      contentType: 'image/png',
      headers: { 'x-seed': '1', 'x-truncation': '0.4', 'x-class': '{"207":1}' },
      body: png,
    });
  });
  await openPlayground(page, base);
  const picker = page.getByTestId('model');
  assert.ok(await picker.isVisible());
  await pickClass(page, 'class-input', 'golden', 'golden retriever');
  await page.getByTestId('generate').click();
  await results(page, 1);
  assert.equal('model' in bodies[0], false);
  await picker.selectOption('biggan-deep-256');
  await page.getByTestId('seed').fill('2');
  await page.getByTestId('generate').click();
  await until(page, `new URL(location.href).searchParams.get('seed') === '2'`);
  await until(page, `document.querySelector('[data-testid="generate"]').getAttribute('aria-busy') === 'false'`);
  assert.equal(bodies[1].model, 'biggan-deep-256');
  assert.equal(new URL(page.url()).searchParams.get('model'), 'biggan-deep-256');
});

test('"copy as curl" copies the exact request the page sends', async () => {
  const page = await newPage();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base.replace(/\/$/, '') });
  await openPlayground(page, base);
  await pickClass(page, 'class-input', 'golden', 'golden retriever');
  await page.getByTestId('seed').fill('5');
  await page.getByTestId('count').fill('2');
  const [request] = await Promise.all([page.waitForRequest('**/v1/generate'), page.getByTestId('generate').click()]);
  await results(page, 2);
  await page.locator('#copy-curl').click();
  await until(page, `document.querySelector('#copy-curl').textContent === 'Copied'`);
  const curl = String(await inPage(page, 'navigator.clipboard.readText()'));
  const m = /^curl -sS -X POST '([^']+)' -H 'content-type: application\/json' -d '([^']+)' -o 'out\.json'$/.exec(curl);
  assert.ok(m, `unexpected curl command: ${curl}`);
  assert.equal(m[1], request.url());
  assert.equal(m[2], request.postData());
  assert.deepEqual(JSON.parse(m[2]), { class: 207, truncation: 0.4, seed: 5, count: 2 });
});

test('screenshots at 1280 and 375 px (and the interpolate view at 1280); nothing overflows the phone width', async () => {
  const dir = await outputDir();
  for (const width of [1280, 375]) {
    const page = await newPage(width, width === 375 ? 812 : 900);
    await openPlayground(page, `${base}?class=207&mix=1&w=0.8&truncation=0.5&seed=7&count=4`);
    await results(page, 4);
    const overflow = Number(await inPage(page, 'document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the ${width} px viewport`);
    await page.screenshot({ path: path.join(dir, `playground-${width}.png`), fullPage: true });
    if (width !== 1280) continue;
    await page.goto(`${base}?view=interpolate&from=207&fromSeed=1&to=1&toSeed=2&frames=6`);
    await until(page, `document.querySelectorAll('[data-testid="interp-frame"]').length === 6`);
    await page.getByTestId('interp-play').click(); // pause, so the shot is steady
    await page.screenshot({ path: path.join(dir, `playground-interpolate-${width}.png`), fullPage: true });
  }
});
