/** The Local Network pane of Privacy & Security (macOS 15+ asks before an app reaches the local network). */
export const LOCAL_NETWORK_HINT =
  'macOS refused the connection: allow exo-sentinel in System Settings › Privacy & Security › Local Network';

type Row = { error: string | null };

/**
 * On macOS 15+ a peer that cannot be reached because Local Network privacy refused it fails with
 * `EHOSTUNREACH` (the Cluster tab reads the peers' APIs); say what to do about it next to the code.
 */
export function withLocalNetworkHint<T extends { rows: Row[] }>(result: T, platform: string): T {
  if (platform !== 'darwin') return result;
  return {
    ...result,
    rows: result.rows.map((r) =>
      r.error?.includes('EHOSTUNREACH') ? { ...r, error: `${r.error}: ${LOCAL_NETWORK_HINT}` } : r,
    ),
  };
}
