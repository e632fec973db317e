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
 * ms, which every other call waited for (issue 15). The framed upstream is written into one
 * buffer of its final size (sizes first, then the bytes), not built up by a protobuf writer that
 * copies the upstream once per nesting level.
 *
 * GetStatus also keeps each upstream's whole entry: it is the same bytes while the upstream's
 * spec, version, heartbeat, peer records (the registry's `peersRevision`) and this process's
 * failure counts (the engine's `passiveRevision`) are, and the timing loop of the fleet bench
 * sends one every 5 ms for an upstream of 10,000 peers (about 1 MB).
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

/** Bytes of `n` (0..2^32-1) as a protobuf varint. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes `n` as a varint at `pos`; returns the position after it. */
function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

/** Writes a length-delimited field (`tag`, then `bytes` with their length) at `pos`. */
function writeField(out: Uint8Array, pos: number, tag: number, bytes: Uint8Array): number {
  pos = writeVarint(out, writeVarint(out, pos, tag), bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** Size of a length-delimited field of `len` bytes under `tag`. */
function fieldSize(tag: number, len: number): number {
  return varintSize(tag) + varintSize(len) + len;
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
    // Sizes first (every part is kept bytes or encoded here once), then one buffer of the final size.
    const headBytes = this.upstream.encode(this.upstream.fromObject(head)).finish();
    const clusterHeads: Uint8Array[] = [];
    const clusterSizes: number[] = [];
    const peers: Uint8Array[] = [];
    let upstreamSize = headBytes.length;
    for (const c of clusters) {
      const h = this.cluster.encode(this.cluster.fromObject(clusterHead(c))).finish();
      let size = h.length;
      for (const s of c.servers) {
        const bytes = this.peerBytes(inputs(s));
        peers.push(bytes);
        size += fieldSize(this.peersTag, bytes.length);
      }
      clusterHeads.push(h);
      clusterSizes.push(size);
      upstreamSize += fieldSize(this.clustersTag, size);
    }
    const out = Buffer.allocUnsafe(fieldSize(this.upstreamsTag, upstreamSize));
    let pos = writeVarint(out, writeVarint(out, 0, this.upstreamsTag), upstreamSize);
    out.set(headBytes, pos);
    pos += headBytes.length;
    let k = 0;
    for (let i = 0; i < clusters.length; i++) {
      const h = clusterHeads[i]!;
      pos = writeVarint(out, writeVarint(out, pos, this.clustersTag), clusterSizes[i]!);
      out.set(h, pos);
      pos += h.length;
      for (let n = clusters[i]!.servers.length; n > 0; n--) pos = writeField(out, pos, this.peersTag, peers[k++]!);
    }
    return out;
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

/** What one kept GetStatus entry was made from: the same again means the same bytes. */
interface KeptStatus {
  readonly spec: UpstreamState['spec'];
  readonly version: number;
  readonly heartbeat: boolean;
  readonly peersRevision: number;
  readonly countedRevision: number;
  readonly bytes: Buffer;
}

/** GetStatus upstreams, as `GetStatusResponse.upstreams` entries. */
export class UpstreamStatusEncoder {
  private readonly parts = new UpstreamParts<PeerStatusInputs>(
    { response: 'GetStatusResponse', upstream: 'UpstreamStatus', cluster: 'ClusterStatus', peer: 'PeerStatus' },
    peerStatusToWire,
    (a, b) => samePeer(a, b) && a.countedHere === b.countedHere,
  );
  /** Per upstream (gone with it): its last entry and what it was made from. */
  private readonly kept = new WeakMap<UpstreamState, KeptStatus>();
  /** Entries put together (not reused) so far. */
  entryEncodes = 0;

  /** Peer messages encoded so far. */
  get peerEncodes(): number {
    return this.parts.peerEncodes;
  }

  /**
   * One upstream as a `GetStatusResponse.upstreams` entry; `countedHere`: this process's failure
   * counts. With `countedRevision` (the engine's passiveRevision for the upstream) and an upstream
   * that has `peersRevision`, the entry is kept and given again while neither they nor the spec,
   * version and heartbeat changed; without, it is put together on every call.
   */
  entry(u: UpstreamState, countedHere: (id: PeerId) => number, countedRevision?: number): Buffer {
    const peersRevision = u.peersRevision;
    const kept = this.kept.get(u);
    if (
      kept !== undefined &&
      peersRevision !== undefined &&
      kept.peersRevision === peersRevision &&
      kept.countedRevision === countedRevision &&
      kept.version === u.version &&
      kept.spec === u.spec &&
      kept.heartbeat === u.heartbeat
    ) {
      return kept.bytes;
    }
    const bytes = this.parts.entry(upstreamStatusHeadToWire(u), u.spec.clusters, clusterStatusHeadToWire, (s) => peerStatusInputs(u, s, countedHere));
    this.entryEncodes++;
    if (peersRevision !== undefined && countedRevision !== undefined) this.kept.set(u, { spec: u.spec, version: u.version, heartbeat: u.heartbeat, peersRevision, countedRevision, bytes });
    return bytes;
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
