import type { Command } from 'commander';
import type { BackendName } from '@seqlab/core';
import { defineAction, emit, println } from '../cli.js';
import { commonSchema, oneOf, parseOptions } from '../options.js';
import { repoRoot } from '../paths.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.extend({
  backend: oneOf(['tensorflow', 'wasm', 'cpu'] as const, 'a backend, one of').optional(),
});

/** `seqlab info`: the TensorFlow.js backend in use and why it was chosen. */
export function infoCommand(): Command {
  const cmd = newCommand('info')
    .option('--backend <name>', 'force a backend (tensorflow|wasm|cpu) instead of the automatic choice');
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const { initBackend } = await import('@seqlab/core');
    const info = await initBackend(o.backend ? { backend: o.backend as BackendName } : {});
    const result = {
      backend: info.name,
      reason: info.reason,
      simd: info.simd,
      kernels: info.kernels,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      repoRoot: repoRoot() ?? null,
      env: { SEQLAB_BACKEND: process.env.SEQLAB_BACKEND ?? null },
    };
    emit(o.json, result, () => {
      println(`backend   ${info.name}${info.simd !== undefined ? ` (SIMD ${info.simd ? 'on' : 'off'})` : ''}`);
      println(`why       ${info.reason}`);
      println(`node      ${process.version} on ${process.platform}-${process.arch}`);
      const { added, replaced } = info.kernels;
      println(`kernels   ${added.length} added, ${replaced.length} replaced by seqlab for training${added.length + replaced.length ? ` (${[...added, ...replaced].join(', ')})` : ''}`);
      println(`override  set SEQLAB_BACKEND=tensorflow|wasm|cpu or pass --backend`);
    });
  });
}
