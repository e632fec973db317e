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
 * ms, which every other call waited for (issue 15). Put together again, an entry looks only at
 * the peers the upstream names as written since (`peersTouchedSince`; for GetStatus also the
 * engine's count changes), not at every peer to find them. The framed upstream is written in one
 * go at its final size (sizes first, then the bytes; GetStatus writes it straight into its
 * page), not built up by a protobuf writer that copies the upstream once per nesting level.
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
import { serverPeerId } from '../core/model.ts';
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

/** What an upstream's clusters fix for its messages: the servers they list, in order, and the clusters' heads. */
interface Listing {
  readonly clusters: readonly ClusterSpec[];
  readonly servers: readonly ServerSpec[];
  /** Per listed server: the index of its cluster. */
  readonly clusterOf: Int32Array;
  /** Per peer: its listed servers' indexes (a peer may be listed in several clusters). */
  readonly indexes: ReadonlyMap<PeerId, readonly number[]>;
  readonly clusterHeads: readonly Uint8Array[];
}

/**
 * One upstream's message as last put together: per listed server what its peer message was made
 * from and its bytes, and each cluster's size. `marks` say what state of the upstream it shows
 * (see UpstreamParts.entry).
 */
interface Layout<P, M> {
  readonly listing: Listing;
  readonly inputs: P[];
  readonly bytes: Uint8Array[];
  /** Per cluster: its message's size (head and peers). */
  readonly clusterSizes: number[];
  marks: M;
}

/** Bytes of known size, written on demand (see UpstreamParts.write). */
export interface EntryBytes {
  readonly size: number;
  /** Writes the bytes at `at` in `out` (which has room for them); returns the position after them. */
  writeTo(out: Uint8Array, at: number): number;
}

/** `bytes` as EntryBytes. */
export function entryBytesOf(bytes: Uint8Array): EntryBytes {
  return {
    size: bytes.length,
    writeTo(out, at) {
      out.set(bytes, at);
      return at + bytes.length;
    },
  };
}

/** The entry in a buffer of its own. */
export function entryBuffer(entry: EntryBytes): Buffer {
  const out = Buffer.allocUnsafe(entry.size);
  entry.writeTo(out, 0);
  return out;
}

/**
 * One upstream message kind: `<response>.upstreams` entries of `<upstream>` messages whose
 * `clusters` hold `<cluster>` messages whose `peers` hold `<peer>` messages.
 */
class UpstreamParts<P extends PeerInputs, M> {
  private readonly upstream: protobuf.Type;
  private readonly cluster: protobuf.Type;
  private readonly peer: protobuf.Type;
  private readonly upstreamsTag: number;
  private readonly clustersTag: number;
  private readonly peersTag: number;
  /** Per server entry: the inputs last encoded and their bytes (gone with the spec that held it). */
  private readonly kept = new WeakMap<ServerSpec, { inputs: P; bytes: Uint8Array }>();
  /** Per upstream (the registry's entry, gone with it): its message as last put together. */
  private readonly layouts = new WeakMap<object, Layout<P, M>>();
  /** Per clusters list (a spec's: replaced, never changed): its listing. */
  private readonly listings = new WeakMap<readonly ClusterSpec[], Listing>();
  peerEncodes = 0;
  /** Peers looked at again (their inputs read and compared) so far: grows with the peers that changed when the upstream can say which. */
  peerReads = 0;

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

  /**
   * The entry of upstream `owner` (the registry's entry for it). `marks` say what state of the
   * upstream the message shows; `changedSince(marks of the last message)` names the peers that
   * may differ since (undefined: not known). With the same clusters as last time and a list of
   * changes, only those peers are looked at again; otherwise every one is (still encoding only
   * those whose inputs changed). Either way the entry is then written out whole.
   */
  entry(
    owner: object,
    head: object,
    clusters: readonly ClusterSpec[],
    clusterHead: (c: ClusterSpec) => object,
    inputs: (s: ServerSpec) => P,
    marks: M,
    changedSince: (marks: M) => Iterable<PeerId> | undefined,
  ): EntryBytes {
    let layout = this.layouts.get(owner);
    if (layout === undefined || layout.listing.clusters !== clusters) {
      layout = this.layout(this.listing(clusters, clusterHead), inputs, marks);
      this.layouts.set(owner, layout);
    } else {
      const { servers, indexes } = layout.listing;
      const changed = changedSince(layout.marks);
      if (changed === undefined) for (let i = 0; i < servers.length; i++) this.update(layout, i, inputs(servers[i]!));
      else for (const id of changed) for (const i of indexes.get(id) ?? []) this.update(layout, i, inputs(servers[i]!));
      layout.marks = marks;
    }
    return this.write(this.upstream.encode(this.upstream.fromObject(head)).finish(), layout);
  }

  private listing(clusters: readonly ClusterSpec[], clusterHead: (c: ClusterSpec) => object): Listing {
    let listing = this.listings.get(clusters);
    if (listing !== undefined) return listing;
    const servers: ServerSpec[] = [];
    const clusterIndexes: number[] = [];
    const indexes = new Map<PeerId, number[]>();
    clusters.forEach((c, ci) => {
      for (const s of c.servers) {
        const id = serverPeerId(s);
        const at = indexes.get(id);
        if (at === undefined) indexes.set(id, [servers.length]);
        else at.push(servers.length);
        servers.push(s);
        clusterIndexes.push(ci);
      }
    });
    const clusterHeads = clusters.map((c) => this.cluster.encode(this.cluster.fromObject(clusterHead(c))).finish());
    listing = { clusters, servers, clusterOf: Int32Array.from(clusterIndexes), indexes, clusterHeads };
    this.listings.set(clusters, listing);
    return listing;
  }

  /** Every listed server's peer message, from kept bytes where its inputs did not change. */
  private layout(listing: Listing, inputs: (s: ServerSpec) => P, marks: M): Layout<P, M> {
    const peerInputs: P[] = [];
    const bytes: Uint8Array[] = [];
    const clusterSizes = listing.clusterHeads.map((h) => h.length);
    listing.servers.forEach((s, i) => {
      const p = inputs(s);
      this.peerReads++;
      const b = this.peerBytes(p);
      peerInputs.push(p);
      bytes.push(b);
      clusterSizes[listing.clusterOf[i]!]! += fieldSize(this.peersTag, b.length);
    });
    return { listing, inputs: peerInputs, bytes, clusterSizes, marks };
  }

  /** Listed server `i` with inputs `p`: its bytes and its cluster's size follow when they differ. */
  private update(layout: Layout<P, M>, i: number, p: P): void {
    this.peerReads++;
    if (this.same(layout.inputs[i]!, p)) return;
    const bytes = this.peerBytes(p);
    layout.clusterSizes[layout.listing.clusterOf[i]!]! += fieldSize(this.peersTag, bytes.length) - fieldSize(this.peersTag, layout.bytes[i]!.length);
    layout.bytes[i] = bytes;
    layout.inputs[i] = p;
  }

  /**
   * The entry, sized, to be written where its reader wants it (GetStatus: straight into the
   * page, no buffer of its own). It holds its own copy of the part list: a later call that
   * updates the layout does not change what an earlier entry writes.
   */
  private write(headBytes: Uint8Array, layout: Layout<P, M>): EntryBytes {
    const clusterSizes = layout.clusterSizes.slice();
    const bytes = layout.bytes.slice();
    const { clusterHeads, clusters } = layout.listing;
    const { upstreamsTag, clustersTag, peersTag } = this;
    let upstreamSize = headBytes.length;
    for (const size of clusterSizes) upstreamSize += fieldSize(clustersTag, size);
    return {
      size: fieldSize(upstreamsTag, upstreamSize),
      writeTo(out: Uint8Array, at: number): number {
        let pos = writeVarint(out, writeVarint(out, at, upstreamsTag), upstreamSize);
        out.set(headBytes, pos);
        pos += headBytes.length;
        let k = 0;
        for (let c = 0; c < clusterHeads.length; c++) {
          const h = clusterHeads[c]!;
          pos = writeVarint(out, writeVarint(out, pos, clustersTag), clusterSizes[c]!);
          out.set(h, pos);
          pos += h.length;
          for (let n = clusters[c]!.servers.length; n > 0; n--) pos = writeField(out, pos, peersTag, bytes[k++]!);
        }
        return pos;
      },
    };
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
  private readonly parts = new UpstreamParts<PeerInputs, number | undefined>({ response: 'WatchResponse', upstream: 'UpstreamSnapshot', cluster: 'ClusterState', peer: 'Peer' }, peerToWire, samePeer);

  /** Peer messages encoded so far: grows with the peers that changed, not with upstream sizes. */
  get peerEncodes(): number {
    return this.parts.peerEncodes;
  }

  /** Peers looked at again so far (see UpstreamParts.peerReads). */
  get peerReads(): number {
    return this.parts.peerReads;
  }

  /** One upstream as a `WatchResponse.upstreams` entry (a WatchResponse holding only it), written where the message is. */
  entry(u: UpstreamState): EntryBytes {
    return this.parts.entry(u, snapshotHeadToWire(u), u.spec.clusters, clusterHeadToWire, (s) => peerInputs(u, s), u.peersRevision, (since) =>
      // A ramp ends by time alone, with no write that names the peer: with slow start on, every peer is looked at.
      since === undefined || u.spec.slowStart.windowMs > 0 ? undefined : u.peersTouchedSince?.(since),
    );
  }
}

/** What one kept GetStatus entry was made from: the same again means the same bytes. */
interface KeptStatus {
  readonly spec: UpstreamState['spec'];
  readonly version: number;
  readonly heartbeat: boolean;
  readonly peersRevision: number;
  readonly countedRevision: number;
  readonly bytes: EntryBytes;
}

/** GetStatus upstreams, as `GetStatusResponse.upstreams` entries. */
export class UpstreamStatusEncoder {
  private readonly parts = new UpstreamParts<PeerStatusInputs, { readonly peers?: number; readonly counted?: number }>(
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

  /** Peers looked at again so far (see UpstreamParts.peerReads). */
  get peerReads(): number {
    return this.parts.peerReads;
  }

  /**
   * One upstream as a `GetStatusResponse.upstreams` entry; `countedHere`: this process's failure
   * counts. With `countedRevision` (the engine's passiveRevision for the upstream) and an upstream
   * that has `peersRevision`, the entry is kept and given again while neither they nor the spec,
   * version and heartbeat changed; without, it is put together on every call. Put together again,
   * it looks only at the peers written since (the upstream's peersTouchedSince) and those whose
   * count may have changed (`countsChangedSince(countedRevision of the last entry)`), when both
   * can say.
   */
  entry(u: UpstreamState, countedHere: (id: PeerId) => number, countedRevision?: number, countsChangedSince?: (revision: number) => Iterable<PeerId> | undefined): EntryBytes {
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
    const marks = { ...(peersRevision !== undefined ? { peers: peersRevision } : {}), ...(countedRevision !== undefined ? { counted: countedRevision } : {}) };
    const bytes = this.parts.entry(u, upstreamStatusHeadToWire(u), u.spec.clusters, clusterStatusHeadToWire, (s) => peerStatusInputs(u, s, countedHere), marks, (since) => {
      if (since.peers === undefined || since.counted === undefined || countsChangedSince === undefined) return undefined;
      const touched = u.peersTouchedSince?.(since.peers);
      const counted = countsChangedSince(since.counted);
      return touched === undefined || counted === undefined ? undefined : [...touched, ...counted];
    });
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
