/**
 * What the browser tests share: Debian's chromium through playwright-core, a watch on each page
 * (outside requests, console errors, failed requests) and the no-horizontal-scroll check.
 */
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (playwright-core cannot download a browser here); CHROMIUM overrides the path. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What {@link watchPage} saw. */
export interface PageWatch {
  /** Requests sent so far to a path of the service (method-independent). */
  calls(path: string): number;
  /** Fails on outside requests, browser errors or failed requests other than the expected ones. */
  assertClean(): void;
}

/**
 * Records a page's requests to anything but `origin`, its console errors and its failed (4xx/5xx)
 * answers. `expectedFailures` lists `"<status> <path>"` answers the test provokes on purpose;
 * chromium reports each failed answer as a console error too, and those are matched to them.
 */
export function watchPage(page: Page, origin: string, expectedFailures: string[] = []): PageWatch {
  const outside: string[] = [];
  const errors: string[] = [];
  const failed: string[] = [];
  const calls = new Map<string, number>();
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) outside.push(url);
    else if (url.startsWith(origin)) {
      const p = new URL(url).pathname;
      calls.set(p, (calls.get(p) ?? 0) + 1);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.status()} ${new URL(res.url()).pathname}`);
  });
  page.on('console', (msg) => {
    // The answer itself is checked through `failed`; chromium's line about it carries no more.
    if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of \d+/.test(msg.text())) errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return {
    calls: (p) => calls.get(p) ?? 0,
    assertClean() {
      assert.deepEqual(outside, [], `the page requested outside assets: ${outside.join(', ')}`);
      assert.deepEqual(errors, [], `browser console errors: ${errors.join('; ')}`);
      const unexpected = failed.filter((f) => !expectedFailures.includes(f));
      assert.deepEqual(unexpected, [], `failed requests: ${unexpected.join(', ')}`);
    },
  };
}

/** Opens `url` in a new page of the given size, watched by {@link watchPage}, and waits until its network is idle. */
export async function openWatched(browser: Browser, url: string, viewport: { width: number; height: number }, expectedFailures: string[] = []): Promise<{ page: Page; watch: PageWatch }> {
  const page = await browser.newPage({ viewport });
  const watch = watchPage(page, url, expectedFailures);
  await page.goto(url, { waitUntil: 'networkidle' });
  return { page, watch };
}

/** Asserts that the page is no wider than its viewport (nothing scrolls sideways). */
export async function noSideScroll(page: Page, what: string): Promise<void> {
  const [scroll, client] = await page.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return [root.scrollWidth, root.clientWidth];
  });
  assert.ok(scroll <= client, `${what}: ${scroll} px of content in a ${client} px wide window scrolls sideways`);
}
