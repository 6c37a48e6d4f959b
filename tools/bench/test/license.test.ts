import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';

// npm packs what a package folder holds, not the repository root, so each folder carries its own
// copy of the licence; this keeps the copies from drifting from the root file.
const workspaceDirs = ['packages', 'apps']
  .flatMap((group) => readdirSync(path.join(REPO_ROOT, group)).map((name) => path.join(group, name)))
  .concat('tools/bench')
  .filter((dir) => existsSync(path.join(REPO_ROOT, dir, 'package.json')));

describe('licence in every package', () => {
  const root = readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8');

  it('the root LICENSE is the Apache 2.0 text with the project copyright', () => {
    expect(root).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(root).toContain('END OF TERMS AND CONDITIONS');
    expect(root).toContain('Copyright 2026 the seqlab authors');
    expect(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
  });

  it.each(workspaceDirs)('%s ships the same LICENSE and lists it in files', (dir) => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { license?: string; files?: string[] };
    expect(pkg.license).toBe('Apache-2.0');
    expect(pkg.files).toContain('LICENSE');
    expect(readFileSync(path.join(REPO_ROOT, dir, 'LICENSE'), 'utf8')).toBe(root);
  });
});
