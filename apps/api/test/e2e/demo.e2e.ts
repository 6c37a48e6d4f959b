/**
 * Browser test of the demo page with Debian's chromium (playwright-core, no downloaded browser):
 * starts the service on a free loopback port with tiny models trained in a temp dir, loads the
 * page, runs a sentiment query, a streamed generation and a forecast, and saves a screenshot.
 *
 *   node --conditions=@seqlab/source --import tsx apps/api/test/e2e/demo.e2e.ts [screenshot.png] [--default-models]
 *
 * Exits non-zero on any failed check. CHROMIUM overrides the browser path (default /usr/bin/chromium).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createConfig, startServer } from '../../src/index.js';
import { trainTinyModels } from '../tiny-models.js';

const screenshotArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const screenshot = path.resolve(screenshotArg ?? path.join(os.tmpdir(), 'seqlab-demo.png'));
// --default-models runs against models/ (what `npm start` serves) instead of tiny models.
const useDefaults = process.argv.includes('--default-models');
const dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-e2e-'));
const t0 = performance.now();
const models = useDefaults ? undefined : await trainTinyModels(dir);
const running = await startServer(
  createConfig({
    port: 0,
    ...(models ? { modelsDir: dir, sentimentModel: models.sentiment, generatorModel: models.generator } : {}),
    workers: 1,
    logLevel: 'warn',
  }),
);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  await running.services.whenReady();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const outside: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(running.url) && !req.url().startsWith('data:')) outside.push(req.url());
  });
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));

  await page.goto(running.url, { waitUntil: 'networkidle' });
  await page.waitForSelector('#status.ready', { timeout: 30_000 });

  // Sentiment: every sentence gets a label and words shaded by attention weight.
  await page.fill('#sentiment-input', 'a gripping, beautifully acted film\nthe plot is dull and the jokes fall flat');
  await page.click('#sentiment-run');
  await page.waitForSelector('#sentiment-results li:nth-child(2) .tok', { timeout: 30_000 });
  const labels = await page.$$eval('#sentiment-results .label', (els) => els.map((e) => e.textContent ?? ''));
  assert.equal(labels.length, 2);
  for (const l of labels) assert.match(l, /^(positive|negative) \d+%$/);
  const shades = await page.$$eval('#sentiment-results li:first-child .tok', (els) => els.map((e) => (e as unknown as { style: { backgroundColor: string } }).style.backgroundColor));
  assert.ok(shades.length >= 4, `expected shaded tokens, got ${shades.length}`);
  assert.ok(new Set(shades).size > 1, 'tokens should be shaded differently by attention weight');

  // Streaming generation with sampling controls.
  await page.fill('#generate-prompt', 'ROMEO:');
  await page.fill('#g-maxTokens', '60');
  await page.fill('#g-seed', '5');
  await page.click('#generate-run');
  await page.waitForSelector('#generate-output[data-done="true"]', { timeout: 30_000 });
  const generated = (await page.textContent('#generate-output')) ?? '';
  assert.ok(generated.startsWith('ROMEO:') && generated.length > 'ROMEO:'.length + 20, `generation too short: ${JSON.stringify(generated)}`);
  assert.match((await page.textContent('#generate-stats')) ?? '', /60 tokens · [\d.]+ tokens\/s/);

  // Forecast chart of the sample series (drawn on page load, redrawn here).
  await page.selectOption('#f-model', 'holt-winters');
  await page.click('#forecast-run');
  await page.waitForSelector('#forecast-chart svg path.band', { timeout: 30_000 });
  assert.equal(await page.locator('#forecast-chart svg path.history').count(), 1);
  assert.equal(await page.locator('#forecast-chart svg path.mean').count(), 1);

  // An uploaded CSV replaces the sample series (bad rows are reported, not drawn).
  const csv = ['date,sales', ...Array.from({ length: 48 }, (_, i) => `${2020 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01,${100 + 20 * Math.sin((2 * Math.PI * i) / 12) + i}`)].join('\n');
  await page.setInputFiles('#f-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('date,sales\n2020-01-01,1\n2020-02-01,x\n2020-03-01,3\n') });
  // The page reads the file asynchronously: wait for the message rather than racing it.
  await page.locator('#forecast-error', { hasText: /bad\.csv: row 3, column "sales": "x" is not a number/ }).waitFor({ timeout: 15_000 });
  await page.setInputFiles('#f-file', { name: 'sales.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.selectOption('#f-model', 'seasonal-naive');
  await page.fill('#f-horizon', '12');
  await page.click('#forecast-run');
  await page.locator('#forecast-info', { hasText: /^seasonal-naive fitted on 48 points/ }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-upload.png'), fullPage: true });
  await page.selectOption('#f-source', 'sample');
  await page.selectOption('#f-model', 'holt-winters');
  await page.fill('#f-horizon', '24');
  await page.click('#forecast-run');
  await page.locator('#forecast-info', { hasText: /^holt-winters fitted on 144 points/ }).waitFor({ timeout: 30_000 });

  await page.screenshot({ path: screenshot, fullPage: true });
  assert.deepEqual(outside, [], `the page requested outside assets: ${outside.join(', ')}`);
  assert.deepEqual(consoleErrors, [], `browser console errors: ${consoleErrors.join('; ')}`);
  console.log(`demo e2e passed in ${((performance.now() - t0) / 1000).toFixed(1)} s; screenshot ${screenshot}`);
} finally {
  await browser.close();
  await running.close();
  await rm(dir, { recursive: true, force: true });
}
