/**
 * The wire layer both ways: a spec survives encode -> protobuf bytes -> decode unchanged, the
 * status table is a bijection, and errors keep their stable code through a status.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/validate.ts';
import { HEARTBEAT_STATUSES, type PassiveVerdict, type PeerHealth, type PeerId } from '../../src/core/model.ts';
import type { WatchResponse, WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { CheckupsError, type CheckupsErrorCode } from '../../src/util/errors.ts';
import { errorFromWire, errorToWire, pushbackMs } from '../../src/wire/errors.ts';
import { retryDelayMs } from '../../src/client/watch-connection.ts';
import { packageDefinition } from '../../src/wire/proto.ts';
import { snapshotReport } from '../../src/wire/report.ts';
import { healthFromWire, healthToWire, passiveFromWire, passiveToWire } from '../../src/wire/status.ts';
import { clusterStatusesToWire, snapshotFromWire, snapshotToWire, upstreamStatusHeadToWire, type UpstreamState } from '../../src/wire/upstream.ts';
import { entryBuffer, SnapshotEncoder, UpstreamStatusEncoder } from '../../src/wire/upstream-encoding.ts';

const watch = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['Watch']!;
const getStatus = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['GetStatus']!;
const roundTrip = (m: WatchResponse): WatchResponse__Output => watch.responseDeserialize(watch.responseSerialize(m)) as WatchResponse__Output;

const CONFIG = {
  upstreams: {
    api: {
      typ: 'http',
      timeout: 2.5,
      read_timeout: 7,
      http_opts: { query: 'GET /status HTTP/1.1\r\nHost: x\r\n\r\n', statuses: { '502': false }, body_match: 'ok' },
      sensibility: 3,
      rise: 2,
      protected: false,
      mode: 'hash',
      try: 4,
      try_timeout: 1.5,
      cluster: {
        '1': { servers: [{ host: '10.0.0.1', port: 80, weight: 3, max_fails: 2, fail_timeout: 4.5 }, { host: '::1', port: 81, down: true }], try: 2 },
        '2': { servers: [{ host: 'b.example', port: 8080 }] },
        dc1: { servers: [{ host: '10.0.0.1', port: 80 }] },
      },
    },
  },
};

describe('wire layer', () => {
  it('Watch snapshots and GetStatus upstreams encoded in parts are the same messages: across health, passive, ramp, count and spec changes, re-encoding changed peers only', () => {
    const parsed = parseConfig(CONFIG);
    assert.ok(parsed.ok);
    const spec = parsed.value.upstreams.get('api')!;
    const health = new Map<PeerId, PeerHealth>();
    const passive = new Map<PeerId, PassiveVerdict>();
    const ramps = new Map<PeerId, number>();
    let state: UpstreamState = { spec, version: 1, heartbeat: true, health: (id) => health.get(id), passive: (id) => passive.get(id), rampStart: (id) => ramps.get(id) };
    const encoder = new SnapshotEncoder();
    const statusEncoder = new UpstreamStatusEncoder();
    const counts = new Map<PeerId, number>();
    const countedHere = (id: PeerId) => counts.get(id) ?? 0;
    const same = (what: string) => {
      assert.deepEqual(watch.responseDeserialize(entryBuffer(encoder.entry(state))), watch.responseDeserialize(watch.responseSerialize({ upstreams: [snapshotToWire(state)] })), what);
      const whole = getStatus.responseSerialize({ upstreams: [{ ...upstreamStatusHeadToWire(state), clusters: clusterStatusesToWire(state, countedHere) }] });
      assert.deepEqual(getStatus.responseDeserialize(entryBuffer(statusEncoder.entry(state, countedHere))), getStatus.responseDeserialize(whole), `${what} (GetStatus)`);
    };
    same('first encode');
    assert.equal(encoder.peerEncodes, 4, 'every peer entry once');
    health.set('10.0.0.1:80', { status: 'err', failNum: 3, lastModified: 1234, msg: 'refused', extras: { role: 'master' }, protection: { reason: 'last' }, dampedUntil: 9, flaps: 2 });
    same('a health change');
    assert.equal(encoder.peerEncodes, 6, 'the peer listed twice (levels 1 and dc1), nothing else');
    passive.set('[::1]:81', { failedCount: 5, untilWall: 99_000 });
    ramps.set('b.example:8080', 777.9);
    same('a passive verdict and a ramp');
    assert.equal(encoder.peerEncodes, 8);
    same('nothing changed');
    assert.equal(encoder.peerEncodes, 8);
    assert.equal(statusEncoder.peerEncodes, 7, 'GetStatus: the ramp is not part of a status');
    counts.set('[::1]:81', 7);
    same("this process's own count");
    assert.equal(statusEncoder.peerEncodes, 8);
    state = { ...state, version: 2, heartbeat: false };
    same('heartbeat off: every health reads unchecked');
    state = { ...state, spec: { ...spec, clusters: spec.clusters.map((c) => ({ ...c, servers: c.servers.map((x) => ({ ...x, weight: x.weight + 1 })) })) } };
    same('a new spec');
  });

  it('a spec and its health travel through protobuf bytes and decode to the same model', () => {
    const parsed = parseConfig(CONFIG);
    assert.ok(parsed.ok);
    const spec = parsed.value.upstreams.get('api')!;
    const health = new Map<PeerId, PeerHealth>([['10.0.0.1:80', { status: 'err', failNum: 3, lastModified: 1234, msg: 'connection refused', extras: { role: 'master' } }]]);
    const passive = new Map<PeerId, PassiveVerdict>([['[::1]:81', { failedCount: 5, untilWall: 99_000 }]]);
    const state = { spec, version: 42, heartbeat: true, health: (id: PeerId) => health.get(id), passive: (id: PeerId) => passive.get(id) };
    const [wire] = roundTrip({ upstreams: [snapshotToWire(state)] }).upstreams;
    const decoded = snapshotFromWire(wire!);
    assert.deepEqual(decoded.spec, spec);
    assert.deepEqual([...decoded.health], [...health]);
    assert.deepEqual([...decoded.passive], [...passive]);
    assert.equal(decoded.version, 42);
    // Same configuration at a newer version (health only): the spec object is kept.
    const again = snapshotFromWire(roundTrip({ upstreams: [snapshotToWire({ ...state, version: 43 })] }).upstreams[0]!, decoded);
    assert.equal(again.spec, decoded.spec);
    // ... a changed weight gives a new one.
    const heavier = { ...spec, clusters: spec.clusters.map((c, i) => (i === 0 ? { ...c, servers: [{ ...c.servers[0]!, weight: 9 }, ...c.servers.slice(1)] } : c)) };
    assert.notEqual(snapshotFromWire(roundTrip({ upstreams: [snapshotToWire({ ...state, spec: heavier })] }).upstreams[0]!, decoded).spec, decoded.spec);
    // The vocabulary: config names and units, short status words.
    const report = snapshotReport(decoded);
    assert.deepEqual(report.clusters[0]!.peers[0], {
      host: '10.0.0.1', port: 80, weight: 3, max_fails: 2, fail_timeout: 4.5, down: false,
      status: 'err', fail_num: 3, msg: 'connection refused', last_modified_ms: 1234, extras: { role: 'master' },
      passive: { status: 'ok', failed_count: 0, until_ms: 0 },
    });
    assert.equal(report.clusters[0]!.peers[1]!.status, 'unchecked');
    assert.deepEqual(report.clusters[0]!.peers[1]!.passive, { status: 'err', failed_count: 5, until_ms: 99_000 });
  });

  it('heartbeat off: every peer travels unchecked', () => {
    const parsed = parseConfig(CONFIG);
    assert.ok(parsed.ok);
    const spec = parsed.value.upstreams.get('api')!;
    const wire = snapshotToWire({ spec, version: 1, heartbeat: false, health: () => ({ status: 'err', failNum: 1, lastModified: 1, msg: 'x' }), passive: () => undefined });
    assert.equal(snapshotFromWire(roundTrip({ upstreams: [wire] }).upstreams[0]!).health.size, 0);
  });

  it('one status table, both ways', () => {
    for (const s of HEARTBEAT_STATUSES) assert.equal(healthFromWire(healthToWire(s)), s);
    assert.equal(new Set(HEARTBEAT_STATUSES.map(healthToWire)).size, HEARTBEAT_STATUSES.length);
    assert.equal(healthFromWire('HEALTH_STATUS_UNSPECIFIED'), 'unchecked');
    for (const s of ['ok', 'err'] as const) assert.equal(passiveFromWire(passiveToWire(s)), s);
  });

  it('errors keep their code and problem list through a status; transport failures are classified without text', () => {
    const codes: CheckupsErrorCode[] = ['UNKNOWN_SKEY', 'NO_SERVERS_AVAILABLE', 'INVALID_CONFIG', 'UNAUTHENTICATED', 'FAILED_PRECONDITION'];
    for (const code of codes) {
      const sent = errorToWire(new CheckupsError(code, `message of ${code}`, code === 'INVALID_CONFIG' ? ['a.b: must be a number', 'ü: unknown field'] : []));
      const got = errorFromWire(sent, '127.0.0.1:1', true);
      assert.equal(got.code, code);
      assert.equal(got.message, `message of ${code}`);
      assert.deepEqual(got.details, code === 'INVALID_CONFIG' ? ['a.b: must be a number', 'ü: unknown field'] : []);
    }
    const bare = (code: grpc.status, details: string): grpc.ServiceError => Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
    // Same status as NO_SERVERS_AVAILABLE, but no trailer: it came from the transport.
    assert.equal(errorFromWire(bare(grpc.status.UNAVAILABLE, 'No connection established'), 'h:1', false).code, 'SERVER_UNAVAILABLE');
    assert.equal(errorFromWire(bare(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'h:1', false).code, 'SERVER_UNAVAILABLE');
    assert.equal(errorFromWire(bare(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'h:1', true).code, 'TIMEOUT');
    assert.equal(errorToWire(new Error('boom')).metadata.get('checkups-error-code')[0], 'INTERNAL');
  });

  it("a refusal's place in line travels in grpc-retry-pushback-ms; the SDK waits for it (plus up to a tenth), never less than its backoff", () => {
    const sent = errorToWire(new CheckupsError('SERVER_UNAVAILABLE', 'too many new streams', [], { retryAfterMs: 1234.2 }));
    assert.equal(sent.metadata.get('grpc-retry-pushback-ms')[0], '1235');
    assert.equal(pushbackMs(sent.metadata), 1235);
    assert.equal(errorFromWire(sent, 'h:1', true).retryAfterMs, 1235);
    assert.equal(pushbackMs(errorToWire(new CheckupsError('SERVER_UNAVAILABLE', 'x')).metadata), undefined);
    for (const bad of ['-5', '1.5', 'soon', '']) {
      const md = new grpc.Metadata();
      md.set('grpc-retry-pushback-ms', bad);
      assert.equal(pushbackMs(md), undefined, bad);
    }
    // Backoff alone: a uniform draw below 100 ms x 2^attempt.
    assert.equal(retryDelayMs(3, () => 0.5, undefined), 400);
    // With a pushback: that, plus the draw's tenth of it.
    assert.equal(retryDelayMs(0, () => 0.5, 2000), 2100);
    // A backoff longer than the pushback wins.
    assert.equal(retryDelayMs(10, () => 0.5, 10), 5000 * 0.5);
  });
});
