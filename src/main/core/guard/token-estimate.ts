/** Moved to endpoints/prompt-counter.ts (same behaviour); kept here for existing importers. */
export { estimateTokens } from './endpoints/prompt-counter.js';
