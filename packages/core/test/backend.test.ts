import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { getBackendInfo, initBackend } from '../src/index.js';

describe('initBackend', () => {
  it('chooses the best available backend once and says why', async () => {
    delete process.env.SEQLAB_BACKEND;
    const info = await initBackend();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(info.reason.length).toBeGreaterThan(10);
    if (info.name !== 'tensorflow') expect(info.reason).toMatch(/tfjs-node/);
    if (info.name === 'wasm') expect(typeof info.simd).toBe('boolean');
    // Queryable afterwards, and the second call returns the same decision.
    expect(getBackendInfo()).toBe(info);
    expect(await initBackend()).toBe(info);
  });

  it('registers the training kernels whatever backend is chosen', async () => {
    const info = await initBackend();
    const all = [...info.kernels.added, ...info.kernels.replaced];
    expect(all).toContain('UnsortedSegmentSum@wasm');
    expect(all).toContain('UnsortedSegmentSum@cpu');
    expect(all).toContain('Conv2DBackpropFilter@wasm');
  });

  it('switches when a backend is requested explicitly', async () => {
    const cpu = await initBackend({ backend: 'cpu' });
    expect(cpu.name).toBe('cpu');
    expect(cpu.reason).toMatch(/requested/);
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend({ backend: 'wasm' });
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown override with the value it got', async () => {
    await expect(initBackend({ backend: 'gpu' as never })).rejects.toThrow(/one of tensorflow, wasm, cpu; got "gpu"/);
  });
});
