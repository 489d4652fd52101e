/**
 * Numbers read from text (tool output, reports, logs). A digit run longer than a double holds reads as
 * Infinity, a product of two large values overflows: every parser returns null for those, never a
 * non-finite number. The rule lives in src/shared/narrow.ts (one for the core, the shells and the window).
 */
export { finiteNumber, finiteOrNull } from '../../../shared/narrow.js';
