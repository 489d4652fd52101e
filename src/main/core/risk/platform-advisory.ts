import { createRequire } from 'node:module';
import { z } from 'zod/v3';
import { buildAtLeast, compareDottedVersions, compareMacosBuilds, parseMacosBuild } from './macos-build.js';

const Row = z.object({
  macos: z.string(),
  build: z.string(),
  darwin: z.string(),
  iogpuFamily: z.string().nullable(),
  /** Where the IOGPUFamily version of this build is stated (empty when it is not known). */
  iogpuFamilySources: z.array(z.string().url()),
  assertion: z.string(),
  sources: z.array(z.string().url()).min(1),
  note: z.string().optional(),
});
/** The assertions of the panic family (completeMemory at its two lines, the IOGPUGroupMemory siblings). */
const AssertionRow = z.object({
  kind: z.enum(['completeMemory', 'iogpuSibling']),
  text: z.string(),
  location: z.string(),
  macos: z.string(),
  sources: z.array(z.string().url()).min(1),
  note: z.string(),
});
/** A build reported without panics, and under which condition: never a fix without a public source. */
const ObservationRow = z.object({
  macos: z.string(),
  build: z.string(),
  darwin: z.string(),
  iogpuFamily: z.string().nullable(),
  panicsReported: z.boolean(),
  condition: z.string(),
  sources: z.array(z.string().url()).min(1),
  note: z.string(),
});
const ModelRow = z.object({
  model: z.string(),
  hardware: z.string(),
  workload: z.string(),
  kind: z.string(),
  source: z.string().url(),
});
export const AdvisorySchema = z.object({
  schemaVersion: z.literal(1),
  updated: z.string(),
  policy: z.string(),
  fixedIn: z.object({ macos: z.string(), build: z.string(), source: z.string().url() }).nullable(),
  affectedBuilds: z.array(Row),
  panicAssertions: z.array(AssertionRow),
  observations: z.array(ObservationRow),
  iogpuFamilyVersionsWithPanics: z.array(z.string()),
  chipsWithPanics: z.array(
    z.object({ chip: z.string(), ramGB: z.array(z.number().finite()), sources: z.array(z.string().url()) }),
  ),
  modelsWithReports: z.array(ModelRow),
});
export type Advisory = z.infer<typeof AdvisorySchema>;
export type AffectedBuild = z.infer<typeof Row>;
export type PanicAssertion = z.infer<typeof AssertionRow>;
export type BuildObservation = z.infer<typeof ObservationRow>;
export type ModelReport = z.infer<typeof ModelRow>;

/** The versioned data file beside this module (copied into dist by the build). */
export function loadAdvisory(): Advisory {
  const require = createRequire(import.meta.url);
  return AdvisorySchema.parse(require('./platform-advisory.json'));
}

export interface PlatformFacts {
  platform: string;
  chip: string | null;
  memoryBytes: number | null;
  osVersion: string | null;
  osBuild: string | null;
  iogpuFamilyVersion: string | null;
  /** The shell runs under Rosetta (x86_64 on an arm64 kernel). */
  translated?: boolean;
}

export type Verdict =
  | 'known-affected-build'
  | 'affected-until-fixed'
  | 'fixed'
  | 'not-applicable'
  | 'unknown';

export interface PlatformAssessment {
  verdict: Verdict;
  affected: boolean | null;
  summary: string;
  builds: AffectedBuild[];
  iogpuFamilySeenInPanics: boolean | null;
  chips: Advisory['chipsWithPanics'];
  /** Reports of this build (or its IOGPUFamily) without panics, with their condition. */
  observations: BuildObservation[];
}

const isAppleSilicon = (chip: string | null): boolean | null =>
  chip === null ? null : /^Apple (M\d|processor)/.test(chip);

/** The affected builds in build order (major, letter, number, suffix), not in the data file's order. */
export function buildsInOrder(advisory: Advisory = loadAdvisory()): AffectedBuild[] {
  return [...advisory.affectedBuilds].sort((a, b) => compareMacosBuilds(a.build, b.build));
}

/** Where an unreported build stands against the reported ones, by build order (null: not a build). */
function placeAmongReported(build: string | null, advisory: Advisory): string | null {
  if (!build || !parseMacosBuild(build)) return null;
  const ordered = buildsInOrder(advisory).filter((b) => parseMacosBuild(b.build) !== null);
  const first = ordered[0];
  const last = ordered.at(-1);
  if (!first || !last) return null;
  if (buildAtLeast(build, last.build))
    return `newer than the last build with public reports (${last.build}, macOS ${last.macos})`;
  if (!buildAtLeast(build, first.build))
    return `older than the first build with public reports (${first.build}, macOS ${first.macos})`;
  return `between builds with public reports (${first.build} … ${last.build})`;
}

/** Whether this machine's platform has public panic reports, and under what policy it is judged. */
export function assessPlatform(
  facts: PlatformFacts,
  advisory: Advisory = loadAdvisory(),
): PlatformAssessment {
  const chips = advisory.chipsWithPanics.filter((c) => facts.chip !== null && c.chip === facts.chip);
  const iogpu = facts.iogpuFamilyVersion
    ? advisory.iogpuFamilyVersionsWithPanics.some(
        (v) => compareDottedVersions(v, facts.iogpuFamilyVersion!) === 0,
      )
    : null;
  const observations = advisory.observations.filter(
    (o) =>
      (facts.osBuild !== null && o.build === facts.osBuild) ||
      (facts.iogpuFamilyVersion !== null &&
        o.iogpuFamily !== null &&
        compareDottedVersions(o.iogpuFamily, facts.iogpuFamilyVersion) === 0),
  );
  const none = { builds: [], iogpuFamilySeenInPanics: null, chips: [], observations: [] };
  if (facts.platform !== 'darwin') {
    return {
      verdict: 'not-applicable',
      affected: false,
      summary: `${facts.platform}: the IOGPUFamily panic exists only on macOS on Apple silicon`,
      ...none,
    };
  }
  if (isAppleSilicon(facts.chip) === false) {
    return {
      verdict: 'not-applicable',
      affected: false,
      summary: `${facts.chip}: the panic is reported on Apple silicon only`,
      ...none,
    };
  }
  // By the build's parts (25E99 < 25E253 < 25F84), and only when both are builds: an unreadable build is not fixed.
  if (advisory.fixedIn && facts.osBuild && buildAtLeast(facts.osBuild, advisory.fixedIn.build) === true) {
    return {
      verdict: 'fixed',
      affected: false,
      summary: `fixed in ${advisory.fixedIn.macos} (${advisory.fixedIn.build}): ${advisory.fixedIn.source}`,
      builds: [],
      iogpuFamilySeenInPanics: iogpu,
      chips,
      observations,
    };
  }
  const builds = advisory.affectedBuilds.filter((b) => b.build === facts.osBuild);
  if (builds.length > 0) {
    return {
      verdict: 'known-affected-build',
      affected: true,
      summary: `macOS ${builds[0]!.macos} (${builds[0]!.build}) has public completeMemory panic reports`,
      builds,
      iogpuFamilySeenInPanics: iogpu,
      chips,
      observations,
    };
  }
  const place = placeAmongReported(facts.osBuild, advisory);
  const seen = observations.map(
    (o) =>
      `; macOS ${o.macos} (${o.build}${o.iogpuFamily ? `, IOGPUFamily ${o.iogpuFamily}` : ''}) is reported without panics ${o.condition}, which is not a fix`,
  );
  return {
    verdict: 'affected-until-fixed',
    affected: true,
    summary: `macOS ${facts.osVersion ?? '?'}${facts.osBuild ? ` (${facts.osBuild})` : ''} has no public report of its own${place ? ` (${place})` : ''}, but no macOS is documented to fix the panic: treated as affected${seen.join('')}`,
    builds: [],
    iogpuFamilySeenInPanics: iogpu,
    chips,
    observations,
  };
}

const norm = (s: string): string =>
  s
    .toLowerCase()
    .replace(/^[\w.-]+\//, '')
    .replace(/[^a-z0-9.]+/g, '-');

const stripQuant = (s: string): string =>
  s.replace(/-(instruct-)?(\d+bit|q\d[_\w]*|mlx.*)$/, '').replace(/-instruct$/, '');

/** Public panic reports naming this model: exact (same weights) or the same model at another quantisation. */
export function modelEvidence(
  modelId: string,
  advisory: Advisory = loadAdvisory(),
): Array<ModelReport & { match: 'exact' | 'same-model' }> {
  const id = norm(modelId);
  const base = stripQuant(id);
  const out: Array<ModelReport & { match: 'exact' | 'same-model' }> = [];
  for (const r of advisory.modelsWithReports) {
    const n = norm(r.model);
    if (n === id) out.push({ ...r, match: 'exact' });
    else if (stripQuant(n) === base) out.push({ ...r, match: 'same-model' });
  }
  return out;
}
