import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';
import { extractTsBlocks, readmeFiles, typecheckExamples } from '../src/lib/readme-examples.js';

describe('README examples', () => {
  it('extracts ts blocks with their README line and skips other languages', () => {
    const md = ['# x', '```sh', 'npm test', '```', '', '```ts', 'const a = 1;', 'console.log(a);', '```', '```typescript', 'let b;', '```'].join('\n');
    const blocks = extractTsBlocks(md, 'X.md');
    expect(blocks.map((b) => [b.line, b.code])).toEqual([
      [7, 'const a = 1;\nconsole.log(a);'],
      [11, 'let b;'],
    ]);
  });

  it('covers the root README and every package and app README', () => {
    const files = readmeFiles();
    expect(files).toContain('README.md');
    expect(files).toEqual(expect.arrayContaining(['packages/core/README.md', 'packages/rnn/README.md', 'packages/tasks/README.md', 'apps/cli/README.md', 'apps/api/README.md']));
  });

  // One compiler run for all READMEs plus a fixture with a known mistake, so the check is shown
  // to catch what it claims to (the rnn README once had exactly this onProgress error, TS2322).
  it('every example compiles under strict TypeScript; a broken one is reported at its README line', () => {
    const fixture = path.join('tmp', 'readme-examples-fixture', 'BROKEN.md');
    mkdirSync(path.join(REPO_ROOT, path.dirname(fixture)), { recursive: true });
    writeFileSync(
      path.join(REPO_ROOT, fixture),
      ['# broken', '', '```ts', "import { train } from '@seqlab/rnn';", 'type Options = Parameters<typeof train>[2];', "const onProgress: Options['onProgress'] = (e) => e.type === 'epoch' && console.log(e);", 'console.log(onProgress);', '```', ''].join('\n'),
    );
    const { examples, errors } = typecheckExamples([...readmeFiles(), fixture]);
    expect(examples).toBeGreaterThanOrEqual(10);
    const fromReadmes = errors.filter((e) => e.file !== fixture);
    expect(fromReadmes.map((e) => `${e.file}:${e.line} ${e.message}`)).toEqual([]);
    expect(errors.filter((e) => e.file === fixture).map((e) => [e.line, e.message.slice(0, 12)])).toEqual([[6, 'error TS2322']]);
  }, 300_000);
});
