import type { StatusView } from '../../src/shared/status-view.js';

/** A complete, calm status view at `time` (no sample, EXO not reachable, no guard); override what a test needs. */
export function makeStatusView(time = 0, over: Partial<StatusView> = {}): StatusView {
  return {
    time,
    identity: null,
    sample: null,
    risk: { level: 'ok', since: time, reasons: [], evaluatedAt: time, score: 0, hold: null },
    guardMode: 'open',
    guardOverride: null,
    guardProfile: 'balanced',
    guardModeSource: 'level',
    wakeHold: null,
    hold: null,
    exo: {
      url: 'http://127.0.0.1:52415',
      reachable: false,
      error: 'not checked yet',
      nodeId: null,
      checkedAt: null,
      lastReachableAt: null,
      inFlight: 0,
      instances: [],
      runners: [],
      tasks: [],
      nodeMemory: {},
      nodeIdentities: {},
      failures: [],
    },
    guard: null,
    daemon: { pid: 1, version: '0.0.0', startedAt: time, ticks: 0, dataDir: '/tmp', platform: 'darwin' },
    probes: null,
    panics: { total: 0, last72h: 0, byKind: {}, byKind72h: {}, latest: null, unreadable: [] },
    storage: {
      state: 'ok',
      message: null,
      path: '/tmp/timeline.db',
      buffered: 0,
      dropped: 0,
      since: null,
      notes: [],
    },
    config: null,
    ...over,
  };
}
