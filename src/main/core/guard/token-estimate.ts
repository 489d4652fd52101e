/**
 * Prompt tokens without the model's tokenizer: an upper-leaning estimate. BPE vocabularies of current
 * models average about 4 characters per token on English prose and 3 on code; CJK and other non-ASCII
 * text is close to one token per character. So: ASCII characters / 3 + other characters × 1, rounded up.
 * The guard then checks the real count from EXO's `prefill_progress` frames (total_tokens), which arrive
 * before the large allocations finish, and cancels a request that breaks the cap.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 3) + other;
}
