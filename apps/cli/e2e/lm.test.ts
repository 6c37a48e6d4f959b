import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, seqlab } from './cli.js';

const SHAKESPEARE = 'data/tiny_shakespeare/input.txt';
const TINY = ['--max-chars', '6000', '--units', '24', '--embedding-dim', '8', '--seq-len', '24', '--batch-size', '16'];

describe('train lm -> interrupt -> resume -> generate (built binary)', () => {
  const root = mkdtempSync(join(tmpdir(), 'seqlab-e2e-lm-'));
  const run = join(root, 'run');
  let interruptedAfter = -1;

  beforeAll(async () => {
    // Long enough epochs that Ctrl-C lands mid-run; interrupted as soon as epoch 1 is reported.
    let sent = false;
    const r = await seqlab(['train', 'lm', '--data', SHAKESPEARE, '--out', run, '--epochs', '4', '--windows-per-epoch', '160', ...TINY], {
      onStderr: (child, _chunk, all) => {
        if (!sent && /epoch 1\/4/.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    // Checkpoints live in the run folder beside the model folder; its state says which epoch
    // finished last (a partial epoch is dropped), which is where the resume starts.
    expect(r.stderr).toContain(`interrupted; the last finished epoch is checkpointed in ${run}.run`);
    expect(r.stderr).toContain(`continue with: seqlab train lm --resume ${run}`);
    const state = join(`${run}.run`, 'state.json');
    expect(existsSync(state)).toBe(true);
    interruptedAfter = (JSON.parse(readFileSync(state, 'utf8')) as { epoch: number }).epoch;
  });

  it('resumes from the checkpointed epoch, finishes, and says where it resumed', async () => {
    expect(interruptedAfter).toBeGreaterThanOrEqual(1);
    const r = await seqlab(['train', 'lm', '--resume', run]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`resumed from epoch ${interruptedAfter}`);
    expect(r.stderr).toContain(`resuming from epoch ${interruptedAfter} (${interruptedAfter} of 4 epochs done)`);
    // Only the remaining epochs ran in this process.
    expect(r.stderr).not.toMatch(new RegExp(`epoch ${interruptedAfter}/4`));
    expect(r.stderr).toMatch(/epoch 4\/4/);
    expect(r.stdout).toMatch(/trained 4 epochs/);
    expect(existsSync(join(run, 'training-curve.png'))).toBe(true);
  });

  it('streams generated text and the same seed gives the same text', async () => {
    // Enough tokens that even the inference fast path (thousands of tokens/s) takes visibly long.
    const args = ['generate', '--model', run, '--prompt', 'KING:', '--max-tokens', '3000', '--temperature', '0.9'];
    const a = await seqlab([...args, '--seed', '11']);
    const b = await seqlab([...args, '--seed', '11']);
    const c = await seqlab([...args, '--seed', '12']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(100);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).not.toBe(a.stdout);
    // Streamed: text arrives in many pieces spread over the run, not in one write at the end.
    expect(a.chunkTimes.length).toBeGreaterThan(3);
    expect(a.chunkTimes[a.chunkTimes.length - 1]! - a.chunkTimes[0]!).toBeGreaterThan(20);
  });

  it('generate with no --model uses the default model (the committed one, or a tiny stand-in under SEQLAB_MODELS)', async () => {
    const committed = join(REPO_ROOT, 'models', 'shakespeare-char');
    let env: Record<string, string> = {};
    if (!existsSync(join(committed, 'config.json'))) {
      const models = join(root, 'models');
      mkdirSync(models, { recursive: true });
      cpSync(run, join(models, 'shakespeare-char'), { recursive: true });
      env = { SEQLAB_MODELS: models };
      process.stderr.write(`note: ${committed} is absent; testing default-model resolution with a tiny model in ${models}\n`);
    }
    const r = await seqlab(['generate', '--prompt', 'ROMEO:\n', '--max-tokens', '120', '--seed', '1', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toMatch(/shakespeare-char$/);
    expect(out.tokens).toBeGreaterThan(0);
    expect(out.text.length).toBeGreaterThan(0);
    const listed = await seqlab(['models', '--json'], { env });
    const generator = JSON.parse(listed.stdout).models.find((m: { defaultFor: string[] }) => m.defaultFor.includes('text-generation'));
    expect(generator).toMatchObject({ name: 'shakespeare-char', task: 'text-generation', kind: 'char-lm' });
  });

  it('bad generation options and unknown models fail with one line', async () => {
    const unknown = await seqlab(['generate', '--prompt', 'x', '--model', 'no-such-model']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr.trim()).toMatch(/^seqlab: no model named "no-such-model"; available models: /);
    const bad = await seqlab(['generate', '--prompt', 'x', '--model', run, '--temperature', 'hot']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('seqlab: --temperature: expected a number >= 0, got "hot"');
  });
});
