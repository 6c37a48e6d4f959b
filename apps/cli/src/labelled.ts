/**
 * The labels of a file in a model's class names: sentiment models name their classes
 * negative/positive while SST-2-style files say 0/1 (or neg/pos), so those are mapped when the
 * model is a negative/positive classifier. Other labels are kept as they are.
 */
export function labelsForModel(labels: string[][], classes: readonly string[]): string[][] {
  if (classes.length !== 2 || classes[0] !== 'negative' || classes[1] !== 'positive') return labels;
  const map: Record<string, string> = { '0': 'negative', '1': 'positive', neg: 'negative', pos: 'positive' };
  return labels.map((ls) => ls.map((l) => map[l.toLowerCase()] ?? l));
}
