/** The browser tests never skip silently: without Chromium they fail and say how to install it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from './harness.js';

test('a missing Chromium fails with how to install it', async () => {
  await assert.rejects(
    launchChromium('/nonexistent/chromium'),
    /missing\. Install it with `sudo apt-get install -y chromium`/,
  );
});
