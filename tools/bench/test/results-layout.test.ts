import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, readResultsFile, readResultsRun, resultsFileOf, writeResults } from '../src/index.js';

const scripts = [path.join(REPO_ROOT, 'tools/bench/src'), path.join(REPO_ROOT, 'tools/recipes/src')];

describe('results layout', () => {
  // results/tmp/ is git-ignored scratch space, so the test never touches a committed file.
  const file = 'tmp/layout-test';
  afterAll(() => rmSync(path.join(REPO_ROOT, 'results', 'tmp', 'layout-test.json'), { force: true }));

  it('names the file after the running bench or recipe script, else after the run', () => {
    expect(resultsFileOf('sst2-glove', path.join(REPO_ROOT, 'tools/recipes/src/sst2.ts'))).toBe('sst2');
    expect(resultsFileOf('ett-d512', path.join(REPO_ROOT, 'tools/bench/src/ett.ts'))).toBe('ett');
    expect(resultsFileOf('trec-partial', path.join(REPO_ROOT, 'tools/recipes/src/trec.ts'))).toBe('trec');
    expect(resultsFileOf('mine', '/somewhere/else/script.ts')).toBe('mine');
  });

  it('keeps the default run at the top level and other runs as variants rows, replacing by name', async () => {
    await writeResults('layout-test-wide', 'cmd wide', { figure: 1 }, { file });
    await writeResults(file, 'cmd default', { figure: 2 }, { file });
    await writeResults('layout-test-wide', 'cmd wide again', { figure: 3 }, { file });
    await writeResults('layout-test-seed2', 'cmd seed2', { figure: 4, name: 'ignored' }, { file });
    const all = readResultsFile(file)!;
    expect(all.command).toBe('cmd default');
    expect(all.figure).toBe(2);
    expect(all.variants!.map((v) => [v.name, v.command, v.figure])).toEqual([
      ['layout-test-wide', 'cmd wide again', 3],
      ['layout-test-seed2', 'cmd seed2', 4],
    ]);
    expect(readResultsRun(file)?.variants).toBeUndefined();
    expect(readResultsRun(file, 'layout-test-seed2')?.figure).toBe(4);
    expect(readResultsRun(file, 'absent')).toBeUndefined();
  });

  it('the committed results/ hold one file per bench or recipe script and no scratch files', () => {
    const files = readdirSync(path.join(REPO_ROOT, 'results')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    for (const name of files) {
      expect(scripts.some((dir) => existsSync(path.join(dir, `${name}.ts`))), `results/${name}.json has no script`).toBe(true);
      const names = (readResultsFile(name)!.variants ?? []).map((v) => v.name);
      expect(new Set(names).size, `results/${name}.json repeats a variant`).toBe(names.length);
    }
  });
});
