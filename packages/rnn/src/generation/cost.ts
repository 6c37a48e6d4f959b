import { LimitExceededError, MAX_PROMPT_LENGTH } from '@seqlab/core';

/** What a generation request asks for, as far as its cost goes. */
export interface GenerationCostInput {
  /** Prompt length in characters (an upper bound on its tokens for every codec seqlab ships). */
  promptLength: number;
  maxTokens: number;
  /** Beam width (1 for sampling). */
  beam?: number;
}

/**
 * Recurrent steps a generation request runs: every prompt token once, then `maxTokens` steps
 * of `beam` rows each. Time grows linearly with it for a given model.
 */
export function generationSteps(input: GenerationCostInput): number {
  return input.promptLength + input.maxTokens * (input.beam ?? 1);
}

/**
 * Refuses a prompt longer than `max` characters (default {@link MAX_PROMPT_LENGTH}, the limit
 * the CLI and the API share) with a message that says what to do.
 *
 * @throws LimitExceededError with `details: { limit: 'maxPromptLength', value, max }`.
 */
export function checkPromptLength(prompt: string, max = MAX_PROMPT_LENGTH): void {
  if (prompt.length <= max) return;
  throw new LimitExceededError(
    `prompt: ${prompt.length} characters exceed the limit of ${max}; the prompt is read one token at a time before anything is generated, so shorten it (e.g. keep its last ${max} characters)`,
    { details: { limit: 'maxPromptLength', value: prompt.length, max } },
  );
}
