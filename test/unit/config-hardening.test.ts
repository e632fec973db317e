/**
 * Config rules that keep hostile or careless input from doing damage: durations that round to
 * nothing, reserved names, duplicate JSON keys, alias bombs, half-configured TLS, short tokens,
 * secrets given in three ways, error lists that stay bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfigText } from '../../src/config/load.ts';
import { readProtected, serverSecurity } from '../../src/config/security.ts';
import { upstreamToRaw } from '../../src/config/serialize.ts';
import { parseConfig, parseUpstream } from '../../src/config/validate.ts';
import { resolveSecret } from '../../src/health/probes/secret.ts';
import { CheckupsError } from '../../src/util/errors.ts';

const servers = [{ host: '127.0.0.1', port: 8080 }];

function errorsOf(doc: unknown): string[] {
  const parsed = parseConfig(doc);
  assert.equal(parsed.ok, false, 'expected the config to be rejected');
  return parsed.ok ? [] : parsed.errors;
}

describe('durations and intervals are restartable', () => {
  it('refuses a timeout that rounds to 0 ms (1e-9 s) instead of storing 0', () => {
    const parsed = parseUpstream('api', { timeout: 1e-9, cluster: [{ servers }] });
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.errors.join('\n'), /^timeout: must be at least 0\.001 \(1 ms\)/m);
  });

  it('refuses probe intervals under 100 ms from a file', () => {
    const errors = errorsOf({ global: { checkup_timer_interval: 0.0001 }, upstreams: { api: { unhealthy_interval: 0.05, cluster: [{ servers }] } } });
    assert.ok(errors.some((e) => /^global\.checkup_timer_interval: must be at least 0\.1 \(100 ms\)/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /^upstreams\.api\.unhealthy_interval: must be at least 0\.1/.test(e)), errors.join('\n'));
  });

  it('refuses durations beyond what a timer can hold (24.8 days), which Node fires at once', () => {
    const errors = errorsOf({ global: { checkup_timer_interval: 86_400 * 30 }, upstreams: { api: { cluster: [{ servers }] } } });
    assert.ok(errors.some((e) => /checkup_timer_interval: must be at most 2147483/.test(e)), errors.join('\n'));
  });

  it('try_timeout 0 stays "unlimited"; any other value is at least 1 ms', () => {
    assert.equal(parseUpstream('a', { try_timeout: 0, cluster: [{ servers }] }).ok, true);
    assert.equal(parseUpstream('a', { try_timeout: 0.0001, cluster: [{ servers }] }).ok, false);
  });

  it('every accepted duration serialises back to the same milliseconds', () => {
    for (const timeout of [0.001, 0.0015, 0.1 + 0.2, 1 / 3, 2147483]) {
      const first = parseUpstream('a', { timeout, cluster: [{ servers }] });
      assert.ok(first.ok, String(timeout));
      const again = parseUpstream('a', upstreamToRaw(first.value));
      assert.ok(again.ok, `${timeout} does not re-validate`);
      assert.equal(again.value.timeoutMs, first.value.timeoutMs);
    }
  });
});

describe('prototype pitfalls', () => {
  it('constructor and toString are ordinary skeys and cluster names', () => {
    const cfg = parseConfigText(
      'upstreams:\n  constructor:\n    cluster:\n      toString: { servers: [{host: a, port: 1}] }\n  toString:\n    cluster:\n      constructor: { servers: [{host: b, port: 1}] }\n',
      'c.yaml',
    );
    assert.deepEqual([...cfg.upstreams.keys()], ['constructor', 'toString']);
    assert.deepEqual(cfg.upstreams.get('constructor')!.clusters.map((c) => c.key), ['toString']);
    assert.deepEqual(cfg.upstreams.get('toString')!.clusters.map((c) => c.key), ['constructor']);
  });

  it('__proto__ as a skey or cluster name is refused with its path, from YAML and JSON', () => {
    assert.throws(
      () => parseConfigText('upstreams:\n  __proto__:\n    cluster: [{servers: [{host: a, port: 1}]}]\n', 'c.yaml'),
      (err: CheckupsError) => /upstreams\.__proto__: "__proto__" is a reserved name/.test(err.message),
    );
    assert.throws(
      () => parseConfigText('{"upstreams":{"api":{"cluster":{"__proto__":{"servers":[{"host":"a","port":1}]}}}}}', 'c.json'),
      (err: CheckupsError) => /upstreams\.api\.cluster\.__proto__: "__proto__" is a reserved name/.test(err.message),
    );
    const parsed = parseUpstream('__proto__', { cluster: [{ servers }] });
    assert.equal(parsed.ok, false);
  });
});

describe('body_match: RE2 syntax, refused at load otherwise', () => {
  it('refuses backreferences and lookarounds, which have no linear-time match, naming the field', () => {
    for (const re of ['(a)\\1', '(?=a)b', '(?<!x)y']) {
      const parsed = parseUpstream('h', { typ: 'http', http_opts: { body_match: re }, cluster: [{ servers }] });
      assert.equal(parsed.ok, false, re);
      assert.match(parsed.ok ? '' : parsed.errors.join('\n'), /^http_opts\.body_match: must be an RE2 regular expression/m);
    }
    assert.equal(parseUpstream('h', { typ: 'http', http_opts: { body_match: '^(a+)+$' }, cluster: [{ servers }] }).ok, true);
  });
});

describe('file syntax', () => {
  it('JSON duplicate keys are refused like YAML ones, with the file', () => {
    assert.throws(
      () => parseConfigText('{"upstreams":{"a":{"cluster":[{"servers":[]}]},"a":{"cluster":[]}}}', 'dup.json'),
      (err: CheckupsError) => /dup\.json:\d+:\d+: Map keys must be unique/.test(err.message),
    );
  });

  it('an alias bomb names the file and the limit', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    assert.throws(
      () => parseConfigText(lines.join('\n'), 'bomb.yaml'),
      (err: CheckupsError) => err instanceof CheckupsError && /^bomb\.yaml: .*alias/is.test(err.message) && /reduce/.test(err.message),
    );
  });

  it('a config that is a directory names the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkups-cfg-'));
    assert.throws(() => loadConfigFile(dir), (err: Error) => err.message.includes(dir) && /directory/.test(err.message));
  });
});

describe('bounded error lists', () => {
  it('10,000 bad ports list at most 20 errors and say how many more', () => {
    const doc = { upstreams: { api: { cluster: [{ servers: Array.from({ length: 10_000 }, (_, i) => ({ host: 'a', port: 70_000 + i })) }] } } };
    const file = join(mkdtempSync(join(tmpdir(), 'checkups-cfg-')), 'c.json');
    writeFileSync(file, JSON.stringify(doc));
    assert.throws(
      () => loadConfigFile(file),
      (err: CheckupsError) => {
        assert.ok(err.message.length < 4096, `message is ${err.message.length} chars`);
        assert.match(err.message, /and 9980 more/);
        return true;
      },
    );
  });

  it('a 100,000-character value is clipped in the message', () => {
    const errors = errorsOf({ upstreams: { api: { typ: 'x'.repeat(100_000), cluster: [{ servers }] } } });
    assert.ok(errors.join('\n').length < 1000);
  });
});

describe('server.stream_stall_timeout', () => {
  it('is seconds, stored as ms; a bad value is refused with its path', () => {
    const parsed = parseConfig({ server: { stream_stall_timeout: 2.5 }, upstreams: {} });
    assert.equal(parsed.ok ? parsed.value.server.streamStallTimeoutMs : undefined, 2500);
    for (const bad of [0, -1, 'soon', 1e-9]) {
      assert.ok(
        errorsOf({ server: { stream_stall_timeout: bad }, upstreams: {} }).some((e) => /^server\.stream_stall_timeout: must be/.test(e)),
        `refuses ${JSON.stringify(bad)}`,
      );
    }
  });
});

describe('server.max_response_bytes', () => {
  it('is bytes between 64 KiB and 64 MiB', () => {
    const parsed = parseConfig({ server: { max_response_bytes: 1 << 20 }, upstreams: {} });
    assert.equal(parsed.ok ? parsed.value.server.maxResponseBytes : undefined, 1 << 20);
    for (const bad of [1000, 2 ** 30, 1.5e6 + 0.5, '4MiB']) {
      assert.ok(
        errorsOf({ server: { max_response_bytes: bad }, upstreams: {} }).some((e) => /^server\.max_response_bytes: /.test(e)),
        `refuses ${JSON.stringify(bad)}`,
      );
    }
  });
});

describe('TLS and tokens: one rule set', () => {
  it('refuses half-configured TLS', () => {
    assert.throws(() => serverSecurity({ tlsCert: 'c.pem', tlsClientCa: 'ca.pem' }), /tls_key: .*tls_cert and tls_key go together/);
    assert.throws(() => serverSecurity({ tlsKey: 'k.pem' }), /tls_cert: .*tls_cert and tls_key go together/);
    assert.throws(() => serverSecurity({ tlsClientCa: 'ca.pem' }), /tls_client_ca: needs tls_cert and tls_key/);
    assert.deepEqual(serverSecurity({ tlsCert: 'c.pem', tlsKey: 'k.pem' }).tls, { certFile: 'c.pem', keyFile: 'k.pem' });
  });

  it('refuses short tokens wherever they come from', () => {
    assert.throws(() => serverSecurity({ adminToken: 'x' }), /admin token: must be at least 16 characters/);
    assert.throws(() => serverSecurity({ readToken: 'short' }), /read token: must be at least 16 characters/);
    const errors = errorsOf({ server: { admin_token: 'x' }, upstreams: {} });
    assert.ok(errors.some((e) => /server\.admin_token: must be at least 16 characters/.test(e)));
  });

  it('one token per role; discovery_auth required needs a token; auto requires tokens only beyond loopback', () => {
    const T = 'a-token-of-32-characters-0123456';
    assert.throws(() => serverSecurity({ adminToken: T, feedbackToken: T }), /feedback token: is the same as the admin token; each role needs its own token/);
    assert.throws(() => serverSecurity({ discoveryAuth: 'required' }), /discovery_auth: required needs a token to require/);
    const auto = serverSecurity({ readToken: T });
    assert.equal(auto.discoveryAuth, 'auto');
    for (const host of ['127.0.0.1', '127.8.9.1', '::1', 'localhost']) assert.equal(readProtected(auto, host), false, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'checkups.internal']) assert.equal(readProtected(auto, host), true, host);
    assert.equal(readProtected(serverSecurity({}), '0.0.0.0'), false, 'auto without any token stays open (main.ts warns)');
    assert.equal(readProtected(serverSecurity({ adminToken: T }), '0.0.0.0'), true, 'the admin token implies read');
    assert.equal(readProtected(serverSecurity({ readToken: T, discoveryAuth: 'required' }), '127.0.0.1'), true);
    assert.equal(readProtected(serverSecurity({ readToken: T, discoveryAuth: 'off' }), '0.0.0.0'), false);
  });

  it('server.discovery_auth and server.feedback are checked with their paths; a batch may not exceed the burst', () => {
    const errors = errorsOf({ server: { discovery_auth: 'maybe', feedback: { max_batch: 0, caller_rate: 1.5, peers_per_caller: -1, extra: 1 } }, upstreams: {} });
    assert.deepEqual(errors.sort(), [
      'server.discovery_auth: must be auto, required or off (got the string "maybe")',
      'server.feedback.caller_rate: must be an integer 1..10000000 (got number 1.5)',
      'server.feedback.extra: unknown field',
      'server.feedback.max_batch: must be an integer 1..100000',
      'server.feedback.peers_per_caller: must be an integer 0..1000000',
    ]);
    assert.deepEqual(errorsOf({ server: { feedback: { max_batch: 5000, caller_burst: 1000 } }, upstreams: {} }), [
      'server.feedback.max_batch: must not exceed caller_burst (1000): a batch of 5000 could never pass the rate limit',
    ]);
    const ok = parseConfig({ server: { discovery_auth: 'required', read_token: 'r'.repeat(16), feedback: { caller_rate: 5 } }, upstreams: {} });
    assert.ok(ok.ok);
    assert.deepEqual(ok.value.server.feedback, { maxBatch: 1000, callerRate: 5, callerBurst: 20000, peersPerCaller: 1 });
    assert.equal(ok.value.server.discoveryAuth, 'required');
    assert.equal(ok.value.server.readToken, 'r'.repeat(16));
  });
});

describe('secrets from the environment or a file', () => {
  it('pass, pass_env and pass_file: exactly one', () => {
    const parsed = parseUpstream('db', { typ: 'mysql', pass: 'a', pass_env: 'B', cluster: [{ servers }] });
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.errors.join('\n'), /pass_env: use only one of pass, pass_env, pass_file/);
    const redis = parseUpstream('r', { typ: 'redis', redis_opts: { password: 'a', password_file: '/x' }, cluster: [{ servers }] });
    assert.equal(redis.ok, false);
  });

  it('resolves from the environment or a file at probe time, and says which is missing without the value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkups-secret-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    process.env['CHECKUPS_TEST_SECRET'] = 'from-env';
    assert.equal(resolveSecret('mysql pass', { env: 'CHECKUPS_TEST_SECRET' }), 'from-env');
    assert.equal(resolveSecret('mysql pass', { file: join(dir, 'pw') }), 'from-file');
    assert.equal(resolveSecret('mysql pass', { value: 'v' }), 'v');
    assert.equal(resolveSecret('mysql pass', {}), undefined);
    assert.throws(() => resolveSecret('mysql pass', { env: 'CHECKUPS_TEST_UNSET_SECRET' }), /mysql pass: environment variable CHECKUPS_TEST_UNSET_SECRET is not set/);
    assert.throws(() => resolveSecret('redis password', { file: join(dir, 'nope') }), /redis password: cannot read .*nope/);
    delete process.env['CHECKUPS_TEST_SECRET'];
  });

  it('keeps the reference, never the value, in what is stored', () => {
    const parsed = parseUpstream('db', { typ: 'mysql', pass_env: 'DB_PASS', redis_opts: { password_file: '/run/secrets/r' }, cluster: [{ servers }] });
    assert.ok(parsed.ok);
    const raw = upstreamToRaw(parsed.value);
    assert.equal(raw.pass_env, 'DB_PASS');
    assert.equal(raw.redis_opts?.password_file, '/run/secrets/r');
  });
});
