import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfigText } from '../../src/config/load.ts';
import { upstreamToRaw } from '../../src/config/serialize.ts';
import { parseConfig, parseUpstream } from '../../src/config/validate.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { config } from '../support/builders.ts';

function errorsOf(doc: unknown): string[] {
  const parsed = parseConfig(doc);
  assert.equal(parsed.ok, false, 'expected the config to be rejected');
  return parsed.ok ? [] : parsed.errors;
}

const minimal = { upstreams: { api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 8080 }] }] } } };

describe('config defaults (docs/compat.md)', () => {
  it('fills every global default', () => {
    const cfg = config(minimal);
    assert.deepEqual(cfg.global, {
      checkupTimerIntervalMs: 5000,
      checkupTimerOvertimeMs: 60_000,
      defaultHeartbeatEnable: true,
      shdConfigTimerIntervalMs: 5000,
      upsStatusSyncEnable: false,
      upsStatusTimerIntervalMs: 5000,
      confHash: null,
    });
  });

  it('shd_config_timer_interval follows checkup_timer_interval when unset', () => {
    const cfg = config({ ...minimal, global: { checkup_timer_interval: 2 } });
    assert.equal(cfg.global.shdConfigTimerIntervalMs, 2000);
  });

  it('fills every upstream and server default', () => {
    const spec = config(minimal).upstreams.get('api')!;
    assert.deepEqual(spec, {
      skey: 'api',
      typ: 'general',
      timeoutMs: 5000,
      http: {},
      sensibility: 1,
      rise: 1,
      protected: true,
      maxEjectionPercent: 50,
      slowStart: { windowMs: 0, aggression: 1, minWeightPercent: 10 },
      flapDamping: { threshold: 0, windowMs: 60_000, penaltyMs: 30_000, maxPenaltyMs: 600_000 },
      mode: 'wrr',
      tryTimeoutMs: 0,
      mysql: {},
      redis: {},
      grpc: {},
      clusters: [
        {
          key: 1,
          servers: [{ host: '127.0.0.1', port: 8080, weight: 1, maxFails: 0, failTimeoutMs: 10_000, down: false }],
          upstreamOnlyBackup: false,
        },
      ],
    });
  });

  it('reads every option with its unit conversion', () => {
    const cfg = config({
      global: {
        checkup_timer_interval: 15,
        checkup_timer_overtime: 30,
        default_heartbeat_enable: false,
        checkup_shd_sync_enable: true,
        shd_config_timer_interval: 1,
        ups_status_sync_enable: true,
        ups_status_timer_interval: 2,
        conf_hash: 'abc',
      },
      upstreams: {
        db: {
          enable: true,
          typ: 'mysql',
          timeout: 2,
          read_timeout: 15,
          send_timeout: 0.5,
          sensibility: 3,
          protected: false,
          mode: 'header_hash',
          try: 4,
          try_timeout: 1.5,
          name: 'test',
          user: 'root',
          pass: 'pw',
          charset: 'utf8mb4',
          http_opts: { query: 'GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n', statuses: { 502: false, '200': true } },
          cluster: {
            1: { servers: [{ host: 'db1.internal', port: 3306, weight: 10, max_fails: 3, fail_timeout: 2.5, down: true }], try: 2 },
            dc1: { servers: [{ host: '::1', port: 3307 }], upstream: 'backend', upstream_only_backup: true },
          },
        },
      },
    });
    assert.deepEqual(cfg.global, {
      checkupTimerIntervalMs: 15_000,
      checkupTimerOvertimeMs: 30_000,
      defaultHeartbeatEnable: false,
      shdConfigTimerIntervalMs: 1000,
      upsStatusSyncEnable: true,
      upsStatusTimerIntervalMs: 2000,
      confHash: 'abc',
    });
    const db = cfg.upstreams.get('db')!;
    assert.equal(db.enable, true);
    assert.equal(db.typ, 'mysql');
    assert.equal(db.timeoutMs, 2000);
    assert.equal(db.readTimeoutMs, 15_000);
    assert.equal(db.sendTimeoutMs, 500);
    assert.equal(db.sensibility, 3);
    assert.equal(db.protected, false);
    assert.equal(db.mode, 'header_hash');
    assert.equal(db.try, 4);
    assert.equal(db.tryTimeoutMs, 1500);
    assert.deepEqual(db.mysql, { name: 'test', user: 'root', pass: 'pw', charset: 'utf8mb4' });
    assert.deepEqual(db.http.statuses, { '200': true, '502': false });
    assert.deepEqual(
      db.clusters.map((c) => c.key),
      [1, 'dc1'],
    );
    assert.deepEqual(db.clusters[0]!.servers[0], { host: 'db1.internal', port: 3306, weight: 10, maxFails: 3, failTimeoutMs: 2500, down: true });
    assert.equal(db.clusters[0]!.try, 2);
    assert.equal(db.clusters[1]!.upstream, 'backend');
    assert.equal(db.clusters[1]!.upstreamOnlyBackup, true);
  });

  it('reads the probe options checkups adds (rise, unhealthy_interval, https, body_match, redis_opts, grpc_opts)', () => {
    const spec = config({
      upstreams: {
        a: {
          typ: 'http',
          rise: 2,
          unhealthy_interval: 0.5,
          http_opts: { https: true, sni: 'api.example', verify: false, body_match: '"status":\\s*"up"' },
          redis_opts: { password: 'pw', db: 3 },
          grpc_opts: { service: 'checkups.v1.DiscoveryService' },
          cluster: [],
        },
      },
    }).upstreams.get('a')!;
    assert.equal(spec.rise, 2);
    assert.equal(spec.unhealthyIntervalMs, 500);
    assert.deepEqual(spec.http, { https: true, sni: 'api.example', verify: false, bodyMatch: '"status":\\s*"up"' });
    assert.deepEqual(spec.redis, { password: 'pw', db: 3 });
    assert.deepEqual(spec.grpc, { service: 'checkups.v1.DiscoveryService' });
    assert.deepEqual(errorsOf({ upstreams: { a: { http_opts: { body_match: '(' }, redis_opts: { db: -1 }, cluster: [] } } }), [
      'upstreams.a.http_opts.body_match: must be an RE2 regular expression (no backreferences or lookarounds): missing closing ): `(`',
      'upstreams.a.redis_opts.db: must be an integer 0..65535',
    ]);
  });

  it('accepts mode: wrr (the documented default the original crashes on)', () => {
    const cfg = config({ upstreams: { api: { ...minimal.upstreams.api, mode: 'wrr' } } });
    assert.equal(cfg.upstreams.get('api')!.mode, 'wrr');
  });
});

describe('cluster forms', () => {
  it('a list is levels 1..n in order', () => {
    const cfg = config({
      upstreams: { a: { cluster: [{ servers: [{ host: 'a', port: 1 }] }, { servers: [] }, { servers: [{ host: 'c', port: 3 }] }] } },
    });
    assert.deepEqual(
      cfg.upstreams.get('a')!.clusters.map((c) => [c.key, c.servers.length]),
      [
        [1, 1],
        [2, 0],
        [3, 1],
      ],
    );
  });

  it('a map orders numeric levels ascending, then named clusters as written', () => {
    const cfg = config({
      upstreams: {
        a: {
          cluster: {
            zeta: { servers: [{ host: 'z', port: 1 }] },
            10: { servers: [{ host: 'x', port: 1 }] },
            alpha: { servers: [{ host: 'y', port: 1 }] },
            2: { servers: [{ host: 'w', port: 1 }] },
          },
        },
      },
    });
    assert.deepEqual(
      cfg.upstreams.get('a')!.clusters.map((c) => c.key),
      [2, 10, 'zeta', 'alpha'],
    );
  });

  it('keeps upstreams in file order', () => {
    const text = 'upstreams:\n  b: {cluster: []}\n  a: {cluster: []}\n  c: {cluster: []}\n';
    assert.deepEqual([...parseConfigText(text, 'x.yaml').upstreams.keys()], ['b', 'a', 'c']);
  });
});

describe('bad input: every error at once, with its path, nothing loaded', () => {
  it('reports the issue example path', () => {
    const errors = errorsOf({
      upstreams: { api: { cluster: [{ servers: [{ host: 'a', port: 1 }] }, { servers: [{ host: 'b', port: 70000 }] }] } },
    });
    assert.deepEqual(errors, ['upstreams.api.cluster[1].servers[0].port: must be an integer 1..65535']);
  });

  it('collects errors from every level of the document', () => {
    const errors = errorsOf({
      global: { checkup_timer_interval: -1, bogus: true },
      upstreams: {
        api: {
          typ: 'htp',
          mode: 'rr',
          cluster: [
            { servers: [{ host: '127.0.0.1', port: 0, weight: -2 }] },
            { servers: [{ host: 'bad host', port: '80' }, { host: '10.0.0.1', port: 80 }, { host: '10.0.0.1', port: 80 }] },
          ],
        },
        b: { cluster: { '1.5': { servers: [] }, dc1: { servers: 3 } } },
        c: {},
      },
    });
    assert.deepEqual(errors, [
      'global.checkup_timer_interval: must be at least 0.1 (100 ms)',
      'global.bogus: unknown field',
      'upstreams.api.typ: must be one of general, http, redis, mysql, grpc (got the string "htp")',
      'upstreams.api.mode: must be one of wrr, hash, url_hash, ip_hash, header_hash (got the string "rr")',
      'upstreams.api.cluster[0].servers[0].port: must be an integer 1..65535',
      'upstreams.api.cluster[0].servers[0].weight: must be an integer 1..2147483647',
      'upstreams.api.cluster[1].servers[0].host: must be a host name or IP address',
      'upstreams.api.cluster[1].servers[0].port: must be an integer 1..65535 (got the string "80")',
      'upstreams.b.cluster.dc1.servers: must be a list of servers (got number 3)',
      'upstreams.c.cluster: is required',
      'upstreams.api.cluster[1].servers[2]: duplicate server 10.0.0.1:80 in one level (first at servers[1])',
      'upstreams.b.cluster["1.5"]: level keys must be positive integers (1, 2, ...); cluster names must not look like numbers',
    ]);
  });

  it('rejects port 0 and 70000, negative and fractional weights, bad statuses', () => {
    const errors = errorsOf({
      upstreams: {
        a: {
          typ: 'http',
          http_opts: { statuses: { '999': false, '200': 'yes' }, query: 'hello' },
          cluster: [{ servers: [{ host: 'a', port: 0 }, { host: 'b', port: 70000, weight: 1.5 }, { host: 'c', port: 1, max_fails: -1 }] }],
        },
      },
    });
    assert.ok(errors.includes('upstreams.a.cluster[0].servers[0].port: must be an integer 1..65535'), errors.join('\n'));
    assert.ok(errors.includes('upstreams.a.cluster[0].servers[1].port: must be an integer 1..65535'));
    assert.ok(errors.includes('upstreams.a.cluster[0].servers[1].weight: must be an integer 1..2147483647 (got number 1.5)'));
    assert.ok(errors.includes('upstreams.a.cluster[0].servers[2].max_fails: must be an integer 0..1000000'));
    assert.ok(errors.includes('upstreams.a.http_opts.statuses.999: status keys must be HTTP status codes 100..599'));
    assert.ok(errors.some((e) => e.startsWith('upstreams.a.http_opts.statuses.200: must be true or false')));
    assert.ok(errors.some((e) => e.startsWith('upstreams.a.http_opts.query: must be a raw HTTP request')));
  });

  it('malformed YAML names file, line and column', () => {
    assert.throws(
      () => parseConfigText('upstreams:\n  a: [\n', 'checkups.yaml'),
      (err: unknown) => err instanceof CheckupsError && err.code === 'INVALID_CONFIG' && /^checkups\.yaml:\d+:\d+: /.test(err.details[0]!),
    );
  });

  it('duplicate YAML keys are an error, not a silent override', () => {
    assert.throws(() => parseConfigText('upstreams:\n  a: {cluster: []}\n  a: {cluster: []}\n', 'c.yaml'), /Map keys must be unique/);
  });

  it('a missing upstreams map or a non-map document is rejected', () => {
    assert.deepEqual(errorsOf({}), ['upstreams: is required']);
    assert.deepEqual(errorsOf([1]), ['(document): must be a map (got a list)']);
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-config-'));

  it('loads YAML and JSON files', () => {
    writeFileSync(join(dir, 'c.yaml'), 'upstreams:\n  api:\n    cluster:\n      - servers: [{host: 127.0.0.1, port: 80}]\n');
    writeFileSync(join(dir, 'c.json'), JSON.stringify(minimal));
    assert.equal(loadConfigFile(join(dir, 'c.yaml')).upstreams.get('api')!.clusters[0]!.servers[0]!.port, 80);
    assert.equal(loadConfigFile(join(dir, 'c.json')).upstreams.get('api')!.clusters[0]!.servers[0]!.port, 8080);
  });

  it('a JSON syntax error and an unreadable file are clear errors', () => {
    writeFileSync(join(dir, 'bad.json'), '{"upstreams": ');
    assert.throws(() => loadConfigFile(join(dir, 'bad.json')), /bad\.json: 1 error, nothing loaded/);
    assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), /cannot read config .*missing\.yaml/);
  });

  it('the error message lists every problem', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'upstreams:\n  a:\n    typ: nope\n    cluster: [{servers: [{host: x, port: 0}]}]\n');
    assert.throws(() => loadConfigFile(join(dir, 'bad.yaml')), (err: unknown) => {
      assert.ok(err instanceof CheckupsError);
      assert.match(err.message, /2 errors, nothing loaded:\n {2}upstreams\.a\.typ: .*\n {2}upstreams\.a\.cluster\[0\]\.servers\[0\]\.port: /);
      return true;
    });
  });
});

describe('upstream updates (update_upstream)', () => {
  it('rejects empty levels and bad skeys, with paths under the given prefix', () => {
    const res = parseUpstream('bad skey', { cluster: { 1: { servers: [] }, dc1: {} } }, ['upstream']);
    assert.equal(res.ok, false);
    assert.deepEqual(res.ok ? [] : res.errors, [
      'skey: upstream names (skeys) use letters, digits, _ . - (1..128)',
      'upstream.cluster.1.servers: must list at least one server in an update',
      'upstream.cluster.dc1.servers: must list at least one server in an update',
    ]);
  });

  it('an update with no levels is refused, like the original refuses an empty upstream', () => {
    for (const cluster of [{}, []]) {
      const res = parseUpstream('a', { cluster }, ['upstream']);
      assert.equal(res.ok, false);
      assert.match(res.ok ? '' : res.errors.join('\n'), /^upstream\.cluster: an update must list at least one level with servers .*can not set empty upstream/);
    }
    // A file may still declare an upstream with no levels (state read back keeps it too).
    assert.ok(parseUpstream('a', { cluster: {} }, [], { requireServers: false }).ok);
  });

  it('slow start: off by default; a bad window, aggression or floor is refused with its path, nothing loaded', () => {
    assert.deepEqual(config(minimal).upstreams.get('api')!.slowStart, { windowMs: 0, aggression: 1, minWeightPercent: 10 });
    const on = config({ upstreams: { api: { ...minimal.upstreams.api, slow_start: 30, slow_start_aggression: 2, slow_start_min_weight_percent: 0 } } });
    assert.deepEqual(on.upstreams.get('api')!.slowStart, { windowMs: 30_000, aggression: 2, minWeightPercent: 0 });
    const bad = (extra: Record<string, unknown>) => errorsOf({ upstreams: { api: { ...minimal.upstreams.api, ...extra } } });
    // The window follows the one duration rule of the config (schema.ts `seconds`).
    assert.deepEqual(bad({ slow_start: -1 }), ['upstreams.api.slow_start: must be at least 0.001 (1 ms), or 0']);
    assert.deepEqual(bad({ slow_start: 0.0001 }), ['upstreams.api.slow_start: must be at least 0.001 (1 ms), or 0']);
    assert.deepEqual(bad({ slow_start: 3_000_000 }), ['upstreams.api.slow_start: must be at most 2147483 (about 24.8 days, the longest timer)']);
    assert.match(bad({ slow_start: '30s' })[0]!, /^upstreams\.api\.slow_start: must be a number of seconds/);
    assert.deepEqual(bad({ slow_start_aggression: 0 }), ['upstreams.api.slow_start_aggression: must be a number greater than 0 and at most 100']);
    assert.deepEqual(bad({ slow_start_aggression: 101 }), ['upstreams.api.slow_start_aggression: must be a number greater than 0 and at most 100']);
    assert.match(bad({ slow_start_aggression: 'fast' })[0]!, /^upstreams\.api\.slow_start_aggression: must be a number greater than 0/);
    assert.deepEqual(bad({ slow_start_min_weight_percent: -5 }), ['upstreams.api.slow_start_min_weight_percent: must be a number 0..100']);
    assert.deepEqual(bad({ slow_start_min_weight_percent: 100.5 }), ['upstreams.api.slow_start_min_weight_percent: must be a number 0..100']);
  });

  it('accepts weights up to 2^31-1 (the original\'s full range) and no more', () => {
    assert.ok(parseUpstream('a', { cluster: [{ servers: [{ host: 'h', port: 1, weight: 3_200_000 }, { host: 'g', port: 1, weight: 2 ** 31 - 1 }] }] }).ok);
    const res = parseUpstream('a', { cluster: [{ servers: [{ host: 'h', port: 1, weight: 2 ** 31 }] }] });
    assert.deepEqual(res.ok ? [] : res.errors, ['cluster[0].servers[0].weight: must be an integer 1..2147483647']);
  });

  it('serialises back to a document that validates to the same spec', () => {
    const spec = config({
      upstreams: {
        a: {
          typ: 'http',
          mode: 'hash',
          try: 2,
          try_timeout: 0.25,
          http_opts: { statuses: { '502': false }, https: true, body_match: 'ok' },
          rise: 3,
          unhealthy_interval: 1,
          slow_start: 30,
          slow_start_aggression: 1.5,
          slow_start_min_weight_percent: 25,
          flap_threshold: 4,
          flap_window: 20,
          flap_penalty: 5,
          flap_penalty_max: 80,
          redis_opts: { db: 1 },
          grpc_opts: { service: 's' },
          cluster: { 1: { servers: [{ host: 'h', port: 1, weight: 3, max_fails: 2, fail_timeout: 1.5, down: true }] }, dc: { servers: [{ host: 'g', port: 2 }] } },
        },
      },
    }).upstreams.get('a')!;
    const again = parseUpstream('a', upstreamToRaw(spec));
    assert.ok(again.ok);
    assert.deepEqual(again.ok && again.value, spec);
  });
});
