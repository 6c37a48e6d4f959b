import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seqlab } from './cli.js';

const AIRLINE = 'data/classic_ts/airline-passengers.csv';
const dir = mkdtempSync(join(tmpdir(), 'seqlab-e2e-bad-'));
const textCsv = join(dir, 'text.csv');
writeFileSync(textCsv, 'Month,Passengers\n1949-01,112\n1949-02,n/a?\n1949-03,132\n');

/** [what, argv, exit code, message] */
const CASES: Array<[string, string[], number, RegExp]> = [
  ['a missing file', ['forecast', '--csv', 'data/nope.csv', '--horizon', '3'], 3, /^seqlab: --csv: file not found: data\/nope\.csv$/],
  ['an unknown column', ['forecast', '--csv', AIRLINE, '--horizon', '3', '--target', 'Revenue'], 2, /column "Revenue" not found; columns are Month, Passengers/],
  ['an unknown date column', ['forecast', '--csv', AIRLINE, '--horizon', '3', '--date-col', 'When'], 2, /date column "When" not found/],
  ['non-numeric data', ['forecast', '--csv', textCsv, '--horizon', '1'], 2, /column "Passengers" row 2 \(line 3\): "n\/a\?" is not a number/],
  ['an unknown forecaster', ['forecast', '--csv', AIRLINE, '--horizon', '3', '--model', 'arima'], 2, /--model: expected a forecaster, one of .*got "arima"/],
  ['a bad option value', ['forecast', '--csv', AIRLINE, '--horizon', '-4'], 2, /--horizon: expected a positive integer, got "-4"/],
  ['a bad level', ['forecast', '--csv', AIRLINE, '--horizon', '3', '--level', '80,150'], 2, /--level: expected interval levels .*got "150"/],
  ['an unknown option', ['forecast', '--csv', AIRLINE, '--horizon', '3', '--frobnicate'], 2, /unknown option '--frobnicate'/],
  ['a missing required option', ['forecast', '--csv', AIRLINE], 2, /required option '--horizon <n>' not specified/],
  ['an unknown command', ['forcast'], 2, /unknown command 'forcast'/],
  ['a bad backend', ['info', '--backend', 'gpu'], 2, /--backend: expected a backend, one of tensorflow, wasm, cpu; got "gpu"/],
  ['a bad plot extension', ['forecast', '--csv', AIRLINE, '--horizon', '3', '--plot', join(dir, 'x.gif')], 2, /--plot: the file name must end in .png or .svg/],
  ['a missing similar file', ['similar', 'query', '--file', join(dir, 'none.txt')], 3, /--file: file not found/],
];

describe('bad input gives one clear line and a non-zero exit code (built binary)', () => {
  it.each(CASES)('%s', async (_what, argv, code, message) => {
    const r = await seqlab(argv);
    expect(r.code).toBe(code);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('--verbose adds the stack trace', async () => {
    const r = await seqlab(['forecast', '--csv', AIRLINE, '--horizon', '3', '--target', 'Revenue', '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^seqlab: .*column "Revenue" not found/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('--json adds a machine-readable error object on stdout', async () => {
    const r = await seqlab(['forecast', '--csv', 'data/nope.csv', '--horizon', '3', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'not_found', message: '--csv: file not found: data/nope.csv', exitCode: 3 } });
  });

  it('info reports the backend and why it was chosen; SEQLAB_BACKEND overrides it', async () => {
    const auto = await seqlab(['info', '--json']);
    expect(auto.code).toBe(0);
    const info = JSON.parse(auto.stdout);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend);
    expect(info.reason).toMatch(/\w+/);
    const cpu = await seqlab(['info'], { env: { SEQLAB_BACKEND: 'cpu' } });
    expect(cpu.code).toBe(0);
    expect(cpu.stdout).toMatch(/^backend\s+cpu/);
    expect(cpu.stdout).toContain('requested by SEQLAB_BACKEND=cpu');
  });

  it('help and version exit 0', async () => {
    const help = await seqlab(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    const version = await seqlab(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe('0.1.0');
    // A group without its subcommand shows its help but is a usage error.
    const group = await seqlab(['train']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('Usage: seqlab train');
  });
});
