/** Job specs are checked at submission: fields, engine-owned options, and the data folders a service allows. */
import { mkdtempSync, promises as fs, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@seqlab/tasks';
import { checkJobSpec, createJobEngine } from '../src/index.js';

const ROOT = repoRoot()!;
const DATA = path.join(ROOT, 'data');
const AIRLINE = path.join(DATA, 'classic_ts/airline-passengers.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-spec-'));

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('checkJobSpec', () => {
  const spec = { type: 'train', task: 'forecast', data: AIRLINE, model: 'airline', options: { horizon: 12 } } as const;

  it('accepts data inside an allowed folder and refuses data outside, also through a symbolic link', () => {
    expect(checkJobSpec(spec, { dataDirs: [DATA] })).toEqual(spec);
    expect(() => checkJobSpec({ ...spec, data: '/etc/passwd' }, { dataDirs: [DATA] })).toThrow(/data \/etc\/passwd is not in the data folder/);
    expect(() => checkJobSpec({ ...spec, data: path.join(DATA, '../package.json') }, { dataDirs: [DATA] })).toThrow(/is not in the data folder/);
    const link = path.join(tmp, 'link.csv');
    symlinkSync('/etc/passwd', link);
    expect(() => checkJobSpec({ ...spec, data: link }, { dataDirs: [tmp, DATA] })).toThrow(/is not in the data folder/);
    expect(checkJobSpec({ ...spec, data: link })).toMatchObject({ data: link });
  });

  it('names the field at fault', () => {
    expect(() => checkJobSpec(null)).toThrow(/expected an object/);
    expect(() => checkJobSpec({ ...spec, extra: 1 })).toThrow(/unknown field extra; valid fields: type, task, data, options, model/);
    expect(() => checkJobSpec({ ...spec, task: 'sentiment' })).toThrow(/task must be one of text-classification, text-generation, forecast/);
    expect(() => checkJobSpec({ ...spec, data: '' })).toThrow(/data must be the path of a data file/);
    expect(() => checkJobSpec({ ...spec, options: [] })).toThrow(/options must be an object/);
    expect(() => checkJobSpec({ ...spec, options: { signal: 1, resume: true } })).toThrow(/options signal, resume are set by the job engine/);
    expect(() => checkJobSpec({ type: 'evaluate', task: 'forecast', data: AIRLINE })).toThrow(/an evaluate job needs model/);
    expect(() => checkJobSpec({ type: 'predict', task: 'forecast', data: AIRLINE, options: { horizon: 3 } })).toThrow(/a predict job needs model/);
  });

  it('createJobEngine picks the in-process engine without SEQLAB_REDIS_URL and passes the data folders on', async () => {
    const engine = createJobEngine({ modelsDir: path.join(tmp, 'models'), env: {}, dataDirs: [DATA] });
    try {
      expect(engine.constructor.name).toBe('EmbeddedJobEngine');
      await expect(engine.submit({ ...spec, data: '/etc/passwd' })).rejects.toMatchObject({ code: 'bad_input' });
    } finally {
      await engine.close();
    }
  });
});
