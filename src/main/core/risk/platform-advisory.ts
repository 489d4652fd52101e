import { createRequire } from 'node:module';
import { z } from 'zod';

const Row = z.object({
  macos: z.string(),
  build: z.string(),
  darwin: z.string(),
  iogpuFamily: z.string().nullable(),
  assertion: z.string(),
  sources: z.array(z.string().url()).min(1),
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
  iogpuFamilyVersionsWithPanics: z.array(z.string()),
  chipsWithPanics: z.array(
    z.object({ chip: z.string(), ramGB: z.array(z.number()), sources: z.array(z.string().url()) }),
  ),
  modelsWithReports: z.array(ModelRow),
});
export type Advisory = z.infer<typeof AdvisorySchema>;
export type AffectedBuild = z.infer<typeof Row>;
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
}

const isAppleSilicon = (chip: string | null): boolean | null =>
  chip === null ? null : /^Apple (M\d|processor)/.test(chip);

/** Whether this machine's platform has public panic reports, and under what policy it is judged. */
export function assessPlatform(
  facts: PlatformFacts,
  advisory: Advisory = loadAdvisory(),
): PlatformAssessment {
  const chips = advisory.chipsWithPanics.filter((c) => facts.chip !== null && c.chip === facts.chip);
  const iogpu = facts.iogpuFamilyVersion
    ? advisory.iogpuFamilyVersionsWithPanics.includes(facts.iogpuFamilyVersion)
    : null;
  if (facts.platform !== 'darwin') {
    return {
      verdict: 'not-applicable',
      affected: false,
      summary: `${facts.platform}: the IOGPUFamily panic exists only on macOS on Apple silicon`,
      builds: [],
      iogpuFamilySeenInPanics: null,
      chips: [],
    };
  }
  if (isAppleSilicon(facts.chip) === false) {
    return {
      verdict: 'not-applicable',
      affected: false,
      summary: `${facts.chip}: the panic is reported on Apple silicon only`,
      builds: [],
      iogpuFamilySeenInPanics: null,
      chips: [],
    };
  }
  if (advisory.fixedIn && facts.osBuild && facts.osBuild >= advisory.fixedIn.build) {
    return {
      verdict: 'fixed',
      affected: false,
      summary: `fixed in ${advisory.fixedIn.macos} (${advisory.fixedIn.build}): ${advisory.fixedIn.source}`,
      builds: [],
      iogpuFamilySeenInPanics: iogpu,
      chips,
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
    };
  }
  return {
    verdict: 'affected-until-fixed',
    affected: true,
    summary: `macOS ${facts.osVersion ?? '?'}${facts.osBuild ? ` (${facts.osBuild})` : ''} has no public report of its own, but no macOS is documented to fix the panic: treated as affected`,
    builds: [],
    iogpuFamilySeenInPanics: iogpu,
    chips,
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
