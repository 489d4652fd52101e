import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildAtLeast,
  compareDottedVersions,
  compareMacosBuilds,
  compareParsedBuilds,
  parseMacosBuild,
} from '../../../src/main/core/risk/macos-build.js';
import {
  type Advisory,
  assessPlatform,
  buildsInOrder,
  loadAdvisory,
  type PlatformFacts,
} from '../../../src/main/core/risk/platform-advisory.js';

describe('macOS builds compared by their parts', () => {
  it('parses major, train letter, build number and suffix', () => {
    assert.deepEqual(parseMacosBuild('25E253'), { major: 25, letter: 'E', number: 253, suffix: '' });
    assert.deepEqual(parseMacosBuild('25E5233c'), { major: 25, letter: 'E', number: 5233, suffix: 'c' });
    assert.deepEqual(parseMacosBuild('26A5421a'), { major: 26, letter: 'A', number: 5421, suffix: 'a' });
    for (const bad of [
      '',
      '25e253',
      '25E',
      'E253',
      '25E253cc',
      ' 25E253',
      '25E253\n',
      '26.5.2',
      'x'.repeat(40),
    ])
      assert.equal(parseMacosBuild(bad), null, JSON.stringify(bad));
  });

  it('orders 25E99 < 25E253 < 25F84, where a string compare gets it wrong', () => {
    assert.ok('25E99' > '25E253', 'the string compare this replaces');
    assert.equal(compareMacosBuilds('25E99', '25E253'), -1);
    assert.equal(compareMacosBuilds('25E253', '25F84'), -1);
    assert.equal(compareMacosBuilds('25F84', '25E99'), 1);
    assert.equal(compareMacosBuilds('9A1', '25F84'), -1, 'a one-digit major is older');
    assert.equal(compareMacosBuilds('24G517', '25C56'), -1, 'macOS 15 before 26');
    assert.equal(compareMacosBuilds('25E246', '25E5233c'), -1, 'by number, then suffix');
    assert.equal(compareMacosBuilds('25E253', '25E253a'), -1, 'no suffix before a');
    assert.equal(compareMacosBuilds('25E253a', '25E253b'), -1);
    assert.equal(compareMacosBuilds('25E253', '25E253'), 0);
    assert.equal(compareMacosBuilds('25E253', 'unknown'), -1, 'a non-build sorts after every build');
    assert.equal(compareMacosBuilds('25E099', '25E99'), -1, 'one build, two spellings: by text');
    assert.deepEqual(
      ['25F84', '25E5233c', '25E99', '24G517', 'zzz', '25E253', '25D2128', '25D125', '25C56'].sort(
        compareMacosBuilds,
      ),
      ['24G517', '25C56', '25D125', '25D2128', '25E99', '25E253', '25E5233c', '25F84', 'zzz'],
    );
  });

  it('buildAtLeast is null when either side is not a build', () => {
    assert.equal(buildAtLeast('25F84', '25E253'), true);
    assert.equal(buildAtLeast('25E99', '25E253'), false);
    assert.equal(buildAtLeast('25E253', '25E253'), true);
    assert.equal(buildAtLeast('garbage', '25E253'), null);
    assert.equal(buildAtLeast('25E253', ''), null);
  });

  it('IOGPUFamily versions compare by their numbers', () => {
    assert.equal(compareDottedVersions('129.3.2', '130.13'), -1);
    assert.equal(compareDottedVersions('130.13', '130.15.2'), -1);
    assert.equal(compareDottedVersions('130.9', '130.13'), -1, '9 < 13, unlike the strings');
    assert.equal(compareDottedVersions('162.11', '130.15.2'), 1);
    assert.equal(compareDottedVersions('130.13', '130.13.0'), 0);
    assert.equal(compareDottedVersions('130.13', 'x'), null);
  });

  const buildText = fc.oneof(
    fc
      .tuple(
        fc.integer({ min: 0, max: 999 }),
        fc.constantFrom(...'ABCDEFGHZ'),
        fc.integer({ min: 0, max: 999_999 }),
        fc.constantFrom('', 'a', 'b', 'c', 'z'),
        fc.boolean(),
      )
      .map(([maj, l, n, s, pad]) => `${maj}${l}${pad ? String(n).padStart(6, '0') : n}${s}`),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('25E99', '25E253', '25F84', '25E5233c', '24G517', '26A5421a', ''),
  );

  it('property: a total order (antisymmetric, transitive, total), equal only for equal text', () => {
    fc.assert(
      fc.property(buildText, buildText, buildText, (a, b, c) => {
        const ab = compareMacosBuilds(a, b);
        assert.ok([-1, 0, 1].includes(ab));
        assert.equal(ab, -compareMacosBuilds(b, a) || 0, 'antisymmetric');
        assert.equal(ab === 0, a === b, 'equal only for the same text');
        if (ab <= 0 && compareMacosBuilds(b, c) <= 0) assert.ok(compareMacosBuilds(a, c) <= 0, 'transitive');
      }),
      { numRuns: 3000 },
    );
  });

  it('property: consistent with parsing (the parts decide; builds before non-builds)', () => {
    fc.assert(
      fc.property(buildText, buildText, (a, b) => {
        const pa = parseMacosBuild(a);
        const pb = parseMacosBuild(b);
        const ab = compareMacosBuilds(a, b);
        if (pa && pb) {
          const parts = compareParsedBuilds(pa, pb);
          if (parts !== 0) assert.equal(ab, parts);
          // The parts as a tuple, compared field by field: major, letter, number, suffix.
          const ka: Array<number | string> = [pa.major, pa.letter, pa.number, pa.suffix];
          const kb: Array<number | string> = [pb.major, pb.letter, pb.number, pb.suffix];
          const i = ka.findIndex((x, j) => x !== kb[j]);
          const tuple = i < 0 ? 0 : ka[i]! < kb[i]! ? -1 : 1;
          assert.equal(parts, tuple);
          if (tuple !== 0) assert.equal(ab, tuple);
          assert.equal(buildAtLeast(a, b), tuple >= 0);
        } else if (pa) assert.equal(ab, -1);
        else if (pb) assert.equal(ab, 1);
        else assert.equal(buildAtLeast(a, b), null);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the advisory refresh: IOGPUFamily per build, the siblings, macOS 15 and the macOS 27 beta', () => {
  const advisory = loadAdvisory();
  const mac = (osBuild: string | null, iogpu: string | null = null, osVersion = '26'): PlatformFacts => ({
    platform: 'darwin',
    chip: 'Apple M4 Max',
    memoryBytes: 128 * 1024 ** 3,
    osVersion,
    osBuild,
    iogpuFamilyVersion: iogpu,
  });

  it('maps each affected build to its IOGPUFamily version, each with a source', () => {
    const byBuild = Object.fromEntries(advisory.affectedBuilds.map((b) => [b.build, b.iogpuFamily]));
    assert.equal(byBuild['25D125'], '129.3.2');
    assert.equal(byBuild['25D2128'], '129.3.2');
    assert.equal(byBuild['25E246'], '130.13');
    assert.equal(byBuild['25E253'], '130.13');
    assert.equal(byBuild['25F84'], '130.15.2');
    for (const b of advisory.affectedBuilds) {
      assert.equal(
        b.iogpuFamily === null,
        b.iogpuFamilySources.length === 0,
        `${b.build}: a version has a source`,
      );
      assert.ok([...b.sources, ...b.iogpuFamilySources].every((s) => s.startsWith('https://github.com/')));
    }
    assert.equal(
      advisory.affectedBuilds.find((b) => b.build === '24G517')?.assertion,
      '@IOGPUMemory.cpp:492',
    );
    assert.deepEqual(advisory.iogpuFamilyVersionsWithPanics, ['129.3.2', '130.13', '130.15.2']);
    assert.deepEqual(
      buildsInOrder(advisory).map((b) => b.build),
      ['24G517', '25C56', '25D125', '25D2128', '25E246', '25E253', '25E5233c', '25F84'],
    );
  });

  it('names the :550 and :492 lines and the :219 / :323 siblings with their sources', () => {
    const at = Object.fromEntries(advisory.panicAssertions.map((a) => [a.location, a]));
    assert.equal(at['IOGPUMemory.cpp:550']?.kind, 'completeMemory');
    assert.equal(at['IOGPUMemory.cpp:492']?.macos, '15.x');
    assert.equal(at['IOGPUGroupMemory.cpp:323']?.kind, 'iogpuSibling');
    assert.match(at['IOGPUGroupMemory.cpp:323']!.text, /remove_memory_object/);
    assert.deepEqual(at['IOGPUGroupMemory.cpp:219']?.sources, ['https://github.com/jundot/omlx/issues/1265']);
  });

  it('the macOS 27 beta (IOGPUFamily 162.11) is an observation under a workaround, never a fix', () => {
    const r = assessPlatform(mac('26A5421a', '162.11', '27.0'));
    assert.equal(r.verdict, 'affected-until-fixed');
    assert.equal(r.affected, true);
    assert.equal(r.iogpuFamilySeenInPanics, false);
    assert.equal(r.observations.length, 1);
    assert.match(r.summary, /newer than the last build with public reports \(25F84/);
    assert.match(r.summary, /without panics only with MLX wired limit never set.*not a fix/);
  });

  it('an unreported build is placed by build order, and a fix is judged by parts, never by text', () => {
    assert.match(assessPlatform(mac('25E99')).summary, /between builds with public reports/);
    assert.match(assessPlatform(mac('25G20')).summary, /newer than the last build/);
    assert.match(assessPlatform(mac('23A344')).summary, /older than the first build/);
    assert.equal(assessPlatform(mac('25E253', '130.13')).iogpuFamilySeenInPanics, true);
    const fixed: Advisory = {
      ...advisory,
      fixedIn: { macos: '26.4.2', build: '25E300', source: 'https://example.com/fix' },
    };
    // As strings '25E99' >= '25E300' would call this build fixed.
    assert.equal(assessPlatform(mac('25E99'), fixed).verdict, 'affected-until-fixed');
    assert.equal(assessPlatform(mac('25F84'), fixed).verdict, 'fixed');
    assert.equal(assessPlatform(mac('unreadable'), fixed).verdict, 'affected-until-fixed');
  });
});
