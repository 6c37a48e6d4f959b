import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Command } from 'commander';
import type { TextClassificationDetails, TrainReport } from '@seqlab/tasks';
import { defineAction, emit, fmt, note, println, table } from '../cli.js';
import { classifierSchema, declareClassifierFlags, inFlagTerms, trainOptionsOf } from '../classifier-flags.js';
import { InterruptedError, UsageError } from '../errors.js';
import { requireHeaderDecision } from '../labelled.js';
import { existingFile, parseOptions, plotPath } from '../options.js';
import { trainEventPrinter } from '../train-events.js';
import { RUN_FILE, curveFromHistory, partialEpochOf, resumeOptions, type RunRecord } from '../training.js';

type Report = TrainReport<TextClassificationDetails>;

/** `seqlab train classifier`: a text classifier on any labels (binary, multi-class, multi-label), through train('text-classification'). */
export function trainClassifierCommand(): Command {
  const cmd = declareClassifierFlags(
    new Command('classifier').description('train a text classifier on a CSV, TSV or JSONL of texts and labels (any label strings; multi-label as ["a","b"] or a|b)'),
  );
  return defineAction(cmd, async ({ opts, command }) => {
    const resumeDir = typeof opts.resume === 'string' ? resolve(opts.resume) : undefined;
    const raw = resumeDir ? { ...resumeOptions(`${resumeDir}.run`, 'classifier', command, opts), out: resumeDir } : opts;
    const o = parseOptions(classifierSchema, raw);
    const out = resolve(o.out);
    const runDir = `${out}.run`;
    const data = existingFile(o.data, '--data');
    const validation = o.validation ? existingFile(o.validation, '--validation') : undefined;
    const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
    if (o.encoder === 'use' && o.model !== 'auto' && o.model !== 'use' && o.model !== 'hybrid') {
      throw new UsageError(`--encoder use: --model ${o.model} reads no sentence vectors; use --model use, hybrid or auto (or drop --encoder)`);
    }
    if (!resumeDir && !o.force && existsSync(join(runDir, 'state.json'))) {
      throw new UsageError(`${runDir} holds the checkpoints of a training run; continue it with --resume ${o.out} or start over with --force`);
    }
    const { train, readLabelledRows, TEXT_CLASSIFICATION_TRAIN_KEYS } = await import('@seqlab/tasks');
    const { writeJsonAtomic } = await import('@seqlab/core');
    const columns = { ...(o.textCol ? { textColumn: o.textCol } : {}), ...(o.labelCol ? { labelColumn: o.labelCol } : {}) };
    requireHeaderDecision(data, await readLabelledRows(data, { ...columns, ...(o.header === false ? { header: false } : {}) }), o.header);
    // The flags as typed (strings), so a resume parses them again exactly as this run did.
    await writeJsonAtomic(join(runDir, RUN_FILE), { task: 'classifier', options: { ...raw, resume: undefined, data, out, validation } } satisfies RunRecord<Record<string, unknown>>);
    // Ctrl-C aborts the run at the next batch; the last finished epoch stays checkpointed.
    const controller = new AbortController();
    const onSignal = () => controller.abort(new InterruptedError(`interrupted; checkpoints are in ${runDir}; continue with: seqlab train classifier --resume ${o.out}`));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const printer = trainEventPrinter({ quiet: o.json });
    let report: Report;
    try {
      const options = { ...trainOptionsOf(o, { out, ...(validation ? { validation } : {}) }), resume: resumeDir !== undefined, signal: controller.signal, onProgress: printer.onProgress };
      ({ report } = await train('text-classification', data, options));
    } catch (err) {
      // A run that never finished an epoch leaves nothing to resume: its record goes too.
      if (!existsSync(join(runDir, 'state.json'))) await rm(runDir, { recursive: true, force: true });
      throw inFlagTerms(err, TEXT_CLASSIFICATION_TRAIN_KEYS);
    } finally {
      printer.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const plotted = await plotCurve(report, plot, basename(data));
    const d = report.details;
    const candidates = report.candidates.map((c) => ({ kind: c.kind, seconds: c.seconds, ...c.metrics }));
    const { details: _details, ...head } = report;
    emit(o.json, { ...head, task: 'classifier', out, ...d, candidates, plot: plotted }, () => printReport(report, o.out, plotted));
  });
}

/**
 * The rnn's training curve (only the rnn trains in epochs), titled with what it is and with every
 * other candidate's validation accuracy, so the plot does not read as the kept model's when it is not.
 */
async function plotCurve(report: Report, plot: string, file: string): Promise<string | null> {
  const d = report.details;
  if (d.history.length === 0) return null;
  const crossFitted = d.ensembleCrossFittedAccuracy !== null ? ` (cross-fitted ${fmt(d.ensembleCrossFittedAccuracy)})` : '';
  const others = report.candidates.filter((c) => c.kind !== 'rnn').map((c) => `${c.kind} ${fmt(c.metrics.accuracy!)}${c.kind === 'ensemble' ? crossFitted : ''}`);
  const title = [`rnn candidate of the text classifier on ${file} (kept: ${report.kind})`, ...(others.length ? [`other candidates' validation accuracy: ${others.join(', ')}`] : [])];
  const { trainingCurveChart, writeChart } = await import('../plots.js');
  const spec = trainingCurveChart(curveFromHistory(d.history), { resumedFrom: d.resumedFromEpoch || undefined, partialEpoch: partialEpochOf(d.history) });
  await writeChart({ ...spec, title: { text: title[0]!, ...(title[1] ? { subtitle: title[1] } : {}) } } as typeof spec, plot);
  return plot;
}

/** Single-quotes a text for a POSIX shell, so the printed command runs as shown. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function printReport(report: Report, outArg: string, plotted: string | null): void {
  const d = report.details;
  const multi = d.problem === 'multi-label';
  const acc = multi ? 'subset accuracy' : 'accuracy';
  if (d.resumedFromEpoch) println(`resumed from epoch ${d.resumedFromEpoch}`);
  println(
    table([
      ['model', `validation ${acc}`, 'macro F1', ...(multi ? ['micro F1'] : []), 'seconds'],
      ...report.candidates.map((c) => [
        c.kind + (c.kind === report.kind ? ' (chosen)' : ''),
        fmt(c.metrics.accuracy!),
        fmt(c.metrics.macroF1!),
        ...(multi ? [fmt(c.metrics.microF1!)] : []),
        c.seconds.toFixed(1),
      ]),
    ]),
  );
  println(`kept ${report.kind}: ${report.reason}`);
  if (d.epochsCompleted !== null) {
    const times = d.history.map((h) => `${h.seconds.toFixed(1)} s`).join(', ');
    const stop = { epochs: 'all epochs run', 'early-stopping': 'early stopping', 'time-budget': 'time budget' }[d.stopReason!] ?? d.stopReason;
    println(`rnn: ${d.epochsCompleted} epochs (${stop}${d.lastEpochPartial ? '; the last was cut short by the time budget: partial' : ''}; each: ${times}); best epoch ${d.bestEpoch}${d.restoredBest ? ' (weights restored)' : ''}`);
  }
  const v = d.validationMetrics;
  const truncated = v.truncated ? `; ${v.truncated} texts longer than the model reads were truncated` : '';
  println(`validation (${d.validationRows} texts): ${acc} ${fmt(v.accuracy)}, macro F1 ${fmt(v.macro.f1)}${multi ? `, micro F1 ${fmt(v.micro.f1)}` : ''}${truncated}`);
  if (d.refitRows !== null) println(`the saved ${report.kind} model was refitted on all ${d.refitRows} rows after validation chose it (--no-refit keeps the training-rows fit)`);
  println(`model (${report.kind}) saved to ${report.dir} in ${report.seconds.toFixed(1)} s; try: npm run seqlab -- classify --model ${shellQuote(outArg)} ${shellQuote(d.sampleText)}`);
  if (plotted) println(`training curve (rnn): ${plotted}`);
  if (typeof report.truncated.rnnRows === 'number') {
    note(`rnn: its time budget covered ${report.truncated.rnnRows} of ${d.trainRows} training rows (a shuffled sample across lengths); the linear kinds saw every row`);
  }
  if (typeof report.truncated.texts === 'number' && report.truncated.texts > 0) {
    note(`${report.truncated.texts} of ${d.trainRows} training texts are longer than ${d.maxLength} tokens (${report.truncated.truncation} kept by the rnn; \`seqlab classify --long-texts chunks\` reads them whole)`);
  }
}
