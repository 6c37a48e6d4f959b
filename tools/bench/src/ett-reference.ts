/**
 * bench:ett-reference — the SegRNN authors' own PyTorch code on this machine, with their
 * published look-back-96 settings, so that bench:ett's SegRNN can be compared with what the
 * reference implementation reaches here, not only with the figures printed in its README.
 *
 * Needs a checkout of https://github.com/lss-1138/SegRNN (not part of seqlab; nothing of it is
 * copied here) and a Python with torch, pandas and scikit-learn (on Debian:
 * `apt-get install python3-torch python3-pandas python3-sklearn`). The ETT files come from this
 * repository's data/ett. Each setting runs the reference's `run_longExp.py` exactly as its
 * `scripts/SegRNN/Lookback_96/etth{1,2}.sh` do (d_model 512, dropout 0.5, 30 epochs, patience 10,
 * batch 256, lr 1e-3 on ETTh1 and 2e-4 on ETTh2, GRU, PMF decoding, channel ids, MSE loss,
 * its default seed), on the CPU with one thread, and reads the test MSE / MAE it prints. A
 * setting takes 30-60 minutes on one core here.
 *
 *   npm run bench:ett-reference -- --repo /path/to/SegRNN [--python /usr/bin/python3]
 *     [--settings ETTh1-192,ETTh1-96,ETTh2-96] [--logs DIR]
 *
 * With --logs DIR, settings whose log (`DIR/<data>_<H>.log`) already holds a final test line
 * are read from it instead of being run again; new runs write their logs there.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { arg, REPO_ROOT, dataPath, formatTable, writeResults } from './lib/report.js';

const repo = arg('repo', '');
if (!repo || !existsSync(path.join(repo, 'run_longExp.py'))) {
  throw new Error(`--repo must be a checkout of lss-1138/SegRNN (run_longExp.py not found in ${JSON.stringify(repo)})`);
}
const python = arg('python', 'python3');
const settings = arg('settings', 'ETTh1-96,ETTh1-192,ETTh1-336,ETTh1-720,ETTh2-96,ETTh2-192,ETTh2-336,ETTh2-720').split(',');
const logs = path.resolve(arg('logs', path.join(REPO_ROOT, 'results', 'tmp', 'ett-reference')));
await fs.mkdir(logs, { recursive: true });
const command = `npm run bench:ett-reference -- --repo SegRNN --settings ${settings.join(',')}`;
console.log(`reproduce: ${command}`);

// Published look-back-96 figures (SegRNN README, "Comparison Results for Lookback L = 96"), as bench:ett uses them.
const PUBLISHED: Record<string, { mse: number; mae: number }> = {
  'ETTh1-96': { mse: 0.368, mae: 0.395 },
  'ETTh1-192': { mse: 0.408, mae: 0.419 },
  'ETTh1-336': { mse: 0.444, mae: 0.44 },
  'ETTh1-720': { mse: 0.446, mae: 0.457 },
  'ETTh2-96': { mse: 0.278, mae: 0.335 },
  'ETTh2-192': { mse: 0.359, mae: 0.389 },
  'ETTh2-336': { mse: 0.421, mae: 0.436 },
  'ETTh2-720': { mse: 0.432, mae: 0.455 },
};

function argsFor(data: string, horizon: number): string[] {
  return [
    '-u', 'run_longExp.py', '--is_training', '1', '--root_path', `${dataPath('ett')}/`, '--data_path', `${data}.csv`,
    '--model_id', `${data}_96_${horizon}`, '--model', 'SegRNN', '--data', data, '--features', 'M', '--seq_len', '96',
    '--pred_len', String(horizon), '--seg_len', '24', '--enc_in', '7', '--d_model', '512', '--dropout', '0.5',
    '--train_epochs', '30', '--patience', '10', '--rnn_type', 'gru', '--dec_way', 'pmf', '--channel_id', '1',
    '--loss', 'mse', '--itr', '1', '--batch_size', '256', '--learning_rate', data === 'ETTh1' ? '0.001' : '0.0002', '--num_workers', '0',
  ];
}

interface Outcome {
  setting: string;
  mse: number;
  mae: number;
  epochs: number;
  bestEpoch: number;
  publishedMse: number;
}

function parse(setting: string, log: string): Outcome | undefined {
  const final = /mse:([0-9.]+), mae:([0-9.]+)/.exec(log);
  if (!final) return undefined;
  const epochs = [...log.matchAll(/Epoch: (\d+), Steps: \d+ \| Train Loss: [0-9.]+ Vali Loss: ([0-9.]+)/g)].map((m) => ({ epoch: Number(m[1]), vali: Number(m[2]) }));
  const best = epochs.reduce((a, b) => (b.vali < a.vali ? b : a), epochs[0] ?? { epoch: 0, vali: Infinity });
  return { setting, mse: Number(final[1]), mae: Number(final[2]), epochs: epochs.length, bestEpoch: best.epoch, publishedMse: PUBLISHED[setting]!.mse };
}

const outcomes: Outcome[] = [];
for (const setting of settings) {
  const [data, h] = setting.split('-');
  if (!PUBLISHED[setting] || !data || !h) throw new Error(`--settings: ${setting} is not one of ${Object.keys(PUBLISHED).join(', ')}`);
  const logFile = path.join(logs, `${data}_${h}.log`);
  const previous = existsSync(logFile) ? parse(setting, await fs.readFile(logFile, 'utf8')) : undefined;
  if (previous) {
    console.log(`${setting}: read from ${logFile}`);
    outcomes.push(previous);
    continue;
  }
  console.log(`${setting}: running the reference (${python} ${argsFor(data, Number(h)).slice(1, 3).join(' ')} ...), log ${logFile}`);
  const out = createWriteStream(logFile);
  const child = spawn(python, argsFor(data, Number(h)), { cwd: repo, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  out.end();
  const outcome = parse(setting, await fs.readFile(logFile, 'utf8'));
  if (code !== 0 || !outcome) throw new Error(`${setting}: the reference exited ${code} without a test line; see ${logFile}`);
  outcomes.push(outcome);
}

const rows = outcomes.map((o) => ({ ...o, 'at or below published': o.mse <= o.publishedMse }));
console.log(formatTable(rows));
const file = await writeResults('ett-reference', command, {
  backend: 'PyTorch (CPU, one thread), the reference implementation',
  reference: { repository: 'lss-1138/SegRNN', script: 'scripts/SegRNN/Lookback_96/etth{1,2}.sh settings', seed: 'its default (2024)', python },
  settings: rows,
});
console.log(`results: ${file}`);
