/**
 * Upstream messages with thousands of peers, encoded in parts: Watch snapshots
 * (`WatchResponse.upstreams` entries) and GetStatus upstreams (`GetStatusResponse.upstreams`
 * entries). A peer's message is encoded once per distinct inputs (upstream.ts PeerInputs: its
 * server entry, health, passive verdict, ramp start — immutable objects the registry replaces,
 * never changes — and for GetStatus this process's own count) and kept; an upstream is its
 * head, each cluster's head and the kept peer bytes, framed. So at 10,000 servers an upstream
 * that churns costs the peers that changed plus a copy, not 10,000 fresh encodes (about 1 MB
 * and as many short-lived objects) each time: the Watch hub encodes it once per coalescing
 * window, GetStatus on every call, and each full encode blocked the event loop for tens of
 * ms, which every other call waited for (issue 15).
 *
 * Same messages as `snapshotToWire` / `clusterStatusesToWire` through the RPC serializers; only
 * the field order differs (`clusters` after the upstream's other fields, as protobuf lets a
 * writer do and every parser accepts).
 */
import protobuf from 'protobufjs';
import type { ClusterSpec, PeerId, ServerSpec } from '../core/model.ts';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.ts';
import { LOADER_OPTIONS, PROTO_FILES } from './proto.ts';
import {
  clusterHeadToWire,
  clusterStatusHeadToWire,
  peerInputs,
  peerStatusInputs,
  peerStatusToWire,
  peerToWire,
  snapshotHeadToWire,
  upstreamStatusHeadToWire,
  type PeerInputs,
  type PeerStatusInputs,
  type UpstreamState,
} from './upstream.ts';

const WIRE_LEN = 2;

/** Tag of a length-delimited field of `type`. */
function lenTag(type: protobuf.Type, field: string): number {
  return (type.fields[field]!.id << 3) | WIRE_LEN;
}

/**
 * One upstream message kind: `<response>.upstreams` entries of `<upstream>` messages whose
 * `clusters` hold `<cluster>` messages whose `peers` hold `<peer>` messages.
 */
class UpstreamParts<P extends PeerInputs> {
  private readonly upstream: protobuf.Type;
  private readonly cluster: protobuf.Type;
  private readonly peer: protobuf.Type;
  private readonly upstreamsTag: number;
  private readonly clustersTag: number;
  private readonly peersTag: number;
  /** Per server entry: the inputs last encoded and their bytes (gone with the spec that held it). */
  private readonly kept = new WeakMap<ServerSpec, { inputs: P; bytes: Uint8Array }>();
  peerEncodes = 0;

  constructor(
    names: { response: string; upstream: string; cluster: string; peer: string },
    private readonly peerMessage: (p: P) => object,
    private readonly same: (a: P, b: P) => boolean,
  ) {
    this.upstream = checkupsMessageType(names.upstream);
    this.cluster = checkupsMessageType(names.cluster);
    this.peer = checkupsMessageType(names.peer);
    this.upstreamsTag = lenTag(checkupsMessageType(names.response), 'upstreams');
    this.clustersTag = lenTag(this.upstream, 'clusters');
    this.peersTag = lenTag(this.cluster, 'peers');
  }

  entry(head: object, clusters: readonly ClusterSpec[], clusterHead: (c: ClusterSpec) => object, inputs: (s: ServerSpec) => P): Buffer {
    const upstream = this.upstream.encode(this.upstream.fromObject(head));
    for (const c of clusters) {
      const cluster = this.cluster.encode(this.cluster.fromObject(clusterHead(c)));
      for (const s of c.servers) cluster.uint32(this.peersTag).bytes(this.peerBytes(inputs(s)));
      upstream.uint32(this.clustersTag).bytes(cluster.finish());
    }
    const out = protobuf.Writer.create().uint32(this.upstreamsTag).bytes(upstream.finish()).finish();
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  private peerBytes(p: P): Uint8Array {
    const kept = this.kept.get(p.server);
    if (kept !== undefined && this.same(kept.inputs, p)) return kept.bytes;
    const bytes = this.peer.encode(this.peer.fromObject(this.peerMessage(p))).finish();
    this.peerEncodes++;
    this.kept.set(p.server, { inputs: p, bytes });
    return bytes;
  }
}

const samePeer = (a: PeerInputs, b: PeerInputs): boolean => a.health === b.health && a.passive === b.passive && a.rampStart === b.rampStart;

/** Watch snapshots, as `WatchResponse.upstreams` entries. */
export class SnapshotEncoder {
  private readonly parts = new UpstreamParts<PeerInputs>({ response: 'WatchResponse', upstream: 'UpstreamSnapshot', cluster: 'ClusterState', peer: 'Peer' }, peerToWire, samePeer);

  /** Peer messages encoded so far: grows with the peers that changed, not with upstream sizes. */
  get peerEncodes(): number {
    return this.parts.peerEncodes;
  }

  /** One upstream as a `WatchResponse.upstreams` entry (a WatchResponse holding only it). */
  entry(u: UpstreamState): Buffer {
    return this.parts.entry(snapshotHeadToWire(u), u.spec.clusters, clusterHeadToWire, (s) => peerInputs(u, s));
  }
}

/** GetStatus upstreams, as `GetStatusResponse.upstreams` entries. */
export class UpstreamStatusEncoder {
  private readonly parts = new UpstreamParts<PeerStatusInputs>(
    { response: 'GetStatusResponse', upstream: 'UpstreamStatus', cluster: 'ClusterStatus', peer: 'PeerStatus' },
    peerStatusToWire,
    (a, b) => samePeer(a, b) && a.countedHere === b.countedHere,
  );

  /** Peer messages encoded so far. */
  get peerEncodes(): number {
    return this.parts.peerEncodes;
  }

  /** One upstream as a `GetStatusResponse.upstreams` entry; `countedHere`: this process's failure counts. */
  entry(u: UpstreamState, countedHere: (id: PeerId) => number): Buffer {
    return this.parts.entry(upstreamStatusHeadToWire(u), u.spec.clusters, clusterStatusHeadToWire, (s) => peerStatusInputs(u, s, countedHere));
  }
}

let root: protobuf.Root | undefined;

/**
 * One checkups.v1 message type (`Peer`, `ClusterState`...) as protobufjs loads it for
 * proto-loader, with the same options: for encoding a message in parts (upstream-encoding.ts),
 * where proto-loader only serializes whole RPC messages. Same bytes as the RPC serializers.
 * Here, not in proto.ts: only the server encodes in parts, and the SDK (which imports proto.ts)
 * depends on @grpc/grpc-js and @grpc/proto-loader alone.
 */
function checkupsMessageType(name: string): protobuf.Type {
  if (root === undefined) {
    const loaded = new protobuf.Root();
    const dir = join(packageRoot(), 'proto');
    loaded.resolvePath = (_origin, target) => join(dir, target);
    loaded.loadSync(PROTO_FILES, { keepCase: LOADER_OPTIONS.keepCase ?? false });
    loaded.resolveAll();
    root = loaded;
  }
  return root.lookupType(`checkups.v1.${name}`);
}
