/** What the Electron preload exposes on `window.exoSentinel` (contextBridge): the dashboard's only way in. */
export interface SentinelBridge {
  invoke(channel: string, payload?: unknown): Promise<unknown>;
  onEvent(listener: (event: string, data: Record<string, unknown>) => void): () => void;
}
