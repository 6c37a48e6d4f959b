import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/tfjs-notices.ts', import.meta.url));

/** stderr of the fixture in a fresh Node process (each notice prints at most once per process). */
function fixtureStderr(mode: 'with-core' | 'without-core'): string {
  const run = spawnSync(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', fixture, mode], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`fixture (${mode}) exited ${String(run.status)}: ${run.stderr}`);
  return run.stderr;
}

describe('TensorFlow.js notices', () => {
  it('print without @seqlab/core (so the check below can fail)', () => {
    const stderr = fixtureStderr('without-core');
    expect(stderr).toContain('Hi, looks like you are running TensorFlow.js in Node.js');
    expect(stderr).toMatch(/Orthogonal initializer is being called on a matrix with more than 2000 \(16384\) elements/);
  }, 60_000);

  it('are silenced once @seqlab/core is loaded, and other warnings still print', () => {
    const stderr = fixtureStderr('with-core');
    expect(stderr).not.toContain('Hi, looks like');
    expect(stderr).not.toContain('Orthogonal initializer');
    expect(stderr).toContain('an unrelated warning');
  }, 60_000);
});
