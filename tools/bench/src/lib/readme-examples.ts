import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './report.js';

/** A TypeScript code block of a markdown file. */
export interface MarkdownExample {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the block's first code line in that file. */
  line: number;
  /** The code. */
  code: string;
}

/** A compiler error of an example, placed in its markdown file. */
export interface ExampleError {
  file: string;
  line: number;
  message: string;
}

/** Every ```ts / ```typescript block of `markdown` (fences with other languages are skipped). */
export function extractTsBlocks(markdown: string, file: string): MarkdownExample[] {
  const lines = markdown.split('\n');
  const blocks: MarkdownExample[] = [];
  let open: { line: number; code: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = /^\s*```\s*([\w-]*)/.exec(text);
    if (open) {
      if (/^\s*```\s*$/.test(text)) {
        blocks.push({ file, line: open.line, code: open.code.join('\n') });
        open = undefined;
      } else open.code.push(text);
    } else if (fence) {
      if (fence[1] === 'ts' || fence[1] === 'typescript') open = { line: i + 2, code: [] };
      else skipFence(lines, i);
    }
  });
  return blocks;
}

// Marks the lines of a non-TypeScript fence so its closing ``` is not read as an opening one.
function skipFence(lines: string[], start: number): void {
  for (let j = start + 1; j < lines.length; j++) {
    if (/^\s*```\s*$/.test(lines[j]!)) {
      lines[j] = '';
      return;
    }
  }
}

/** The READMEs whose examples users copy: the root one and every package's and app's. */
export function readmeFiles(): string[] {
  const inGroup = (group: string) =>
    readdirSync(path.join(REPO_ROOT, group))
      .map((name) => path.join(group, name, 'README.md'))
      .filter((f) => existsSync(path.join(REPO_ROOT, f)));
  return ['README.md', ...inGroup('packages'), ...inGroup('apps'), 'tools/bench/README.md'].filter((f) =>
    existsSync(path.join(REPO_ROOT, f)),
  );
}

/**
 * Type-checks every example of `files` with the workspace's strict compiler settings, each
 * block as its own ES module that imports the workspace packages by name (their sources, through
 * the `@seqlab/source` condition). Returns the errors placed at their README lines.
 */
export function typecheckExamples(files: readonly string[] = readmeFiles()): { examples: number; errors: ExampleError[] } {
  const examples = files.flatMap((f) => extractTsBlocks(readFileSync(path.join(REPO_ROOT, f), 'utf8'), f));
  // Inside the repository so that `@seqlab/*` resolve through the workspace's node_modules.
  const dir = path.join(REPO_ROOT, 'tmp', 'readme-examples');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const names = examples.map((ex, i) => `${String(i).padStart(3, '0')}-${ex.file.replace(/[/\\.]/g, '_')}-${ex.line}.ts`);
  // `export {}` makes each block a module: its own scope, and top-level await allowed.
  examples.forEach((ex, i) => writeFileSync(path.join(dir, names[i]!), `${ex.code}\nexport {};\n`));
  const tsconfig = { extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true, noUnusedLocals: false }, include: ['*.ts'] };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    output = String((err as { stdout?: string }).stdout ?? err);
  }
  return { examples: examples.length, errors: placeErrors(output, dir, names, examples) };
}

/**
 * Maps tsc's `file(line,col): error ...` lines of the example files back to README lines. Errors
 * inside the packages' own sources are left to each package's typecheck target, so an edit in
 * progress elsewhere does not show up as a README failure.
 */
function placeErrors(output: string, dir: string, names: string[], examples: MarkdownExample[]): ExampleError[] {
  const errors: ExampleError[] = [];
  let placed = 0;
  for (const text of output.split('\n')) {
    const m = /^(.*?)\((\d+),\d+\): (error .*)$/.exec(text.trim());
    if (!m) continue;
    placed++;
    const ex = examples[names.indexOf(path.basename(m[1]!))];
    if (ex && path.resolve(REPO_ROOT, m[1]!).startsWith(dir)) errors.push({ file: ex.file, line: ex.line + Number(m[2]) - 1, message: m[3]! });
  }
  // tsc failed without any located error (a bad tsconfig, a crash): report it whole.
  if (output && placed === 0) errors.push({ file: 'tsc', line: 0, message: output.slice(0, 2000) });
  return errors;
}
