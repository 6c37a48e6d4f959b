/**
 * Browser test of the demo page's Train card against the jobs routes, in Debian's chromium: starts
 * the service with a temporary keys file (one key, its SHA-256 in the file), then in the page
 * refuses a missing key, shows a wrong key's 401, trains a small forecaster (SegRNN, 20 epochs, on
 * the airline sample named in the data folder) while the curve grows one epoch at a time, uses
 * the published version in the Forecast card, publishes a second version (linear) that the
 * Forecast card then serves, cancels a long run, trains a tfidf-lr text classifier from an
 * uploaded CSV and uses it in the Classify card, and checks the card at 390 px.
 *
 *   node --conditions=@seqlab/source --import tsx apps/api/test/e2e/train.e2e.ts [screenshot.png]
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page, Response } from 'playwright-core';
import { createConfig, REPO_ROOT, startServer } from '../../src/index.js';
import { launchChromium, noSideScroll, openWatched } from './browser.js';

const screenshotArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const screenshot = path.resolve(screenshotArg ?? path.join(os.tmpdir(), 'seqlab-train.png'));

interface ForecastAnswer {
  model: string;
  version?: number;
  mean: number[][];
}

/** Fills the Train card and clicks Train. */
async function submitTraining(page: Page, o: { task: string; kind: string; name: string; epochs?: number; source?: string }): Promise<void> {
  await page.selectOption('#t-task', o.task);
  if (o.source) await page.selectOption('#t-source', o.source);
  await page.selectOption('#t-kind', o.kind);
  if (o.epochs !== undefined) await page.fill('#t-epochs', String(o.epochs));
  await page.fill('#t-name', o.name);
  await page.click('#t-run');
}

// Records every value the curve's epoch count and the job state take, so the test can tell a
// curve that grew epoch by epoch while the job ran from one drawn once at the end.
async function recordCurve(page: Page): Promise<void> {
  await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): { dataset: Record<string, string>; textContent: string } } }).document;
    const seen: string[] = [];
    (globalThis as unknown as { curveSeen: string[] }).curveSeen = seen;
    const Observer = (globalThis as unknown as { MutationObserver: new (cb: () => void) => { observe(node: unknown, o: object): void } }).MutationObserver;
    new Observer(() => {
      const epochs = doc.getElementById('t-curve').dataset.epochs;
      if (epochs && seen.at(-1)?.split(' ')[0] !== epochs) seen.push(`${epochs} ${doc.getElementById('t-state').textContent}`);
    }).observe(doc.getElementById('t-curve'), { attributes: true, attributeFilter: ['data-epochs'] });
  });
}

async function trainAndUseForecaster(page: Page): Promise<void> {
  await recordCurve(page);
  await submitTraining(page, { task: 'forecast', kind: 'segrnn', epochs: 20, name: 'e2e-forecaster', source: 'classic_ts/airline-passengers.csv' });
  await page.locator('#t-report', { hasText: /Published e2e-forecaster v1: segrnn/ }).waitFor({ timeout: 120_000 });
  const seen = await page.evaluate(() => (globalThis as unknown as { curveSeen: string[] }).curveSeen);
  assert.deepEqual(seen.map((s) => Number(s.split(' ')[0])), Array.from({ length: 20 }, (_, i) => i + 1), `the curve grows one epoch at a time: ${seen.join(', ')}`);
  assert.ok(seen.slice(0, -1).every((s) => s.endsWith('active')), `epochs arrive while the job is active: ${seen.join(', ')}`);
  for (const metric of ['loss', 'val_loss']) assert.equal(await page.locator(`#t-curve path.curve[data-metric="${metric}"]`).count(), 1, `a ${metric} curve`);
  assert.equal(await page.textContent('#t-state'), 'completed');

  const first = page.waitForResponse((r) => r.url().endsWith('/v1/forecast') && r.request().method() === 'POST');
  await page.click('#t-use');
  const v1 = (await (await first).json()) as ForecastAnswer;
  assert.equal(await page.inputValue('#f-model'), 'e2e-forecaster');
  await page.locator('#forecast-info', { hasText: /^e2e-forecaster v1 fitted on 144 points/ }).waitFor({ timeout: 30_000 });
  await page.waitForSelector('#forecast-chart svg path.mean');

  // A second version under the same name: the Forecast card then gets the new one.
  await submitTraining(page, { task: 'forecast', kind: 'linear', name: 'e2e-forecaster' });
  await page.locator('#t-report', { hasText: /Published e2e-forecaster v2: linear/ }).waitFor({ timeout: 120_000 });
  // The card may first get version 1 (the store's poll has not seen version 2 yet) and ask again.
  const answers: ForecastAnswer[] = [];
  const collect = (r: Response) => {
    if (r.url().endsWith('/v1/forecast') && r.request().method() === 'POST') void r.json().then((a) => answers.push(a as ForecastAnswer));
  };
  page.on('response', collect);
  await page.click('#t-use');
  await page.locator('#forecast-info', { hasText: /^e2e-forecaster v2 fitted on 144 points/ }).waitFor({ timeout: 30_000 });
  page.off('response', collect);
  const v2 = answers.find((a) => a.version === 2);
  assert.ok(v2, `a version 2 answer among ${answers.map((a) => a.version).join(', ')}`);
  assert.notDeepEqual(v2.mean, v1.mean, 'version 2 (linear) forecasts differently from version 1 (segrnn)');
  assert.equal(v1.version, 1);
  const models = (await (await page.request.get(new URL('/v1/models', page.url()).href)).json()) as { models: { name: string; versions: number[]; served: number | null }[] };
  const entry = models.models.find((m) => m.name === 'e2e-forecaster');
  assert.deepEqual([entry?.versions, entry?.served], [[1, 2], 2], `/v1/models: ${JSON.stringify(entry)}`);
}

async function cancelAndClassify(page: Page): Promise<void> {
  await submitTraining(page, { task: 'forecast', kind: 'segrnn', epochs: 200, name: 'e2e-cancelled', source: 'classic_ts/airline-passengers.csv' });
  await page.waitForFunction(() => Number((globalThis as unknown as { document: { getElementById(id: string): { dataset: Record<string, string> } } }).document.getElementById('t-curve').dataset.epochs ?? 0) >= 2, undefined, { timeout: 60_000 });
  await page.click('#t-cancel');
  await page.locator('#t-state', { hasText: /^cancelled$/ }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#t-use').count(), 0, 'a cancelled job offers no model');

  // A file the trainer cannot read fails the job: the card says why and offers no model.
  await page.setInputFiles('#t-file', { name: 'words.csv', mimeType: 'text/csv', buffer: Buffer.from('month,passengers\njan,many\nfeb,few\nmar,some\n') });
  await submitTraining(page, { task: 'forecast', kind: 'linear', name: 'e2e-broken' });
  await page.locator('#train-error', { hasText: /^job \S+ failed: bad_input / }).waitFor({ timeout: 60_000 });
  assert.equal(await page.textContent('#t-state'), 'failed');
  const why = (await page.textContent('#train-error')) ?? '';
  assert.ok(!why.includes(dir), `the error names no server path: ${why}`);
  assert.equal(await page.locator('#t-use').count(), 0, 'a failed job offers no model');

  // An uploaded CSV (multipart) trains a text classifier that the Classify card then uses.
  await page.selectOption('#t-task', 'text-classification');
  await page.setInputFiles('#t-file', { name: 'reviews.csv', mimeType: 'text/csv', buffer: await readFile(path.join(REPO_ROOT, 'examples/reviews.csv')) });
  assert.equal(await page.inputValue('#t-source'), 'upload');
  await submitTraining(page, { task: 'text-classification', kind: 'tfidf-lr', name: 'e2e-classifier' });
  await page.locator('#t-report', { hasText: /Published e2e-classifier v1: tfidf-lr/ }).waitFor({ timeout: 120_000 });
  await page.fill('#classify-input', 'a gripping, beautifully acted film\nthe plot is dull and the jokes fall flat');
  await page.click('#t-use');
  assert.equal(await page.inputValue('#c-model'), 'e2e-classifier');
  await page.waitForSelector('#classify-results li:nth-child(2)', { timeout: 30_000 });
  await page.locator('#classify-info', { hasText: /^e2e-classifier v1 \(tfidf-lr, 2 classes\)/ }).waitFor({ timeout: 10_000 });
  const labels = await page.$$eval('#classify-results .label', (els) => els.map((e) => e.textContent ?? ''));
  for (const l of labels) assert.match(l, /^(positive|negative) \d+%$/);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-e2e-train-'));
const key = randomBytes(24).toString('hex');
const keysFile = path.join(dir, 'keys.json');
await writeFile(keysFile, JSON.stringify({ keys: [{ id: 'e2e', sha256: createHash('sha256').update(key).digest('hex'), scopes: ['predict', 'train', 'admin'] }] }));
await mkdir(path.join(dir, 'models'));
const t0 = performance.now();
// No default models: this test serves only what it trains. Jobs read samples from the repository's data folder.
const running = await startServer(
  createConfig({
    port: 0,
    modelsDir: path.join(dir, 'models'),
    uploadsDir: path.join(dir, 'uploads'),
    apiKeys: keysFile,
    sentimentModel: 'off',
    generatorModel: 'off',
    embeddings: false,
    workers: 1,
    logLevel: 'warn',
    modelPollMs: 200,
    // The worker refuses a saved SegRNN like a per-request one unless neural forecasts are allowed.
    forecastNeural: true,
  }),
);
const browser = await launchChromium();
try {
  await running.services.whenReady();
  const { page, watch } = await openWatched(browser, running.url, { width: 1280, height: 1100 }, ['401 /v1/jobs']);
  await page.click('#t-run');
  await page.locator('#train-error', { hasText: 'API key: jobs need a key with the "train" scope' }).waitFor({ timeout: 10_000 });
  assert.equal(watch.calls('/v1/jobs'), 0, 'no request without a key');
  await page.fill('#t-key', 'not-the-key');
  await page.click('#t-run');
  await page.locator('#train-error', { hasText: /^401 unauthorized: .*\(the API key was not accepted/ }).waitFor({ timeout: 10_000 });
  await page.fill('#t-key', key);
  await trainAndUseForecaster(page);
  await cancelAndClassify(page);
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#train-section').scrollIntoViewIfNeeded();
  await noSideScroll(page, 'demo page with a training report at 390 px');
  // The chart drawn at 1280 px is drawn again for the narrower box (legible labels, not a scaled copy).
  await page.waitForFunction(() => Number((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string } | null } }).document.querySelector('#forecast-chart svg')?.getAttribute('viewBox').split(' ')[2]) <= 390, undefined, { timeout: 10_000 });
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-390.png'), fullPage: true });
  watch.assertClean();
  console.log(`train e2e passed in ${((performance.now() - t0) / 1000).toFixed(1)} s; screenshots ${screenshot}`);
} catch (err) {
  // What the cards said is usually the quickest clue to a failed wait.
  for (const page of browser.contexts().flatMap((c) => c.pages())) {
    const said = await page.$$eval('.error, #t-progress, #t-state, #forecast-info, #classify-info', (els) => els.map((e) => `${e.id}: ${e.textContent ?? ''}`)).catch(() => []);
    console.error(said.filter((s) => !s.endsWith(': ')).join('\n'));
  }
  throw err;
} finally {
  await browser.close();
  await running.close();
  await rm(dir, { recursive: true, force: true });
}
