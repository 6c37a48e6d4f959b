import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';

describe('tools/bench/README.md', () => {
  it('lists every bench:* and recipe:* script of the root package.json', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const listed = scripts.filter((s) => /^(bench|recipe):/.test(s));
    expect(listed.length).toBeGreaterThanOrEqual(18);
    const readme = readFileSync(path.join(REPO_ROOT, 'tools/bench/README.md'), 'utf8');
    const missing = listed.filter((s) => !new RegExp(`\\| \`npm run ${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\` ]`).test(readme));
    expect(missing).toEqual([]);
  });
});
