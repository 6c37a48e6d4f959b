import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { loadEncoder } from '../src/index.js';

// Every way Node code usually reaches the network, made to throw. If loading or embedding
// touched any of them the test fails with the URL it tried.
const attempts: string[] = [];
const saved = {
  fetch: globalThis.fetch,
  httpRequest: http.request,
  httpGet: http.get,
  httpsRequest: https.request,
  httpsGet: https.get,
  netConnect: net.connect,
  netCreateConnection: net.createConnection,
};

function blocked(kind: string) {
  return (...args: unknown[]): never => {
    attempts.push(`${kind} ${String(args[0])}`);
    throw new Error(`network access is blocked in this test (${kind} ${String(args[0])})`);
  };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  globalThis.fetch = blocked('fetch') as typeof fetch;
  http.request = blocked('http.request') as typeof http.request;
  http.get = blocked('http.get') as typeof http.get;
  https.request = blocked('https.request') as typeof https.request;
  https.get = blocked('https.get') as typeof https.get;
  net.connect = blocked('net.connect') as typeof net.connect;
  net.createConnection = blocked('net.createConnection') as typeof net.createConnection;
});

afterAll(() => {
  globalThis.fetch = saved.fetch;
  http.request = saved.httpRequest;
  http.get = saved.httpGet;
  https.request = saved.httpsRequest;
  https.get = saved.httpsGet;
  net.connect = saved.netConnect;
  net.createConnection = saved.netCreateConnection;
});

describe('offline guarantee', () => {
  it('the stubs really block the network', async () => {
    await expect(Promise.resolve().then(() => fetch('https://tfhub.dev/'))).rejects.toThrow(/blocked/);
    expect(() => https.get('https://storage.googleapis.com/')).toThrow(/blocked/);
    attempts.length = 0;
  });

  it('loads USE-lite and embeds with every http(s) path throwing', async () => {
    const encoder = await loadEncoder();
    try {
      const sim = await encoder.similarity('No network is needed.', 'It works without an internet connection.');
      expect(sim).toBeGreaterThan(0.3);
      const [v] = await encoder.embed(['offline']);
      expect(v!.length).toBe(512);
    } finally {
      encoder.dispose();
    }
    expect(attempts).toEqual([]);
  });
});
