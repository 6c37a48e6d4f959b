import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { embedCommand } from '../src/commands/embed.js';
import { infoCommand } from '../src/commands/info.js';
import { modelsCommand } from '../src/commands/models.js';
import { similarCommand } from '../src/commands/similar.js';
import { COMMAND_HELP } from '../src/command-help.js';
import { buildProgram } from '../src/program.js';
import { dataFile, run } from './helpers.js';

function leaves(cmd: Command): Command[] {
  return cmd.commands.length ? cmd.commands.flatMap(leaves) : [cmd];
}

describe('the seqlab program', () => {
  it('has every command of the issue, each with --json and --verbose', async () => {
    const program = await buildProgram();
    const names = leaves(program).map((c) => (c.parent && c.parent !== program ? `${c.parent.name()} ${c.name()}` : c.name()));
    expect(names.sort()).toEqual(
      [
        'classify',
        'embed',
        'evaluate classifier',
        'evaluate forecaster',
        'evaluate lm',
        'forecast',
        'generate',
        'info',
        'jobs cancel',
        'jobs status',
        'jobs submit',
        'jobs watch',
        'models',
        'sentiment',
        'similar',
        'train classifier',
        'train forecaster',
        'train lm',
        'worker',
      ].sort(),
    );
    for (const c of leaves(program)) {
      const flags = c.options.map((o) => o.long);
      expect(flags, c.name()).toContain('--json');
      expect(flags, c.name()).toContain('--verbose');
    }
  });
});

describe('seqlab info', () => {
  it('reports the backend in use and why', async () => {
    const r = await run(infoCommand(), ['--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(out.backend);
    expect(out.reason.length).toBeGreaterThan(10);
    expect(Array.isArray(out.kernels.added)).toBe(true);
    const text = await run(infoCommand(), []);
    expect(text.stdout).toMatch(new RegExp(`^backend\\s+${out.backend}`));
    expect(text.stdout).toMatch(/why\s+\S+/);
  });
});

describe('seqlab models', () => {
  it('lists every shipped model with the task and kind its config.json names, and the defaults', async () => {
    const r = await run(modelsCommand(), ['--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    const byName = Object.fromEntries(out.models.map((m: { name: string; task: string; kind: string; defaultFor: string[] }) => [m.name, m]));
    // The sentiment default is a binary text classifier (one family), listed as the sentiment default.
    expect(byName['sentiment-glove']).toMatchObject({ task: 'text-classification', kind: 'rnn', defaultFor: ['sentiment'] });
    expect(Object.keys(byName).sort()).toEqual(['question-type', 'sentiment-glove', 'shakespeare-char']);
    expect(byName['shakespeare-char']).toMatchObject({ task: 'text-generation', kind: 'char-lm', defaultFor: ['text-generation'] });
    expect(byName['question-type']).toMatchObject({ task: 'text-classification', defaultFor: ['text-classification'] });
  });
});

describe('seqlab embed / similar (Universal Sentence Encoder lite)', () => {
  it('embeds texts as 512-d unit vectors', async () => {
    const r = await run(embedCommand(), ['the cat sat on the mat', 'stocks fell sharply', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.dim).toBe(512);
    expect(out.embeddings).toHaveLength(2);
    const v: number[] = out.embeddings[0].vector;
    expect(Math.hypot(...v)).toBeCloseTo(1, 3);
  });

  it('--out streams every text to its file in slices, the same vectors as printed, nothing left half-written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seqlab-embed-'));
    // 300 real sentences: more than one slice of 256.
    const lines = readFileSync(dataFile('sst2', 'dev.tsv'), 'utf8').trim().split('\n').slice(1, 301).map((l) => l.split('\t')[0]!.trim());
    const input = join(dir, 'texts.txt');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'vectors.jsonl');
    const r = await run(embedCommand(), ['--file', input, '--out', out, '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ dim: 512, count: 300, out });
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; vector: number[] });
    expect(rows.map((x) => x.text)).toEqual(lines);
    const direct = JSON.parse((await run(embedCommand(), [lines[299]!, '--json'])).stdout).embeddings[0].vector as number[];
    rows[299]!.vector.forEach((x, i) => expect(x).toBeCloseTo(direct[i]!, 5));
    expect(readdirSync(dir).sort()).toEqual(['texts.txt', 'vectors.jsonl']);
    const bad = await run(embedCommand(), ['--file', input, '--out', join(dir, 'missing', 'v.jsonl')]);
    expect(bad.exitCode).not.toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['texts.txt', 'vectors.jsonl']);
  }, 120_000);

  it('ranks a paraphrase above unrelated sentences', async () => {
    const r = await run(similarCommand(), [
      'a kitten is sitting on a rug',
      'stock markets fell sharply today',
      'the cat sat on the mat',
      'I would like a refund for my order',
      '--top',
      '3',
      '--json',
    ]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.matches[0].text).toBe('the cat sat on the mat');
    expect(out.matches[0].score).toBeGreaterThan(out.matches[1].score + 0.1);
  });

  it('needs candidates', async () => {
    const r = await run(similarCommand(), ['query only', '--file', '/nonexistent/candidates.txt']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/--file: file not found/);
  });
});

describe('start-up', () => {
  // TensorFlow.js's engine puts itself on globalThis as `_tfengine` when its module loads; the
  // program (every command declared, --help, --version) must not need it: loading TensorFlow.js
  // and its wasm backend is most of a second of CPU that `seqlab --version` would pay.
  it('declares every command and answers --version without loading TensorFlow.js or a model package', () => {
    const script = [
      "const { buildProgram } = await import('./src/program.ts');",
      'const program = await buildProgram();',
      "program.exitOverride().configureOutput({ writeOut: () => {} });",
      "try { await program.parseAsync(['node', 'seqlab', '--version']); } catch (err) { if (err.code !== 'commander.version') throw err; }",
      "process.stdout.write(JSON.stringify({ commands: program.commands.length, tf: '_tfengine' in globalThis }));",
    ].join('\n');
    const out = execFileSync(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ commands: 12, tf: false });
  });

  // zod puts its registry on globalThis when it loads; given the arguments, the program loads
  // only the command they name, so --version and --help load neither zod nor any command module.
  it('given the arguments, loads only the command they name: --version and --help need no command module or zod', () => {
    const script = [
      "const { buildProgram } = await import('./src/program.ts');",
      "const { Help } = await import('commander');",
      'const seen = {};',
      "for (const argv of [['--version'], ['--help'], ['info', '--json']]) {",
      '  const program = await buildProgram(argv);',
      '  const loaded = program.commands.filter((c) => c.options.length > 0 || c.commands.length > 0).map((c) => c.name());',
      "  seen[argv.join(' ')] = { commands: program.commands.length, loaded, zod: '__zod_globalRegistry' in globalThis, help: program.helpInformation() };",
      '}',
      'const full = await buildProgram();',
      "const terms = Object.fromEntries(full.commands.map((c) => [c.name(), new Help().subcommandTerm(c)]));",
      "process.stdout.write(JSON.stringify({ seen, terms, fullHelp: full.helpInformation() }));",
    ].join('\n');
    const out = execFileSync(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
    const { seen, terms, fullHelp } = JSON.parse(out) as { seen: Record<string, { commands: number; loaded: string[]; zod: boolean; help: string }>; terms: Record<string, string>; fullHelp: string };
    expect(seen['--version']).toMatchObject({ commands: 12, loaded: [], zod: false });
    expect(seen['--help']).toMatchObject({ commands: 12, loaded: [], zod: false });
    expect(seen['info --json']).toMatchObject({ commands: 12, loaded: ['info'], zod: true });
    // The list shown before any command is loaded is the loaded commands' own.
    expect(seen['--help']!.help).toBe(fullHelp);
    expect(terms).toEqual(Object.fromEntries(Object.entries(COMMAND_HELP).map(([name, h]) => [name, h.term])));
  });

  it('loads TensorFlow.js when a command needs a model (the check above can fail)', () => {
    const script = "await import('@seqlab/tasks'); process.stdout.write(String('_tfengine' in globalThis));";
    const out = execFileSync(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
    expect(out).toBe('true');
  });
});
