import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAPROXY_CONFIG, haproxyEnv } from '../src/lib/fleet.js';
import { defaultModelDir } from '../src/lib/report.js';
import { startApi, type ApiProcess } from '../src/lib/server.js';

const HAPROXY = '/usr/sbin/haproxy';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('deploy/haproxy.cfg', () => {
  it.runIf(existsSync(HAPROXY))('is valid with the addresses bench:fleet gives it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seqlab-haproxy-'));
    try {
      const env = haproxyEnv(18080, [18081, 18082, 18083], 18404, path.join(dir, 'stats.sock'));
      const check = spawnSync(HAPROXY, ['-c', '-f', HAPROXY_CONFIG], { env: { ...process.env, ...env }, encoding: 'utf8' });
      expect(check.stdout + check.stderr).toContain('Configuration file is valid');
      expect(check.status).toBe(0);
      // The environment really reaches the servers: without it HAProxy refuses the file.
      const without = spawnSync(HAPROXY, ['-c', '-f', HAPROXY_CONFIG], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
      expect(without.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a replica on SIGTERM', () => {
  let api: ApiProcess | undefined;
  afterAll(async () => {
    if (api && api.child.exitCode === null) api.child.kill('SIGKILL');
  });

  it('fails /readyz at once, keeps answering requests for DRAIN_MS, then exits 0', async () => {
    api = await startApi({ SENTIMENT_MODEL: defaultModelDir('sentiment'), GENERATOR_MODEL: 'off', EMBEDDINGS: 'off', WORKERS: '1', SPARE_WORKERS: '0', RATE_LIMIT_MAX: '0', DRAIN_MS: '2500' });
    const exit = new Promise<number | null>((resolve) => api!.child.once('exit', (code) => resolve(code)));
    const sentiment = () =>
      fetch(`${api!.url}/v1/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['a warm and funny film'] }) });
    expect((await sentiment()).status).toBe(200);
    const t0 = Date.now();
    api.child.kill('SIGTERM');
    let readyz = 200;
    while (readyz === 200 && Date.now() - t0 < 2000) {
      readyz = (await fetch(`${api.url}/readyz`)).status;
      if (readyz === 200) await sleep(20);
    }
    expect(readyz).toBe(503);
    // Still inside the drain window: new requests (on new connections too) are served.
    const during: number[] = [];
    while (Date.now() - t0 < 1800) {
      const res = await sentiment();
      expect(((await res.json()) as { results: Array<{ label: string }> }).results[0]!.label).toMatch(/positive|negative/);
      during.push(res.status);
    }
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((s) => s === 200)).toBe(true);
    expect(await exit).toBe(0);
    // The drain lasted its full DRAIN_MS before the server closed.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2500);
    await expect(sentiment()).rejects.toThrow();
  }, 240_000);
});
