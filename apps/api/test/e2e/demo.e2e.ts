/**
 * Browser test of the demo page and /docs with Debian's chromium (playwright-core, no downloaded
 * browser): starts the service on a free loopback port with tiny models trained in a temp dir,
 * runs a sentiment query, a streamed generation, classification and forecasts at desktop width,
 * checks the client-side field limits and that a failed request clears the stale result, loads
 * the page and the docs at 390 pixels wide (no horizontal scroll), and saves screenshots.
 *
 *   node --conditions=@seqlab/source --import tsx apps/api/test/e2e/demo.e2e.ts [screenshot.png] [--default-models]
 *
 * Exits non-zero on any failed check. CHROMIUM overrides the browser path (default /usr/bin/chromium).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createConfig, startServer } from '../../src/index.js';
import { trainTinyModels } from '../tiny-models.js';
import { launchChromium, noSideScroll, openWatched } from './browser.js';

const screenshotArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const screenshot = path.resolve(screenshotArg ?? path.join(os.tmpdir(), 'seqlab-demo.png'));
const shot = (suffix: string) => screenshot.replace(/\.png$/, `-${suffix}.png`);

async function checkSentimentAndGeneration(page: Page, sentimentModel: string | undefined): Promise<void> {
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

  // Classification through /v1/classify: the tiny sentiment model named explicitly, or the server's default.
  await page.fill('#classify-input', 'a gripping, beautifully acted film\nthe plot is dull');
  await page.fill('#c-model', sentimentModel ?? '');
  await page.click('#classify-run');
  await page.waitForSelector('#classify-results li:nth-child(2)', { timeout: 30_000 });
  // The tiny sentiment model has 2 classes; the default classifier (question types) has its own.
  assert.match((await page.textContent('#classify-info')) ?? '', sentimentModel ? /\(\w[\w-]*, 2 classes\)/ : /\(\w[\w-]*, \d+ classes\)/);
}

async function checkForecasts(page: Page): Promise<void> {
  // Forecast chart of the sample series (drawn on page load, redrawn here).
  await page.fill('#f-model', 'holt-winters');
  await page.click('#forecast-run');
  // The chart of the page-load forecast may still be up: wait for this run's own result.
  await page.locator('#forecast-info', { hasText: /^holt-winters/ }).waitFor({ timeout: 30_000 });
  await page.waitForSelector('#forecast-chart svg path.band', { timeout: 30_000 });
  assert.equal(await page.locator('#forecast-chart svg path.history').count(), 1);
  assert.equal(await page.locator('#forecast-chart svg path.mean').count(), 1);

  // An uploaded CSV replaces the sample series (bad rows are reported, not drawn).
  const csv = ['date,sales', ...Array.from({ length: 48 }, (_, i) => `${2020 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01,${100 + 20 * Math.sin((2 * Math.PI * i) / 12) + i}`)].join('\n');
  await page.setInputFiles('#f-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('date,sales\n2020-01-01,1\n2020-02-01,x\n2020-03-01,3\n') });
  // The page reads the file asynchronously: wait for the message rather than racing it.
  await page.locator('#forecast-error', { hasText: /bad\.csv: row 3, column "sales": "x" is not a number/ }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('#forecast-chart svg').count(), 0, 'a refused upload leaves no chart of the previous series');
  await page.setInputFiles('#f-file', { name: 'sales.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.fill('#f-model', 'seasonal-naive');
  await page.fill('#f-horizon', '12');
  await page.click('#forecast-run');
  await page.locator('#forecast-info', { hasText: /^seasonal-naive fitted on 48 points/ }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: shot('upload'), fullPage: true });
  await page.selectOption('#f-source', 'sample');
  await page.fill('#f-model', 'holt-winters');
  await page.fill('#f-horizon', '24');
  await page.click('#forecast-run');
  await page.locator('#forecast-info', { hasText: /^holt-winters fitted on 144 points/ }).waitFor({ timeout: 30_000 });
}

/** Field limits are enforced before any request, and an error never leaves the old result up. */
async function checkLimitsAndStaleResults(page: Page, forecastCalls: () => number): Promise<void> {
  const before = forecastCalls();
  // The case: 500 steps of a monthly series is a 41-year forecast. The field says 200 and
  // the series has 144 points; the page refuses it and sends nothing.
  await page.fill('#f-horizon', '500');
  await page.click('#forecast-run');
  await page.locator('#forecast-error', { hasText: 'horizon must be a whole number from 1 to 144 (at most the 144 points of the series), got 500' }).waitFor({ timeout: 10_000 });
  assert.equal(forecastCalls(), before, 'a refused horizon must not reach the server');
  assert.equal(await page.locator('#forecast-chart svg').count(), 0, 'the previous chart is cleared when the request is refused');
  assert.equal(await page.getAttribute('#f-horizon', 'aria-invalid'), 'true');
  for (const bad of ['0', '2.5']) {
    await page.fill('#f-horizon', bad);
    await page.click('#forecast-run');
    await page.locator('#forecast-error', { hasText: `got ${bad}` }).waitFor({ timeout: 10_000 });
  }
  await page.fill('#g-maxTokens', '600');
  await page.click('#generate-run');
  await page.locator('#generate-error', { hasText: 'max tokens must be a whole number from 1 to 500, got 600' }).waitFor({ timeout: 10_000 });
  await page.fill('#g-maxTokens', '60');

  // A valid request draws the chart again; then one the server refuses clears it.
  await page.fill('#f-horizon', '12');
  await page.click('#forecast-run');
  await page.waitForSelector('#forecast-chart svg path.mean', { timeout: 30_000 });
  assert.equal(await page.getAttribute('#f-horizon', 'aria-invalid'), null, 'a valid value clears the invalid mark');
  await page.fill('#f-model', 'no-such-model');
  await page.click('#forecast-run');
  await page.locator('#forecast-error', { hasText: /^404 not_found: .*no-such-model/ }).waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#forecast-chart svg').count(), 0, 'the server error clears the previous chart');
  assert.equal(await page.textContent('#forecast-info'), '', 'and its caption');

  // The same in the sentiment card: too many lines are refused, and the old results go.
  assert.ok((await page.locator('#sentiment-results li').count()) > 0);
  await page.fill('#sentiment-input', Array.from({ length: 65 }, (_, i) => `line ${i}`).join('\n'));
  await page.click('#sentiment-run');
  await page.locator('#sentiment-error', { hasText: 'sentences: 65 lines, at most 64 per request' }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#sentiment-results li').count(), 0);
  await page.fill('#f-model', 'holt-winters');
}

async function checkPhone(browser: Browser, url: string): Promise<void> {
  const { page, watch } = await openWatched(browser, url, { width: 390, height: 844 });
  await page.waitForSelector('#status.ready', { timeout: 30_000 });
  await page.waitForSelector('#forecast-chart svg path.mean', { timeout: 30_000 });
  await page.click('#sentiment-run');
  await page.waitForSelector('#sentiment-results li:nth-child(2) .tok', { timeout: 30_000 });
  await noSideScroll(page, 'demo page at 390 px');
  // The chart is drawn at the width it gets, so its labels stay legible (not a 900-unit drawing shrunk).
  const viewBoxWidth = Number((await page.getAttribute('#forecast-chart svg', 'viewBox'))?.split(' ')[2]);
  assert.ok(viewBoxWidth <= 390, `chart drawn ${viewBoxWidth} units wide on a 390 px screen`);
  await page.screenshot({ path: shot('390'), fullPage: true });

  await page.goto(`${url}/docs`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.opblock', { timeout: 30_000 });
  await page.click('#operations-default-post_v1_forecast .opblock-summary');
  await page.locator('#operations-default-post_v1_forecast', { hasText: 'horizon' }).first().waitFor({ timeout: 15_000 });
  await noSideScroll(page, '/docs at 390 px');
  await page.screenshot({ path: shot('docs-390'), fullPage: false });
  watch.assertClean();
  await page.close();
}

async function checkDocs(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/docs`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.opblock', { timeout: 30_000 });
  const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
  for (const p of ['/v1/sentiment', '/v1/classify', '/v1/generate', '/v1/forecast', '/readyz']) assert.ok(paths.includes(p), `/docs lists ${p}`);
  // Rendered by Swagger UI, not a dump of JSON Schema: the page is a list of operations.
  const height = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement.scrollHeight);
  assert.ok(height < 3000, `/docs is ${height} px tall before any operation is opened`);
  await page.screenshot({ path: shot('docs'), fullPage: true });
}

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
const browser = await launchChromium();
try {
  await running.services.whenReady();
  // The 404 is the server refusing an unknown model, on purpose; any other failed request fails the test.
  const { page, watch } = await openWatched(browser, running.url, { width: 1280, height: 1100 }, ['404 /v1/forecast']);
  await page.waitForSelector('#status.ready', { timeout: 30_000 });
  await checkSentimentAndGeneration(page, models && path.basename(models.sentiment));
  await checkForecasts(page);
  await checkLimitsAndStaleResults(page, () => watch.calls('/v1/forecast'));
  await page.screenshot({ path: screenshot, fullPage: true });
  await noSideScroll(page, 'demo page at 1280 px');
  await checkDocs(page, running.url);
  watch.assertClean();
  await checkPhone(browser, running.url);
  console.log(`demo e2e passed in ${((performance.now() - t0) / 1000).toFixed(1)} s; screenshots ${screenshot} and ${shot('*')}`);
} finally {
  await browser.close();
  await running.close();
  await rm(dir, { recursive: true, force: true });
}
