import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildOriginPolicy,
  checkHost,
  checkOrigin,
  hostOf,
} from '../../../src/main/core/api/request-origin.js';

describe('the API answers only its own names (Host) and origins (Origin)', () => {
  const loopback = buildOriginPolicy({
    listenHost: '127.0.0.1',
    allowedHosts: ['studio-1.local', '::2'],
    corsOrigins: ['https://grafana.example:3000/'],
  });

  it('parses Host headers with and without ports, IPv6 in brackets', () => {
    assert.equal(hostOf('LocalHost:52417'), 'localhost');
    assert.equal(hostOf('[::1]:52417'), '::1');
    assert.equal(hostOf('[::1]'), '::1');
    assert.equal(hostOf('127.0.0.1'), '127.0.0.1');
    assert.equal(hostOf('example.com.:80'), 'example.com');
    assert.equal(hostOf('a b'), null);
    assert.equal(hostOf('::1'), null, 'a bare IPv6 Host is malformed');
  });

  it('lets loopback names and addresses, the listen address and configured names in; refuses the rest naming the Host', () => {
    for (const h of [
      'localhost',
      'localhost:52417',
      '127.0.0.1:52417',
      '127.1.2.3',
      '[::1]:52417',
      '[::1]',
      'studio-1.local:52417',
      'STUDIO-1.LOCAL',
      '[::2]:1',
      'app.localhost:52417',
    ])
      assert.deepEqual(checkHost(loopback, h), { ok: true }, h);
    const evil = checkHost(loopback, 'evil.example');
    assert.deepEqual(evil, {
      ok: false,
      status: 421,
      message:
        'Host "evil.example" is not a name this API answers to (loopback, its listen address or api.allowedHosts)',
    });
    assert.equal(checkHost(loopback, '127.0.0.1.evil.example:52417').ok, false);
    assert.equal(checkHost(loopback, 'localhost.evil.example').ok, false);
    assert.equal(checkHost(loopback, '[::3]').ok, false);
    assert.deepEqual(checkHost(loopback, undefined), {
      ok: false,
      status: 400,
      message: 'request has no Host header',
    });
  });

  it('on a wildcard listen address, answers to this machine’s names and addresses', () => {
    const wild = buildOriginPolicy({
      listenHost: '0.0.0.0',
      allowedHosts: [],
      corsOrigins: [],
      machine: () => ['studio-2', 'studio-2.local', '10.0.0.7', 'fe80::1'],
    });
    for (const h of ['studio-2:52417', 'studio-2.local', '10.0.0.7:52417', '[fe80::1]:52417', 'localhost'])
      assert.equal(checkHost(wild, h).ok, true, h);
    assert.equal(checkHost(wild, '0.0.0.0:52417').ok, true, 'the CLI addresses a wildcard listener by it');
    assert.equal(checkHost(wild, 'evil.example:52417').ok, false);
    const one = buildOriginPolicy({ listenHost: '10.0.0.7', allowedHosts: [], corsOrigins: [] });
    assert.equal(checkHost(one, '10.0.0.7:52417').ok, true);
    assert.equal(checkHost(one, '10.0.0.8:52417').ok, false);
  });

  it('same origin is the allowed Host over http; listed origins pass; everything else is foreign', () => {
    assert.deepEqual(checkOrigin(loopback, undefined, 'localhost:52417'), { kind: 'none' });
    assert.deepEqual(checkOrigin(loopback, 'http://127.0.0.1:52417', '127.0.0.1:52417'), { kind: 'same' });
    assert.deepEqual(checkOrigin(loopback, 'http://[::1]:52417', '[::1]:52417'), { kind: 'same' });
    assert.deepEqual(checkOrigin(loopback, 'https://grafana.example:3000', 'localhost:52417'), {
      kind: 'listed',
      origin: 'https://grafana.example:3000',
    });
    const foreign = checkOrigin(loopback, 'http://evil.example', '127.0.0.1:52417');
    assert.equal(foreign.kind, 'foreign');
    assert.match((foreign as { message: string }).message, /^origin http:\/\/evil\.example is not allowed/);
    // Another port on loopback is another origin; so are null and https on the same authority.
    assert.equal(checkOrigin(loopback, 'http://127.0.0.1:8080', '127.0.0.1:52417').kind, 'foreign');
    assert.equal(checkOrigin(loopback, 'null', '127.0.0.1:52417').kind, 'foreign');
    assert.equal(checkOrigin(loopback, 'https://127.0.0.1:52417', '127.0.0.1:52417').kind, 'foreign');
    assert.equal(checkOrigin(loopback, 'https://grafana.example:3001', 'localhost').kind, 'foreign');
  });
});
