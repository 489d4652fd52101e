import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { urlText } from '../../../src/main/core/util/url-text.js';

const around = fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u3000', '\ufeff', '\u2028');
const inside = fc.constantFrom('\t', '\n', '\r');

describe('a URL from the configuration', () => {
  it('is kept as a URL parser reads it, whatever whitespace is around it or line breaks inside', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.array(around, { maxLength: 3 }),
        fc.array(around, { maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), inside), { maxLength: 3 }),
        (url, before, after, breaks) => {
          let raw = url;
          for (const [at, c] of breaks) {
            const i = at % (raw.length + 1);
            raw = raw.slice(0, i) + c + raw.slice(i);
          }
          raw = before.join('') + raw + after.join('');
          const r = urlText.safeParse(raw);
          assert.ok(r.success, JSON.stringify(raw));
          assert.equal(r.data, url.trim());
          assert.equal(new URL(r.data as string).href, new URL(url).href);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('still refuses what is not a URL, and anything not a string', () => {
    for (const v of ['', '   ', 'not a url', '\n127.0.0.1:52415', 42, null, ['http://a']])
      assert.equal(urlText.safeParse(v).success, false, JSON.stringify(v));
  });
});
