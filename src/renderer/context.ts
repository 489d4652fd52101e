import type { StatusView } from '../shared/api-contracts.js';
import type { SentinelClient } from './client.js';

/** What a tab gets: the client, the latest status, and a way to ask for a fresh one. */
export interface TabContext {
  client: SentinelClient;
  status(): StatusView | null;
  /** Reads the status again and redraws the header and the current tab. */
  refresh(): Promise<void>;
}

/** A tab fills `panel` (not yet on screen); main shows it once it is complete. */
export type RenderTab = (panel: HTMLElement, ctx: TabContext) => Promise<void>;
