/**
 * One line of help per configuration key, for the JSON Schema's `description` (editors, the Settings form,
 * `exo-sentinel config`). The evidence behind each default stays beside its zod schema; a test checks that
 * every key has a line here and that no line names a key that is gone.
 */
export const CONFIG_HELP: Record<string, string> = {
  intervalSeconds: 'Seconds between cheap readings (memory, EXO processes).',
  slowIntervalSeconds: 'Seconds between expensive readings (ioreg, ps, top: GPU memory, footprints).',
  retention: 'How long the timeline keeps its data.',
  'retention.rawDays': 'Days of per-second samples kept.',
  'retention.minuteDays': 'Days of per-minute roll-ups kept.',
  gpu: 'The Metal working-set ceiling, when the system cannot tell it.',
  'gpu.ceilingBytes':
    'The Metal working-set ceiling in bytes, when iogpu.wired_limit_mb is 0 and nothing else tells it (null: read it).',
  'gpu.mlxPython':
    'A Python with MLX installed, asked once for max_recommended_working_set_size (null: not asked). Only the file can set it.',
  watch: 'Which processes are watched besides EXO.',
  'watch.mlxServerPatterns': 'Regular expressions over the command line that mark other MLX servers.',
  'watch.exoPidfile': "EXO's pidfile, if not ~/.exo/exo.pid ($EXO_HOME/exo.pid).",
  reports: 'Where kernel panic reports are looked for.',
  'reports.dirs':
    'Report directories (null: /Library/Logs/DiagnosticReports, its Retired/ and ~/Library/Logs/DiagnosticReports on macOS; none on Linux).',
  'reports.rescanSeconds': 'Seconds between rescans of the report directories (besides watching them).',
  exo: "EXO's API and home.",
  'exo.url': "EXO's API, e.g. http://127.0.0.1:52415.",
  'exo.pollSeconds': "Seconds between reads of EXO's state (instances, runners, tasks).",
  'exo.timeoutMs': "Milliseconds before a request to EXO's API is given up.",
  'exo.home': "EXO's home (its log, pidfile and models); null: $EXO_HOME or ~/.exo.",
  guard: "The admission-control proxy in front of EXO's API.",
  'guard.enabled': 'Run the guard.',
  'guard.listen': 'Where the guard listens, HOST:PORT (clients talk to it instead of EXO).',
  'guard.token':
    'Bearer token clients must send; required when the guard listens beyond loopback (16+ characters). Never shown.',
  'guard.allowedHosts':
    'Extra names the guard answers to in the Host header, besides loopback and its listen address (DNS-rebinding guard).',
  'guard.corsOrigins':
    'Web origins whose pages may call EXO through the guard; none by default (EXO itself answers any origin).',
  'guard.contextCap':
    'Prompt + max_tokens above this many tokens is refused (400 context_length_exceeded); null: the model’s own context length.',
  'guard.maxBodyBytes': 'Request bodies above this many bytes are refused with 413 before being read whole.',
  'guard.queue': 'Requests waiting for their turn when the guard serialises.',
  'guard.queue.max': 'Requests that may wait at once; beyond it new ones get 503 with Retry-After.',
  'guard.queue.timeoutSeconds': 'Seconds a request may wait in the queue before it gets 503.',
  'guard.maxConnections': 'Connections held open at once (each streaming client holds one).',
  'guard.maxBufferedBodyBytes':
    'All request bodies being read or queued at once, in bytes; past it new ones get 503.',
  'guard.upstreamHeadersSeconds':
    'Seconds EXO may take to start its answer (a non-streamed generation answers at its end).',
  'guard.upstreamIdleSeconds':
    'Seconds a generation answer from EXO may stay silent (EXO sends a keep-alive every 10 s; image streams, which have none, get guard.upstreamHeadersSeconds), and seconds a client may take nothing of its answer before it is dropped and the request cancelled in EXO.',
  'guard.maxHeaderBytes': 'Request headers above this many bytes are answered 431.',
  'guard.upstreamCaFile': 'An extra PEM CA bundle to trust for an https:// EXO URL.',
  'guard.loadCooldownSeconds': 'Model loads are refused this long after the last load or unload.',
  'guard.wakeHoldSeconds':
    'After a wake from sleep, no new generation request for this many seconds (0: off).',
  'guard.retryAfterSeconds': 'Base Retry-After of 503 refusals, in seconds (±20 % jitter is added).',
  api: 'The local HTTP API, web dashboard and Prometheus metrics.',
  'api.enabled': 'Run the API and dashboard.',
  'api.listen': 'Where the API listens, HOST:PORT; beyond loopback every request needs the API token.',
  'api.corsOrigins': 'Origins allowed to call the API from a browser (CORS); none by default.',
  'api.allowedHosts':
    'Extra names the API answers to in the Host header, besides loopback and its listen address (DNS-rebinding guard).',
  cluster: 'The other nodes shown in the cluster view.',
  'cluster.peers':
    "Other nodes' exo-sentinel APIs, e.g. http://studio-2.local:52417 (EXO's topology adds the rest).",
  'cluster.token':
    'The API token the peers expect (the same on every node); null for loopback-only setups. Never shown, never sent: reads are signed with it (a peer in cluster.peers running an older version gets it as a bearer).',
  'cluster.apiPort': "Port of exo-sentinel's API on nodes found through EXO's topology.",
  'cluster.timeoutMs': 'Milliseconds before a peer is shown as unreachable.',
  risk: 'Thresholds and trigger weights that make the level (each default and its evidence: risk-thresholds.ts).',
  'risk.gpuElevated':
    'GPU memory in use against the Metal ceiling that makes the level elevated (0.95: MLX frees its cache).',
  'risk.gpuSoft':
    'GPU memory against the ceiling that makes it high (1.0: past the working set Apple recommends).',
  'risk.gpuHard': "GPU memory against the ceiling that makes it critical (1.25: near MLX's block limit).",
  'risk.wiredElevated': 'Wired memory as a fraction of RAM that makes the level elevated.',
  'risk.wiredHigh': 'Wired memory as a fraction of RAM that makes it high.',
  'risk.freeElevated': 'Free memory percent at or below which the level is elevated.',
  'risk.freeHigh': 'Free memory percent at or below which it is high.',
  'risk.freeCritical': 'Free memory percent at or below which it is critical.',
  'risk.swapGrowthBytes': 'Swap growth within 5 minutes, in bytes, that counts as exhaustion in progress.',
  'risk.swapUsedHigh': 'Swap used as a fraction of the total that makes the level high.',
  'risk.scoreElevated': 'Trigger score from which the level is elevated.',
  'risk.scoreHigh': 'Trigger score from which the level is high.',
  'risk.scoreCritical': 'Trigger score from which the level is critical.',
  'risk.scoreHysteresis': 'Points the score must fall below a level’s threshold to leave it.',
  'risk.weights': 'Points each trigger adds to the score.',
  'risk.weights.wiredLimit': 'EXO (or another MLX server) wired the Metal working set.',
  'risk.weights.concurrency': 'Two or more requests in flight.',
  'risk.weights.churn': 'KV-cache evictions or model loads/unloads in the last 2 minutes.',
  'risk.weights.longPrompt': 'A prompt above risk.promptTokensPerGb.',
  'risk.weights.wake': 'A wake from sleep within risk.wakeWindowSeconds while GPU memory is held.',
  'risk.weights.recentPanic': 'An IOGPU kernel panic on this machine in the last 72 hours.',
  'risk.weights.gpuRecovery': "The GPU's recovery counter went up within risk.gpuRecoveryWindowSeconds.",
  'risk.promptTokensPerGb': 'A long prompt for the trigger score: tokens per GB of RAM.',
  'risk.gpuRecoveryWindowSeconds': 'Seconds a GPU recovery counts as a trigger.',
  'risk.wakeWindowSeconds': 'Seconds after a wake the wake trigger counts.',
  'risk.charsPerToken': "Characters per token for prompt sizes read from EXO's tasks.",
  'risk.hysteresisRatio': 'Margin past a ratio threshold (GPU, wired, swap) before a level is left.',
  'risk.hysteresisPercent': 'Margin in percent points past a free-memory threshold before a level is left.',
  'risk.minDwellSeconds': 'Seconds a value must stay past the margin before the level goes down.',
  actions: 'What each level does; every action is recorded in the audit trail.',
  'actions.dryRun': 'Record what the actions would do without doing them.',
  'actions.notify': 'Notifications (the log, desktop banners, an optional program).',
  'actions.notify.minLevel': 'The lowest level that notifies.',
  'actions.notify.cooldownSeconds': 'Seconds before the same notification is sent again.',
  'actions.notify.command':
    'A program run for each notification, as an argument array, with EXO_SENTINEL_TITLE/BODY/LEVEL/TOPIC in its environment. Only the file can set it.',
  'actions.guardModes': 'The guard mode at each level: open, serialise, refuse-new or cancel-newest.',
  'actions.guardModes.ok': 'The guard mode at ok.',
  'actions.guardModes.elevated': 'The guard mode at elevated.',
  'actions.guardModes.high': 'The guard mode at high.',
  'actions.guardModes.critical': 'The guard mode at critical.',
  'actions.unload': "Unloading EXO's instance on this node (DELETE /instance/{id}).",
  'actions.unload.enabled': "Let a level unload EXO's instance on this node.",
  'actions.unload.minLevel': 'The lowest level that unloads.',
  'actions.unload.cooldownSeconds': 'Seconds between unloads.',
  'actions.postPanicHold':
    'After an IOGPU panic, hold a safe mode until someone acknowledges it (exo-sentinel ack).',
  'actions.guardProfile':
    'protect serialises while EXO has wired the Metal working set on an affected build; balanced follows the level; observe never holds back. `exo-sentinel guard profile` overrides it.',
  'actions.guardProfilePlatforms':
    'affected: protect acts on platforms the advisory calls affected; any: everywhere.',
  notifications: 'Desktop banners from the headless daemon.',
  'notifications.desktop':
    'Banners through terminal-notifier/osascript (macOS) or notify-send (Linux): auto in a desktop session only, on, or off.',
  logLevel: "The daemon's log level: trace, debug, info, warn or error.",
};
