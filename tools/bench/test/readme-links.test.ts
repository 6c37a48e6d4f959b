import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';
import { readmeFiles } from '../src/lib/readme-examples.js';

/** Relative link targets of a markdown file that do not exist (URLs and in-page anchors skipped). */
function brokenLinks(file: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  return targets
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'))
    .filter((t) => !existsSync(path.resolve(REPO_ROOT, path.dirname(file), t.split('#')[0]!)))
    .map((t) => `${file}: ${t}`);
}

describe('documentation links', () => {
  it('every relative link of the READMEs and docs/results.md points at a file of the repository', () => {
    const files = [...readmeFiles(), 'docs/results.md'];
    expect(files.length).toBeGreaterThan(8);
    expect(files.flatMap(brokenLinks)).toEqual([]);
  });

  it('finds a broken link when there is one', () => {
    expect(brokenLinks('tools/bench/test/fixtures/broken-link.md')).toEqual(['tools/bench/test/fixtures/broken-link.md: no-such-file.md']);
  });
});
