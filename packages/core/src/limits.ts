/**
 * Longest generation prompt, in characters, that the CLI and the API accept. One constant so
 * the two cannot disagree: a prompt is run through the network token by token before the first
 * new token appears, so a 100 KB prompt means minutes of silence.
 */
export const MAX_PROMPT_LENGTH = 2000;
