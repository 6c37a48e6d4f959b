import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface NpmNode {
  version?: string;
  dependencies?: Record<string, NpmNode>;
}

function collect(node: NpmNode, name: string, out: Set<string>): void {
  for (const [dep, child] of Object.entries(node.dependencies ?? {})) {
    if (dep === name && child.version) out.add(child.version);
    collect(child, name, out);
  }
}

describe('one copy of TensorFlow.js', () => {
  it('npm ls @tensorflow/tfjs-core shows a single version', () => {
    // npm exits non-zero because the USE package's tfjs 3 peer range is "invalid" against
    // tfjs 4 (accepted via legacy-peer-deps); the tree itself is what we check.
    const res = spawnSync('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--json'], { cwd: ROOT, encoding: 'utf8' });
    const tree = JSON.parse(res.stdout) as NpmNode;
    const versions = new Set<string>();
    collect(tree, '@tensorflow/tfjs-core', versions);
    expect([...versions]).toEqual(['4.22.0']);
  }, 60_000);

  it('the USE package resolves the same tfjs-core and converter files as this package', () => {
    const ours = createRequire(import.meta.url);
    const usePkg = ours.resolve('@tensorflow-models/universal-sentence-encoder');
    const theirs = createRequire(usePkg);
    for (const dep of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter']) {
      expect(theirs.resolve(dep), dep).toBe(ours.resolve(dep));
    }
  });
});
