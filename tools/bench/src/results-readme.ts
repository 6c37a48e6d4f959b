/**
 * results:page — writes docs/results.md, the full results page, from the committed
 * results/*.json (default runs and their variants rows), and the short headline table of
 * README.md (between the headlines markers), so neither quotes a figure no run produced.
 *
 *   npm run results:page      (npm run results:readme is the same script)
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, readResultsFile, readResultsRun } from './lib/report.js';

type Json = Record<string, unknown>;
type Row = Record<string, unknown>;

/** One run of `results/FILE.json`: the default run, or the `variants` row named `run`. */
function load(file: string, run?: string): Json | undefined {
  return readResultsRun(file, run);
}

function fmt(v: unknown, digits = 3): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(digits);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return v === undefined || v === null ? '' : String(v);
}

function table(rows: Row[], cols: Array<[string, string, number?]>): string {
  const head = `| ${cols.map((c) => c[1]).join(' | ')} |`;
  const rule = `|${cols.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${cols.map(([k, , d]) => fmt(r[k], d)).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

function provenance(j: Json): string {
  const env = j.environment as Json | undefined;
  const backend = typeof j.backend === 'object' && j.backend ? (j.backend as Json).name : j.backend;
  return `\`${String(j.command)}\`${backend ? `, backend ${String(backend)}` : ''}${env ? `, commit ${String(env.commit)}, ${String(env.date).slice(0, 10)}` : ''}`;
}

const parts: string[] = [];

const backends = load('backends');
if (backends) {
  parts.push(`### Backends and kernels (${provenance(backends)})`);
  parts.push(
    'Reference models with stock `tf.layers`, batch 32, 40 steps, median of 5 runs. "stock" = TensorFlow.js kernels as shipped, "seqlab" = with @seqlab/core\'s kernels.',
  );
  parts.push(
    table(backends.models as Row[], [
      ['model', 'model'],
      ['backend', 'backend'],
      ['kernels', 'kernels'],
      ['trainSeqPerS', 'train seq/s', 1],
      ['trainMsPerBatch', 'train ms/batch', 0],
      ['inferSeqPerS', 'infer seq/s', 1],
    ]),
  );
  parts.push(
    `Embedding gradient alone (UnsortedSegmentSum, 1,280 x 32 into 2,000 rows), ms per call: ${(backends.embeddingGradient as Row[])
      .map((r) => `${String(r.backend)}/${String(r.kernels)} ${fmt(r.msPerCall, 2)}`)
      .join('; ')}. cpu training step of the BiLSTM classifier: **${fmt(backends.cpuTrainSpeedupSeqlabOverStock, 1)}x** faster than stock.`,
  );
}

const rnnBench = load('rnn');
if (rnnBench) {
  parts.push(`### Fused recurrent layers (${provenance(rnnBench)})`);
  parts.push(
    `Training and inference of the shapes seqlab trains, fused layers (@seqlab/core's whole-sequence WebAssembly kernels, ${fmt(rnnBench.fusedThreads)} thread(s)) against stock \`tf.layers\` with @seqlab/core's other kernels, median of the timed batches in one run; GFLOP/s counts forward x 3 of the recurrent layers, input projections and output layer. brain.js: its LSTM on the same characters and hidden size. "speed-up" = fused / stock training throughput in the same run.`,
  );
  parts.push(
    table(rnnBench.rows as Row[], [
      ['shape', 'shape'],
      ['backend', 'backend'],
      ['implementation', 'layers'],
      ['trainSeqPerS', 'train seq/s', 1],
      ['trainMsPerBatch', 'train ms/batch', 0],
      ['trainGflops', 'train GFLOP/s', 2],
      ['inferSeqPerS', 'infer seq/s', 1],
      ['trainSpeedup', 'speed-up', 2],
    ]),
  );
  const latency = rnnBench.latency as Row | undefined;
  if (latency) {
    parts.push(
      `Serving in-process (${String(latency.backend)}): one sentence through the default sentiment ensemble ${fmt(latency.sentimentFastMs, 2)} ms median on the inference fast path (${fmt(latency.sentimentLayersMs, 2)} ms through tf.layers); generation with the default model ${fmt(latency.generationFastTokensPerS, 0)} tokens/s (${fmt(latency.generationLayersTokensPerS, 0)} through tf.layers).`,
    );
  }
}

const tokenize = load('tokenize');
if (tokenize) {
  parts.push(`### Tokenization (${provenance(tokenize)})`);
  parts.push('MB/s from process CPU time, median of 5 passes; ratio to natural\'s WordTokenizer (which only splits, no ids or offsets) on the same text in the same run.');
  parts.push(
    table(tokenize.encoding as Row[], [
      ['corpus', 'corpus'],
      ['encoder', 'encoder'],
      ['tokens/s', 'tokens/s (wall)', 0],
      ['MB/s (cpu)', 'MB/s (cpu)', 2],
      ['vs natural (cpu)', 'vs natural', 2],
    ]),
  );
}

const sst2 = load('sst2');
const sst2use = load('sst2-use');
const sst2glove = load('sst2', 'sst2-glove');
const shakespeare = load('shakespeare');
if (sst2 || sst2use || shakespeare) {
  parts.push('### Text models (SST-2 and tiny-shakespeare recipes; of their models, `models/` ships sentiment-glove and shakespeare-char, the recipes regenerate the others)');
  const rows: Row[] = [];
  if (sst2) {
    const m = sst2.metrics as Json;
    const members = (m.memberDevAccuracy as number[] | undefined) ?? [];
    const model = members.length > 1
      ? `ensemble of ${members.length} BiLSTM(64) + attention pooling, from scratch (members alone: ${members.map((a) => `${(a * 100).toFixed(2)}%`).join(', ')})`
      : 'BiLSTM(64) + attention pooling, from scratch';
    rows.push({ recipe: '`npm run recipe:sst2`', model, metric: 'GLUE SST-2 dev accuracy', value: `${((m.devAccuracy as number) * 100).toFixed(2)}%`, goal: '>= 84%', met: sst2.reachedGoal });
  }
  if (sst2glove) {
    const m = sst2glove.metrics as Json;
    const members = (m.memberDevAccuracy as number[] | undefined) ?? [];
    const w = sst2glove.wordVectors as Json;
    const open = sst2glove.openVocabulary as Json | undefined;
    const model =
      `ensemble of ${members.length} BiLSTM(64) + attention pooling over ${String(w.vectors)} (${w.fineTuned ? 'fine-tuned' : 'frozen'}; ${String(w.found)} of ${String(w.vocabulary)} training words` +
      `${open ? `, plus ${String(open.added)} more GloVe words carried as an open vocabulary` : ''}; members alone, training vocabulary only: ${members.map((a) => `${(a * 100).toFixed(2)}%`).join(', ')}), \`models/sentiment-glove\``;
    rows.push({ recipe: `\`npm run recipe:sst2 -- --word-vectors glove-6b-100d --freeze-embeddings${open ? ` --open-vocabulary ${String(open.limit)}` : ''}\``, model, metric: 'GLUE SST-2 dev accuracy', value: `${((m.devAccuracy as number) * 100).toFixed(2)}%`, goal: '>= 88% (transfer)', met: sst2glove.reachedGoal });
  }
  const devRow = (recipe: string, model: string, devAccuracy: number, goal = '', met: unknown = '') =>
    rows.push({ recipe: `\`${recipe}\``, model, metric: 'GLUE SST-2 dev accuracy', value: `${(devAccuracy * 100).toFixed(2)}%`, goal, met });
  for (const name of ['sst2-gru', 'sst2-lstm2']) {
    const r = load('sst2', name);
    if (!r) continue;
    const a = r.architecture as Json;
    const members = ((r.training as Json).members as Json[] | undefined)?.length ?? 1;
    const out = /--out (\S+)/.exec(String(r.command))?.[1] ?? 'models/sentiment';
    devRow(String(r.command), `${members} Bi${String(a.cell).toUpperCase()}(${String(a.units)}) from scratch, \`${out}\` (a member of the from-scratch ensemble)`, (r.metrics as Json).devAccuracy as number);
  }
  const sst2ft = load('sst2-linear');
  if (sst2ft) {
    const c = sst2ft.chosen as Json;
    devRow('npm run recipe:sst2-linear', `fastText-style embedding bag (dim ${String(c.dim)}, ${String(c.epochs)} epochs, words, bigrams and character 3-5-grams) from scratch, \`${String(sst2ft.savedModel)}\``, (sst2ft.metrics as Json).devAccuracy as number);
  }
  const sst2scratch = load('sst2-ensemble', 'sst2-scratch-ensemble');
  if (sst2scratch) {
    const members = sst2scratch.members as Json[];
    devRow(
      'npm run recipe:sst2-ensemble -- --from-scratch',
      `weighted mean of ${members.map((x) => `\`${String(x.name)}\` ${String(x.weight)}`).join(', ')} (no pre-trained vectors or encoders; weights chosen on recipe:sst2-use's model-choice rows), \`models/sentiment-scratch\``,
      (sst2scratch.metrics as Json).devAccuracy as number,
      '>= 86% (from scratch)',
      (sst2scratch.goal as Json).met,
    );
  }
  const sst2ens = load('sst2-ensemble');
  if (sst2ens) {
    const m = sst2ens.metrics as Json;
    const members = sst2ens.members as Json[];
    rows.push({
      recipe: '`npm run recipe:sst2-ensemble`',
      model: `weighted mean of ${members.map((x) => `\`${String(x.name)}\` ${String(x.weight)}`).join(', ')} (weights chosen on recipe:sst2-use's model-choice rows), \`models/sentiment-transfer\`${sst2ens.baseline ? `; TF-IDF logistic regression on the same phrases: ${fmt(((sst2ens.baseline as Json).devAccuracy as number) * 100, 2)}%` : ''}`,
      metric: 'GLUE SST-2 dev accuracy',
      value: `${((m.devAccuracy as number) * 100).toFixed(2)}%`,
      goal: '>= 88% (transfer)',
      met: (sst2ens.goal as Json).met,
    });
  }
  if (sst2use) {
    const c = sst2use.chosen as Json;
    const weights = ((sst2use.rows as Json[] | undefined) ?? []).find((r) => r.model === c.model)?.settings as Json | undefined;
    const fusion = weights?.weights ? `, weights ${Object.entries(weights.weights as Record<string, number>).map(([k, v]) => `\`${k}\` ${v}`).join(', ')}` : '';
    const dev = c.devAccuracy as number;
    rows.push({ recipe: '`npm run recipe:sst2-use`', model: `${String(c.model)} (chosen on the model-choice rows${fusion})`, metric: 'GLUE SST-2 dev accuracy', value: `${(dev * 100).toFixed(2)}%`, goal: '>= 85%', met: dev >= 0.85 });
  }
  if (shakespeare) {
    const m = shakespeare.metrics as Json;
    const a = shakespeare.architecture as Json;
    const t = shakespeare.training as Json;
    const minutes = (t.wallTimeSeconds as number) / 60;
    const layers = Number(a.layers ?? 1) > 1 ? `${String(a.layers)}-layer ` : '';
    const g = shakespeare.goal as Json;
    // Results written before issue 12 raised the goal only had the 1.70 target.
    const goal = g.minutes ? `<= ${String(g.validationLossNatsPerChar)} within ${String(g.minutes)} min of training` : `<= ${String(g.validationLossNatsPerChar)}`;
    rows.push({ recipe: '`npm run recipe:shakespeare`', model: `char ${layers}${String(a.cell).toUpperCase()}(${String(a.units)}), fused layers, ${fmt(minutes, 0)} min on this machine (${String(t.stopReason)})`, metric: 'tiny-shakespeare validation nats/char', value: fmt(m.validationLoss, 4), goal, met: shakespeare.reachedGoal });
  }
  parts.push(table(rows, [['recipe', 'recipe'], ['model', 'model'], ['metric', 'metric'], ['value', 'value'], ['goal', 'goal'], ['met', 'met']]));
  parts.push('Published references (anchors): CNN with random embeddings 82.7% (Kim 2014); USE transfer about 85% (Cer et al. 2018); nanoGPT "baby" CPU config about 1.88 nats/char.');
}

const trec = load('trec');
if (trec) {
  parts.push(`### Question classification: TREC (${provenance(trec)})`);
  const goal = trec.goal as Json;
  const qt = trec.questionType as Json | null;
  parts.push(
    `5,452 training / 500 test questions; every kind fitted on the same 90% of the training questions (the other 10%, stratified, picks the committed model; the sentence-encoder kinds \`use\` and \`hybrid\` also choose their settings there, then are fitted again with them on all training questions; \`rnn-glove\` is the \`rnn\` with its embedding started from GloVe 6B 100-d; \`ensemble\` is the weighted mean of \`hybrid\` and \`rnn-glove\`, weights chosen on the 10%, its seconds those of its members), test accuracy and macro F1 on the 500 test questions. Goal of issue 15: TREC-6 >= 95% (best here ${fmt(((goal.best as number) ?? 0) * 100, 2)}%, ${goal.met ? 'met' : 'not met yet'}). References: CNN from random embeddings 91.2%, with pretrained vectors 93.6% (Kim 2014); SVM on hand-made features 95.0% (Silva et al. 2011).${qt ? ` Committed: \`models/question-type\` (kind ${String(qt.kind)}).` : ''}`,
  );
  parts.push(
    table(
      (trec.rows as Row[]).map((r) => {
        const c = r.chosen as Json | undefined;
        const weights = r.weights as Record<string, number> | undefined;
        const settings = weights
          ? Object.entries(weights).map(([k, w]) => `${k} ${w}`).join(' + ')
          : c
          ? [c.labels === 'fine' ? 'fine labels summed' : '', Number(c.hidden) === 0 ? 'LR head' : `MLP ${String(c.hidden)} head`, c.useWeight !== undefined ? `USE weight ${String(c.useWeight)}` : '', 'refit'].filter(Boolean).join(', ')
          : '';
        return { ...r, settings };
      }),
      [
      ['task', 'task'],
      ['kind', 'model'],
      ['settings', 'chosen on held-out'],
      ['validationAccuracy', 'held-out train accuracy', 4],
      ['testAccuracy', 'test accuracy', 4],
      ['testMacroF1', 'test macro F1', 4],
      ['trainSeconds', 'train seconds', 1],
      ],
    ),
  );
}

// Other seeds of the TREC-6 ensemble and its members (recipe:trec --results-name trec-seedN).
const trecSeeds = [2, 3, 4, 5].map((n) => load('trec', `trec-seed${n}`)).filter((r): r is Json => r !== undefined);
if (trec && trecSeeds.length > 0) {
  const rowsOf = (r: Json) => (r.rows as Row[]).filter((x) => x.task === 'TREC-6');
  const line = (r: Json) => {
    const seed = String(r.command).match(/--seed (\d+)/)?.[1] ?? '?';
    return `seed ${seed}: ${rowsOf(r).map((x) => `${String(x.kind)} ${fmt((x.testAccuracy as number) * 100, 1)}%`).join(', ')}`;
  };
  const acc = (r: Json, kind: string) => rowsOf(r).find((x) => x.kind === kind)?.testAccuracy as number | undefined;
  const all = [trec, ...trecSeeds];
  const ahead = all.every((r) => (acc(r, 'ensemble') ?? 0) > (acc(r, 'hybrid') ?? 1));
  const seed1 = acc(trec, 'ensemble') ?? 0;
  const highest = Math.max(...all.map((r) => acc(r, 'ensemble') ?? 0));
  parts.push(
    `Other held-out splits and model seeds, same procedure (\`npm run recipe:trec -- --seed N --kinds rnn-glove,hybrid --tasks TREC-6 --no-save --results-name trec-seedN\`), TREC-6 test accuracy: ${trecSeeds.map(line).join('; ')}.${seed1 >= highest ? ` Seed 1's ensemble (above, ${fmt(seed1 * 100, 1)}%) is the best of these seeds: the goal is met at the default seed, not at every seed.` : ''}${ahead ? ' The ensemble is ahead of the hybrid at every seed.' : ''}`,
  );
}

const multilabel = load('multilabel');
if (multilabel) {
  parts.push(`### Multi-label text classification (${provenance(multilabel)})`);
  parts.push(
    'A multi-label set derived from TREC (each question labelled with its coarse type, plus its fine type when that type has at least 100 training questions). Every kind fitted on the same rows; thresholds either 0.5 or chosen per label on the validation rows (best F1); subset accuracy is the share of questions whose whole label set is right.',
  );
  parts.push(
    table(multilabel.rows as Row[], [
      ['model', 'model'],
      ['thresholds', 'thresholds'],
      ['testSet', 'scored on'],
      ['subsetAccuracy', 'subset accuracy', 3],
      ['microF1', 'micro F1', 3],
      ['macroF1', 'macro F1', 3],
      ['jaccard', 'Jaccard', 3],
      ['trainSeconds', 'train seconds', 1],
    ]),
  );
}

const longDocs = load('long-docs');
if (longDocs) {
  parts.push(`### Long documents, CLI defaults against TF-IDF logistic regression (${provenance(longDocs)})`);
  const d = longDocs.data as Json;
  const train = d['grain-train'] as Json | undefined;
  parts.push(
    `Reuters-21578 news articles (ModApte${train ? `, ${String(train.rows)} train / ${String((d['grain-test'] as Json).rows)} test, median ${String(train.medianWords)} words, 10% over ${String(train.p90Words)}` : ''}): is an article filed under grain, under corn? \`seqlab train classifier --data train.csv --out DIR --seed S\` with every other setting at its default, then \`seqlab evaluate classifier --baseline\` on the test file; medians over seeds. Issue 15 asks for this on long reviews, which this machine does not have. Goal (the default at least as accurate as the regression): ${(longDocs.goal as Json).met ? 'met' : 'not met'}.`,
  );
  parts.push(
    table(longDocs.summary as Row[], [
      ['task', 'task'],
      ['runs', 'seeds'],
      ['default kinds', 'kind chosen'],
      ['accuracy (median)', 'accuracy', 4],
      ['TF-IDF LR accuracy', 'TF-IDF LR accuracy', 4],
      ['macro F1 (median)', 'macro F1', 4],
      ['TF-IDF LR macro F1', 'TF-IDF LR macro F1', 4],
      ['at least the baseline (accuracy, runs)', 'runs at least the baseline', 0],
      ['train s (median)', 'train s', 0],
    ]),
  );
}

const sst2Transfer = load('sst2-transfer');
if (sst2Transfer) {
  parts.push(`### SST-2 with the text-classification task's sentence-encoder kinds (${provenance(sst2Transfer)})`);
  const data = sst2Transfer.data as Json;
  const chosen = sst2Transfer.chosen as Json;
  parts.push(
    `Fitted on ${String(data.fit)} training phrases${Number(data.fitOf) > Number(data.fit) ? ` (a seeded sample of the ${String(data.fitOf)}: embedding them all with USE-lite did not fit the session)` : ''}, every choice (head, epochs, hybrid weight) on ${String(data.validation)} rows of recipe:sst2-use's model-choice set (its held-out sentences, then their phrases), GLUE dev only reports. Train seconds of \`use\` include embedding every text; \`hybrid\` reuses those vectors from the encoder's cache. Chosen on validation: ${String(chosen.kind)}, dev ${fmt((chosen.devAccuracy as number) * 100, 2)}%. Goal of issue 15 with transfer: >= 88% (${(sst2Transfer.goal as Json).met ? 'met' : 'not met'}).`,
  );
  parts.push(
    table(
      (sst2Transfer.rows as Row[]).map((r) => {
        const c = r.chosen as Json | undefined;
        return { ...r, settings: c ? [Number(c.hidden) === 0 ? 'LR head' : `MLP ${String(c.hidden)} head`, c.useWeight !== undefined ? `USE weight ${String(c.useWeight)}` : ''].filter(Boolean).join(', ') : '' };
      }),
      [
        ['kind', 'model'],
        ['settings', 'chosen on validation'],
        ['validationAccuracy', 'validation accuracy', 4],
        ['devAccuracy', 'GLUE dev accuracy', 4],
        ['trainSeconds', 'train seconds', 0],
      ],
    ),
  );
}

// issue 12's re-run of one SST-2 member with the fused layers, beside the same member of the
// committed ensemble (trained with stock tf.layers).
const sst2Fused = load('sst2', 'sst2-fused');
if (sst2Fused && sst2) {
  const oldMember = ((sst2.training as Json).members as Row[] | undefined)?.find((m) => m.member === 1);
  const newRun = sst2Fused.training as Json;
  const newMetrics = sst2Fused.metrics as Json;
  const perEpoch = (h: unknown) => {
    const hist = (h as Row[] | undefined) ?? [];
    return hist.length ? hist.reduce((a, r) => a + Number(r.seconds), 0) / hist.length : undefined;
  };
  const newHistory = (newRun.members as Row[] | undefined)?.[0]?.history ?? newRun.history;
  parts.push(`### SST-2 member 1 re-run with the fused layers (${provenance(sst2Fused)})`);
  parts.push(
    table(
      [
        { layers: 'stock tf.layers (committed ensemble, member 1)', dev: oldMember?.devAccuracy, epochs: (oldMember?.history as Row[] | undefined)?.length, perEpoch: perEpoch(oldMember?.history), train: oldMember?.trainSeconds },
        { layers: 'fused (this re-run)', dev: newMetrics.devAccuracy, epochs: (newHistory as Row[] | undefined)?.length, perEpoch: perEpoch(newHistory), train: newRun.wallTimeSeconds },
      ],
      [['layers', 'layers'], ['dev', 'GLUE dev accuracy', 4], ['epochs', 'epochs'], ['perEpoch', 's / epoch', 0], ['train', 'training s', 0]],
    ),
  );
  parts.push('Same data, vocabulary, holdout, seed and settings (the re-run adds `--results-name sst2-fused --out <scratch dir>`, so the shipped ensemble stays as it is); both runs shared the 2 cores with other jobs, so seconds are indicative.');
}

const ett = load('ett');
if (ett) {
  parts.push(`### ETT long-horizon forecasting (${provenance(ett)})`);
  parts.push('MSE / MAE on the normalised test set, L = 96, all 7 channels; published SegRNN / DLinear from the SegRNN README.');
  const cfg = ett.segrnn as Json | undefined;
  if (cfg) {
    parts.push(
      `SegRNN: d = ${String(cfg.hidden)}, segments of ${String(cfg.segmentLength)}, ${String(cfg.loss).toUpperCase()} loss, dropout ${String(cfg.dropout)}, Adam lr ${String(cfg.learningRate)} (${String(cfg.lrWarmEpochs)} epochs, then x${String(cfg.lrDecay)} per epoch), ${String(cfg.init)} initialisation, batch ${String(cfg.batchSize)}, ${String(cfg.windowsPerEpoch)} windows per epoch, early stopping on validation (patience ${String(cfg.patience)}), seed ${String(cfg.seed)}, trained within an equal share of the ${fmt(ett.budgetSeconds)} s budget. The settings were chosen on validation MSE (the "val MSE" column, every validation window), never on test.`,
    );
  }
  const rows = ett.rows as Row[];
  // Published MSE / MAE (SegRNN README, lookback 96; quoted in shared anchors).
  const PUBLISHED: Record<string, [string, string]> = {
    'ETTh1-96': ['0.368 / 0.395', '0.386 / 0.400'], 'ETTh1-192': ['0.408 / 0.419', '0.437 / 0.432'],
    'ETTh1-336': ['0.444 / 0.440', '0.481 / 0.459'], 'ETTh1-720': ['0.446 / 0.457', '0.519 / 0.516'],
    'ETTh2-96': ['0.278 / 0.335', '0.333 / 0.387'], 'ETTh2-192': ['0.359 / 0.389', '0.477 / 0.476'],
    'ETTh2-336': ['0.421 / 0.436', '0.594 / 0.541'], 'ETTh2-720': ['0.432 / 0.455', '0.831 / 0.657'],
  };
  const out: Row[] = [];
  for (const data of ['ETTh1', 'ETTh2']) {
    for (const H of [96, 192, 336, 720]) {
      const pick = (m: string) => rows.find((r) => r.data === data && r.H === H && String(r.model).startsWith(m));
      const cell = (r: Row | undefined) => (r ? `${fmt(r.MSE, 4)} / ${fmt(r.MAE, 4)}` : '');
      const [pubSeg, pubDl] = PUBLISHED[`${data}-${H}`] ?? ['', ''];
      const detail = (ett.details as Json[] | undefined)?.find((d) => d.data === data && d.H === H);
      const seg = pick('segrnn');
      const reached = seg && pubSeg ? (seg.MSE as number) <= Number(pubSeg.split(' / ')[0]) : undefined;
      out.push({ data, H, segrnn: cell(seg), val: seg?.valMSE !== undefined ? fmt(seg.valMSE, 4) : '', epochs: seg?.epochs ?? '', ridge: cell(pick('linear')), dlinear: cell(pick('dlinear')), naive: cell(pick('naive')), beats: detail?.recurrentBeatsLinear, pubSeg, reached, pubDl });
    }
  }
  parts.push(table(out, [['data', 'data'], ['H', 'H'], ['segrnn', 'SegRNN (ours)'], ['val', 'SegRNN val MSE'], ['epochs', 'epochs'], ['ridge', 'ridge (ours)'], ['dlinear', 'DLinear (ours)'], ['naive', 'repeat last'], ['beats', 'SegRNN beats both linear'], ['pubSeg', 'SegRNN (published)'], ['reached', 'MSE <= published'], ['pubDl', 'DLinear (published)']]));
}

// issue 12's re-run of bench:ett with SegRNN at the published width (d = 512) on the fused
// kernels, in the same wall-clock budget.
const ettWide = load('ett', 'ett-d512');
if (ettWide && ett) {
  const seg = (j: Json) => new Map(((j.rows as Row[]) ?? []).filter((r) => r.model === 'segrnn').map((r) => [`${String(r.data)} H=${String(r.H)}`, r]));
  const wide = seg(ettWide);
  const base = seg(ett);
  const rows = [...wide.entries()].map(([k, r]) => ({ setting: k, wide: `${fmt(r.MSE, 4)} / ${fmt(r.MAE, 4)} (${String(r.epochs)} ep.)`, base: base.get(k) ? `${fmt(base.get(k)!.MSE, 4)} / ${fmt(base.get(k)!.MAE, 4)} (${String(base.get(k)!.epochs)} ep.)` : '' }));
  parts.push(`SegRNN at the published width d = 512 on the fused kernels, same ${fmt(ettWide.budgetSeconds)} s budget (\`BENCH_ETT_HIDDEN=512 BENCH_ETT_NAME=ett-d512 SEQLAB_THREADS=1\` ${provenance(ettWide)}; ${fmt(ettWide.totalSeconds, 0)} s in all, on a machine shared with other jobs), beside the d = 256 table above (MSE / MAE, epochs trained; the d = 512 run used that run's older training settings: MAE loss, dropout 0.1, lr 2e-3 decaying from the second epoch, patience 3):`);
  parts.push(table(rows, [['setting', 'data, horizon'], ['wide', 'SegRNN d = 512'], ['base', 'SegRNN d = 256']]));
}

// The SegRNN authors' own PyTorch code on this machine, with their published settings.
const ettRef = load('ett-reference');
if (ettRef && ett) {
  const ours = new Map(((ett.rows as Row[]) ?? []).filter((r) => r.model === 'segrnn').map((r) => [`${String(r.data)}-${String(r.H)}`, r]));
  const rows = (ettRef.settings as Row[]).map((r) => ({
    setting: r.setting,
    reference: `${fmt(r.mse, 4)} / ${fmt(r.mae, 4)}`,
    epochs: `${String(r.epochs)} (best ${String(r.bestEpoch)})`,
    published: fmt(r.publishedMse, 3),
    reached: r['at or below published'],
    ours: ours.get(String(r.setting)) ? fmt(ours.get(String(r.setting))!.MSE, 4) : '',
  }));
  parts.push(
    `The reference implementation itself (\`${String(ettRef.command)}\`: lss-1138/SegRNN's \`run_longExp.py\` with its look-back-96 script settings, d = 512, 30 epochs, patience 10, its default seed, PyTorch on one CPU thread, ${String((ettRef.environment as Json).date).slice(0, 10)}), test MSE / MAE beside the published MSE and bench:ett's SegRNN. Each reference setting trains for 30-50 minutes; bench:ett's budget gives SegRNN under 3 minutes per setting.`,
  );
  parts.push(table(rows, [['setting', 'setting'], ['reference', 'reference code here'], ['epochs', 'epochs'], ['published', 'published MSE'], ['reached', 'reference <= published'], ['ours', 'bench:ett SegRNN MSE']]));
  // seqlab's SegRNN with the reference's settings and no time limit, at one setting.
  const faithful = load('ett', 'ett-faithful-ETTh1-192');
  if (faithful) {
    const cfg = faithful.segrnn as Json;
    const r = ((faithful.details as Json[])[0]!.results as Json).segrnn as Json;
    const extra = r.extra as Json;
    parts.push(
      `seqlab's SegRNN with the reference's settings and without bench:ett's time limit (\`BENCH_ETT_DATASETS=ETTh1 BENCH_ETT_HORIZONS=192 BENCH_ETT_WORKERS=1 BENCH_ETT_HIDDEN=512 BENCH_ETT_LOSS=mse BENCH_ETT_WINDOWS=all BENCH_ETT_BATCH=1792 BENCH_ETT_VAL_STRIDE=1 BENCH_ETT_BUDGET_S=4200 BENCH_ETT_NAME=ett-faithful-ETTh1-192 npm run bench:ett\`: d = ${String(cfg.hidden)}, ${String(cfg.loss).toUpperCase()} loss, every window each epoch, ${String(cfg.batchSize)} single-channel windows per step, i.e. the reference's 256 seven-channel windows), ETTh1 H = 192: MSE / MAE **${fmt(r.mse, 4)} / ${fmt(r.mae, 4)}**, ${String(extra.epochs)} epochs (best ${String(extra.bestEpoch)}), ${fmt((r.seconds as number) / 60, 0)} minutes on one core.`,
    );
  }
}

// The rule that picks the shipped sentiment default, applied to every SST-2 model the registry knows.
const sentimentDefault = load('sentiment-default');
if (sentimentDefault) {
  parts.push(`### The shipped sentiment default (${provenance(sentimentDefault)})`);
  const rule = sentimentDefault.rule as Json;
  parts.push(`Rule: ${String(rule.text)}. Chosen: \`${String(sentimentDefault.chosen)}\` (the registry's default: \`${String(sentimentDefault.registryDefault)}\`). Models not under \`models/\` keep the latency of the run named in "latency from".`);
  const rows = (sentimentDefault.candidates as Row[]).map((c) => ({ ...c, mb: Number(c.bytes) / 1e6 }));
  parts.push(
    table(rows, [
      ['model', 'model'],
      ['kind', 'kind'],
      ['choiceAccuracy', 'model-choice accuracy', 4],
      ['devAccuracy', 'GLUE dev accuracy', 4],
      ['latencyMs', 'median ms / sentence', 2],
      ['latencyFrom', 'latency from'],
      ['mb', 'MB', 1],
      ['eligible', 'within the latency limit'],
    ]),
  );
}

const classic = load('classic');
if (classic) {
  parts.push(`### Classic series (${provenance(classic)})`);
  parts.push('Airline passengers, last 24 months held out:');
  parts.push(table(classic.airline as Row[], [['model', 'model'], ['RMSE', 'RMSE', 1], ['sMAPE', 'sMAPE', 2], ['MASE', 'MASE', 3], ['coverage90', '90% coverage', 2]]));
  const goal = classic.m4Goal as Json | undefined;
  parts.push(
    `M4 Hourly, all 414 series, H = 48, the M4 train/test split (means over series; 90% intervals calibrated on each series' last 48 training rows, pooled across the panel):${
      goal
        ? ` goal of issue 16: best recurrent/hybrid sMAPE <= ${fmt(goal.smapeTarget as number, 1)} (best here ${fmt(goal.bestSmape as number, 2)}, ${String(goal.bestModel)}: ${goal.smapeMet ? 'met' : 'not met'}) and every model's coverage in [0.85, 0.95] (${goal.coverageMet ? 'met' : `not met: ${(goal.coverageMisses as string[]).join(', ')}`}). References: ES-RNN about 9.3, seasonal naive 13.91.`
        : ''
    }`,
  );
  parts.push(table(classic.m4Hourly as Row[], [['model', 'model'], ['sMAPE', 'sMAPE', 2], ['MASE', 'MASE', 3], ['RMSE', 'RMSE', 0], ['coverage90', '90% coverage', 3], ['seconds', 'seconds', 1], ['note', 'note']]));
}

const embed = load('embed');
if (embed) {
  parts.push(`### Sentence embeddings (${provenance(embed)})`);
  parts.push(table(embed.rows as Row[], [['backend', 'backend'], ['mode', 'mode'], ['sentences/s', 'sentences/s', 1], ['vs batch 1', 'vs batch 1', 2]]));
}

const api = load('api');
if (api) {
  parts.push(`### HTTP service (${provenance(api)})`);
  parts.push('Single-sentence sentiment on loopback with autocannon, with and without micro-batching:');
  parts.push(
    table(api.sentiment as Row[], [
      ['connections', 'connections'],
      ['batched req/s', 'batched req/s', 1],
      ['batched p50 ms', 'p50 ms', 0],
      ['batched p99 ms', 'p99 ms', 0],
      ['unbatched req/s', 'unbatched req/s', 1],
      ['unbatched p50 ms', 'p50 ms', 0],
      ['unbatched p99 ms', 'p99 ms', 0],
      ['ratio (req/s)', 'ratio', 2],
    ]),
  );
  const g = api.generation as Json;
  const f = api.flat as Json;
  parts.push(
    `Generation: ${fmt(g.tokensPerSec, 0)} tokens/s (JSON), ${fmt(g.streamTokensPerSec, 0)} tokens/s streamed, first token ${fmt(g.firstTokenMs, 0)} ms. After 10,000 requests: tensors flat = ${fmt(f.tensorsFlat)}, RSS ${fmt(f.rssStartMb, 0)} -> ${fmt(f.rssEndMb, 0)} MB.`,
  );
}

const abuse = load('abuse');
if (abuse) {
  parts.push(`### HTTP service under abuse (${provenance(abuse)})`);
  const la = abuse.loadAverage as { before: number[] } | undefined;
  const settings = abuse.settings as Json;
  parts.push(
    `One loopback run (after a ${fmt(settings.warmupSeconds)} s warm-up round): ${fmt(settings.abuseSeconds)} s of malformed requests from ${fmt(settings.fuzzClients)} clients, valid expensive requests (beam search, long streams, near-limit forecasts) from ${fmt(settings.floodClients)} clients that abandon each after 50-400 ms, and a worker fault (a real wasm trap) every ${fmt((settings.faultEveryMs as number) / 1000, 0)} s (a loaded spare takes over; the server's settings, e.g. \`MALLOC_ARENA_MAX=${String(settings.MALLOC_ARENA_MAX ?? 'unset')}\`, are in results/abuse.json), while one client (a thread of its own) measures single-sentence sentiment latency; the unloaded baseline pools the probes before and after. Machine load average at the start: ${la ? la.before.map((l) => l.toFixed(1)).join(', ') : 'unknown'}.`,
  );
  parts.push(table(abuse.latency as Row[], [['phase', 'sentiment probe'], ['requests', 'requests'], ['p50 ms', 'p50 ms', 0], ['p99 ms', 'p99 ms', 0], ['max ms', 'max ms', 0], ['non-200', 'non-200']]));
  const goals = Object.entries(abuse.goals as Record<string, Json>).map(([goal, g]) => ({ goal, value: g.value, target: g.goal, met: g.met }));
  parts.push(table(goals, [['goal', 'goal'], ['value', 'value', 2], ['target', 'target'], ['met', 'met']]));
  const fuzz = abuse.fuzz as Json;
  const flood = abuse.flood as Json;
  parts.push(
    `${fmt(fuzz.sent)} malformed requests answered 4xx (${(fuzz.fiveXx as unknown[]).length} 5xx); ${fmt(flood.sent)} expensive requests, ${fmt(flood.abandoned)} abandoned by their clients, ${fmt(flood.stuckWorkersReplaced)} workers replaced because a cancelled task did not stop in time.`,
  );
}

/** Every run of every results file, so variants without a section of their own are listed too. */
function runIndex(): string {
  const files = readdirSync(path.join(REPO_ROOT, 'results'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
  const rows: Row[] = [];
  for (const file of files) {
    const all = readResultsFile(file)!;
    const runs = [...(all.command !== undefined ? [all] : []), ...(all.variants ?? [])] as Json[];
    for (const run of runs) {
      const env = run.environment as Json | undefined;
      const isDefault = run === all;
      // Runs without a section of their own still show their main figure when they have one.
      const dev = (run.metrics as Json | undefined)?.devAccuracy;
      const figure = typeof dev === 'number' ? `GLUE dev ${fmt(dev * 100, 2)}%` : '';
      rows.push({ file: `[results/${file}.json](../results/${file}.json)`, run: `${String(run.name)}${isDefault ? ' (default)' : ''}`, figure, command: `\`${String(run.command)}\``, date: env ? String(env.date).slice(0, 10) : '', commit: env?.commit });
    }
  }
  return table(rows, [['file', 'file'], ['run', 'run'], ['figure', 'figure'], ['command', 'command'], ['date', 'date'], ['commit', 'commit']]);
}

/** A handful of headline figures for README.md, each from the run that produced it. */
function headlines(): string {
  const rows: Row[] = [];
  const pct = (v: unknown) => `${fmt((v as number) * 100, 2)}%`;
  const shipped = sentimentDefault ? (sentimentDefault.candidates as Row[]).find((c) => c.model === sentimentDefault.chosen) : undefined;
  if (shipped) rows.push({ what: `SST-2 sentiment, the shipped default (\`models/${String(shipped.model)}\`)`, figure: `${pct(shipped.devAccuracy)} GLUE dev accuracy, ${fmt(shipped.latencyMs, 2)} ms / sentence`, ref: 'CNN, random embeddings: 82.7% (Kim 2014)' });
  const scratch = load('sst2-ensemble', 'sst2-scratch-ensemble');
  if (scratch) rows.push({ what: 'SST-2 sentiment, best from scratch (recipe:sst2-ensemble --from-scratch)', figure: `${pct((scratch.metrics as Json).devAccuracy)} GLUE dev accuracy`, ref: 'no pre-trained vectors or encoders' });
  const transfer = load('sst2-ensemble');
  if (transfer) rows.push({ what: 'SST-2 sentiment, best with transfer (recipe:sst2-ensemble)', figure: `${pct((transfer.metrics as Json).devAccuracy)} GLUE dev accuracy`, ref: 'USE transfer: about 85% (Cer et al. 2018)' });
  const trecBest = trec ? ((trec.goal as Json).best as number | undefined) : undefined;
  if (trecBest !== undefined) {
    // The seed-1 figure is the best of the seeds run; say so beside it.
    const others = trecSeeds.map((r) => (r.rows as Row[]).find((x) => x.task === 'TREC-6' && x.kind === 'ensemble')?.testAccuracy).filter((v) => v !== undefined);
    const spread = others.length ? ` (seed 1; other seeds ${others.map(pct).join(', ')})` : '';
    rows.push({ what: 'TREC-6 question type (`models/question-type`)', figure: `${pct(trecBest)} test accuracy${spread}`, ref: 'SVM, hand-made features: 95.0% (Silva et al. 2011)' });
  }
  if (shakespeare) rows.push({ what: 'tiny-shakespeare character LM (`models/shakespeare-char`)', figure: `${fmt((shakespeare.metrics as Json).validationLoss, 4)} validation nats/char`, ref: 'nanoGPT "baby" CPU config: about 1.88' });
  const seg = ett ? (ett.rows as Row[]).find((r) => r.data === 'ETTh1' && r.H === 96 && r.model === 'segrnn') : undefined;
  if (seg) rows.push({ what: 'ETTh1 forecasting, H = 96, SegRNN (bench:ett)', figure: `${fmt(seg.MSE, 4)} test MSE`, ref: 'published SegRNN: 0.368' });
  const m4 = classic?.m4Goal as Json | undefined;
  if (m4) rows.push({ what: `M4 Hourly, 414 series, ${String(m4.bestModel)}`, figure: `${fmt(m4.bestSmape, 2)} sMAPE`, ref: 'ES-RNN: about 9.3; seasonal naive 13.91' });
  const fused = rnnBench ? (rnnBench.rows as Row[]).find((r) => r.shape === 'char-LM LSTM 256' && r.backend === 'wasm' && r.implementation === 'fused') : undefined;
  if (fused) rows.push({ what: 'fused LSTM(256) training on wasm (bench:rnn)', figure: `${fmt(fused.trainSpeedup, 2)}x stock tf.layers`, ref: 'same machine, same run' });
  return table(rows, [['what', 'what'], ['figure', 'figure'], ['ref', 'reference']]);
}

const PAGE_INTRO = `# Results

Generated by \`npm run results:page\` from the committed [\`results/\`](../results) files (one per
benchmark or recipe; runs with other settings are the \`variants\` rows of the same file), so this
page never quotes a figure no run produced. [tools/bench/README.md](../tools/bench/README.md)
says what each benchmark and recipe measures and how to run it.

Measured on this project's 2-core development machine (Node 20, no tfjs-node, so the wasm
backend unless stated), usually while other jobs shared the machine: absolute throughput is
pessimistic; ratios measured in the same run are the meaningful part.`;

const page = path.join(REPO_ROOT, 'docs', 'results.md');
mkdirSync(path.dirname(page), { recursive: true });
const sections = parts.map((p) => (p.startsWith('### ') ? `## ${p.slice(4)}` : p));
writeFileSync(page, `${PAGE_INTRO}\n\n${sections.join('\n\n')}\n\n## Every run\n\n${runIndex()}\n`);

// README.md keeps only the headline table, between these markers.
const readme = path.join(REPO_ROOT, 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- headlines:start -->';
const end = '<!-- headlines:end -->';
const i = text.indexOf(start);
const j = text.indexOf(end);
if (i < 0 || j < i) throw new Error(`${readme}: the ${start} / ${end} markers are missing`);
writeFileSync(readme, `${text.slice(0, i + start.length)}\n${headlines()}\n${text.slice(j)}`);
console.log(`docs/results.md written (${parts.filter((p) => p.startsWith('###')).length} sections); README.md headline table updated`);
