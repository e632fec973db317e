/**
 * checkups.v1.DiscoveryService: Watch (WatchHub), SelectPeer / Feedback / GetUpsTimeout (the
 * SelectionEngine, exactly as in process) and GetStatus.
 *
 * Every call is authenticated first (auth.ts): Feedback and FeedbackBatch need the feedback
 * right, the rest the read right. Reported outcomes then pass the feedback limits
 * (feedback-limiter.ts) before they reach the engine; a FeedbackBatch's are applied a chunk per
 * turn of the event loop, batch after batch (outcome-applier.ts), so calls arriving meanwhile
 * are answered between chunks.
 */
import * as grpc from '@grpc/grpc-js';
import type { SelectionEngine } from '../../balance/selection-engine.ts';
import type { PeerId } from '../../core/model.ts';
import type { UpstreamRegistry } from '../../core/registry.ts';
import type { DiscoveryServiceHandlers } from '../../generated/checkups/v1/DiscoveryService.ts';
import type { FeedbackBatchResponse } from '../../generated/checkups/v1/FeedbackBatchResponse.ts';
import type { GetStatusRequest__Output } from '../../generated/checkups/v1/GetStatusRequest.ts';
import type { GetStatusResponse } from '../../generated/checkups/v1/GetStatusResponse.ts';
import type { XdsNodeStatus } from '../../generated/checkups/v1/XdsNodeStatus.ts';
import type { HealthChecker } from '../../health/health-checker.ts';
import type { NodeStatus, XdsNodeSource } from '../xds/status.ts';
import { feedbackOutcomes } from '../../observability/metrics.ts';
import type { Clock } from '../../util/clock.ts';
import { CheckupsError } from '../../util/errors.ts';
import { errorToWire } from '../../wire/errors.ts';
import { entryBytesOf, UpstreamStatusEncoder, type EntryBytes } from '../../wire/upstream-encoding.ts';
import { healthToWire } from '../../wire/status.ts';
import type { WatchHub } from './watch.ts';
import { boundedList, clip } from '../../util/bounded-text.ts';
import { peerId } from '../../core/model.ts';
import { callerOf, type FeedbackLimiter } from '../feedback-limiter.ts';
import type { OutcomeApplier } from '../outcome-applier.ts';
import type { Authenticator, Right } from './auth.ts';
import type { StreamAdmission } from '../stream-admission.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../response-limit.ts';
import type { ChangeStore } from '../../core/store/change-store.ts';
import type { StoreStatus } from '../../generated/checkups/v1/StoreStatus.ts';

export interface DiscoveryDeps {
  readonly registry: UpstreamRegistry;
  readonly engine: SelectionEngine;
  readonly watch: WatchHub;
  readonly checker: HealthChecker | undefined;
  readonly clock: Clock;
  readonly startedAt: number;
  /** The server's checkups version (GetStatus.server_version). */
  readonly version: string;
  /** xDS node status (CSDS-like), when the xDS server runs: connected nodes first, not copied (read at once). */
  readonly xdsNodes?: XdsNodeSource;
  /** Encodes a GetStatusResponse (the method's serializer; GetStatus answers with bytes). */
  readonly encodeStatus: StatusEncoder;
  /** Largest GetStatus response, bytes (default DEFAULT_MAX_RESPONSE_BYTES). */
  readonly maxResponseBytes?: number;
  readonly auth: Authenticator;
  readonly feedbackLimiter: FeedbackLimiter;
  /** Applies FeedbackBatch outcomes in chunks, batch after batch. */
  readonly outcomes: OutcomeApplier;
  /** Admits new Watch streams at a bounded rate (stream-admission.ts); none: every one. */
  readonly admission?: Pick<StreamAdmission, 'admit'>;
  /** The store of admin changes, for its sync state. */
  readonly store?: Pick<ChangeStore, 'kind' | 'location' | 'syncState'>;
}

export type StatusEncoder = (message: GetStatusResponse) => Buffer;

/** Room left for the fields after the upstreams (checker, revision, versions, page token). */
const TRAILER_RESERVE = 1024;
/** xDS nodes take at most this share of the first page. */
const XDS_NODES_SHARE = 0.25;
const MAX_PAGE_TOKEN_CHARS = 512;

/** Wraps a synchronous unary handler: thrown errors become gRPC statuses. */
export function unary<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      callback(null, fn(call.request));
    } catch (err) {
      callback(errorToWire(err));
    }
  };
}

/** Like `unary`, after the caller proved `right`; `fn` also gets the caller (feedback limits). */
function authorized<Req, Res>(auth: Authenticator, right: Right, fn: (req: Req, caller: string) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      const actor = auth.check(call, right);
      const res = fn(call.request, callerOf(actor));
      if (res instanceof Promise) res.then((r) => callback(null, r), (err: unknown) => callback(errorToWire(err)));
      else callback(null, res);
    } catch (err) {
      callback(errorToWire(err));
    }
  };
}

/** Why a failure was not counted (per-peer feedback limit), for messages. */
function peerLimitMessage(skey: string, peer: string, perCaller: number, failures = 1): string {
  return `${clip(skey)} ${clip(peer)}: ${failures === 1 ? 'failure' : `${failures} failures`} not counted: this caller's failures alone already brought ${perCaller === 1 ? 'another peer' : `${perCaller} other peers`} of the upstream to max_fails within fail_timeout, the most one caller may (server.feedback.peers_per_caller: ${perCaller}); failures other callers report still count`;
}

/** This process's count of failures in a peer's current passive window (GetStatus, GetServers). */
export function countedHere(engine: SelectionEngine, skey: string): (id: PeerId) => number {
  return (id) => engine.passive(skey, id)?.failedCount ?? 0;
}

function requireSkey(skey: string): string {
  if (skey === '') throw new CheckupsError('INVALID_ARGUMENT', 'skey: is required');
  return skey;
}

/** A GetStatus response as the byte strings it is made of, in order (a protobuf message's fields concatenate). */
export interface StatusPage {
  readonly parts: readonly EntryBytes[];
  /** Their total length. */
  readonly size: number;
}

function writePage(page: StatusPage, out: Uint8Array): void {
  let pos = 0;
  for (const part of page.parts) pos = part.writeTo(out, pos);
}

/** The page as one buffer of its own. */
export function statusPageBytes(page: StatusPage): Buffer {
  const out = Buffer.allocUnsafe(page.size);
  writePage(page, out);
  return out;
}

/**
 * GetStatus's serializer: writes each page into one buffer kept for it and handed out again by
 * the next call. grpc-js copies what a serializer returns into a frame of its own at once
 * (ServerInterceptingCall.serializeMessage: serialize, then copy, in one synchronous call), so
 * the buffer is free again before any other call runs. A page allocated per call (2 MB with
 * 10,000 xDS nodes and an upstream of 10,000 peers) cost about 1 ms of fresh memory each and,
 * as external memory, brought on the garbage collections that stalled the server during a mass
 * failure. The buffer grows to the largest page sent (bounded by server.max_response_bytes, or
 * one upstream alone).
 */
export function statusPageSerializer(): (page: StatusPage) => Buffer {
  let scratch = Buffer.allocUnsafe(0);
  return (page) => {
    if (scratch.length < page.size) scratch = Buffer.allocUnsafe(page.size);
    writePage(page, scratch);
    return scratch.subarray(0, page.size);
  };
}

/**
 * One page of GetStatus, as the bytes it is made of. Each upstream is encoded on its own (a repeated
 * field entry: protobuf concatenates) and added while the page stays under the byte limit, so
 * no response exceeds what a default gRPC client accepts; `next_page_token` and
 * `upstreams_remaining` say what follows. An upstream bigger than the limit on its own still
 * goes out, alone on its page (it cannot be split; 65,535 servers are about 6 MB).
 * xDS nodes are listed on the first page, within a quarter of the limit (`xds_nodes_omitted`).
 * `kept.upstreams` keeps each upstream's encoded status between calls, and within one each
 * peer's: a call encodes again only what changed since (wire/upstream-encoding.ts);
 * `kept.xdsNodes` does the same for xDS nodes.
 */
export function statusPage(deps: Omit<DiscoveryDeps, 'watch'>, req: Pick<GetStatusRequest__Output, 'pageSize' | 'pageToken'>, kept: StatusEncoders): StatusPage {
  const { registry, encodeStatus: encode } = deps;
  const { upstreams } = kept;
  const maxBytes = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const skeys = registry.skeys();
  let start = 0;
  if (req.pageToken !== '') {
    const cursor = parsePageToken(req.pageToken);
    const at = skeys.indexOf(cursor.skey);
    // The upstream the page was to start with is gone: continue where it was.
    start = at >= 0 ? at : Math.min(cursor.index, skeys.length);
  }
  const parts: EntryBytes[] = [];
  let size = 0;
  let omitted = 0;
  if (req.pageToken === '' && deps.xdsNodes !== undefined) {
    const nodes = kept.xdsNodes.section(deps.xdsNodes, maxBytes * XDS_NODES_SHARE);
    parts.push(nodes.bytes);
    size += nodes.bytes.size;
    omitted = nodes.omitted;
  }
  const pageSize = req.pageSize > 0 ? req.pageSize : Infinity;
  let i = start;
  for (; i < skeys.length && i - start < pageSize; i++) {
    const skey = skeys[i]!;
    const bytes = upstreams.entry(registry.upstream(skey)!, countedHere(deps.engine, skey), deps.engine.passiveRevision(skey), (revision) => deps.engine.passiveCountsChangedSince(skey, revision));
    if (i > start && size + bytes.size > maxBytes - TRAILER_RESERVE) break;
    parts.push(bytes);
    size += bytes.size;
  }
  const trailer = encode({
    ...statusHead(deps),
    nextPageToken: i < skeys.length ? pageToken(i, skeys[i]!) : '',
    upstreamsRemaining: skeys.length - i,
    xdsNodesOmitted: omitted,
  });
  parts.push(entryBytesOf(trailer));
  return { parts, size: size + trailer.length };
}

/** Page tokens: base64url of `index:skey`, the first upstream of the next page and where it was. */
function pageToken(index: number, skey: string): string {
  return Buffer.from(`${index}:${skey}`, 'utf8').toString('base64url');
}

function parsePageToken(token: string): { index: number; skey: string } {
  const m = token.length <= MAX_PAGE_TOKEN_CHARS ? /^(\d{1,9}):(.+)$/s.exec(Buffer.from(token, 'base64url').toString('utf8')) : null;
  if (m === null) throw new CheckupsError('INVALID_ARGUMENT', 'page_token: not a next_page_token of GetStatus (start again with an empty one)');
  return { index: Number(m[1]), skey: m[2]! };
}

function xdsNodeToWire(n: Readonly<NodeStatus>): XdsNodeStatus {
  return {
    nodeId: n.nodeId,
    userAgent: n.userAgent,
    streams: n.streams,
    types: [...n.types.values()].map((t) => ({
      typeUrl: t.typeUrl,
      sentVersion: t.sentVersion ?? '',
      ackedVersion: t.ackedVersion ?? '',
      nacked: t.nacked,
      lastNack: t.lastNack === undefined ? '' : JSON.stringify(t.lastNack),
    })),
  };
}

/**
 * xDS nodes as `GetStatusResponse.xds_nodes` entries, each kept with the node's revision it was
 * encoded at: a fleet of 10,000 xDS clients is about 1 MB of entries, and encoding them all
 * (after a deep copy and sort) on every GetStatus was most of the call's cost (issue 15).
 * Entries go with their node (a WeakMap), when XdsStatus evicts it.
 */
export class XdsNodeEntries {
  private readonly kept = new WeakMap<Readonly<NodeStatus>, { readonly revision: number; readonly bytes: Buffer }>();
  /** The last section and what it was made from. */
  private keptSection: { readonly source: XdsNodeSource; readonly revision: number; readonly maxBytes: number; readonly bytes: EntryBytes; readonly omitted: number } | undefined;
  /** Entries encoded (not reused) so far. */
  encodes = 0;

  constructor(private readonly encode: StatusEncoder) {}

  entry(node: Readonly<NodeStatus>): Buffer {
    const kept = this.kept.get(node);
    if (kept !== undefined && kept.revision === node.revision) return kept.bytes;
    const bytes = this.encode({ xdsNodes: [xdsNodeToWire(node)] });
    this.encodes++;
    this.kept.set(node, { revision: node.revision, bytes });
    return bytes;
  }

  /**
   * The xDS nodes of a first page: the entries that fit within `maxBytes`, in the source's
   * order, and how many did not. Kept while the source's revision stays: with 10,000 ADS
   * clients, walking them on every GetStatus cost more than the rest of the page.
   */
  section(source: XdsNodeSource, maxBytes: number): { readonly bytes: EntryBytes; readonly omitted: number } {
    const k = this.keptSection;
    if (k !== undefined && k.source === source && k.revision === source.revision && k.maxBytes === maxBytes) return k;
    const parts: Buffer[] = [];
    let size = 0;
    let omitted = 0;
    for (const node of source.liveNodes()) {
      const bytes = this.entry(node);
      if (size + bytes.length > maxBytes) omitted++;
      else {
        parts.push(bytes);
        size += bytes.length;
      }
    }
    this.keptSection = { source, revision: source.revision, maxBytes, bytes: entryBytesOf(Buffer.concat(parts, size)), omitted };
    return this.keptSection;
  }
}

/** What GetStatus keeps between calls (statusPage). */
export interface StatusEncoders {
  readonly upstreams: UpstreamStatusEncoder;
  readonly xdsNodes: XdsNodeEntries;
}

function storeStatusToWire(store: Pick<ChangeStore, 'kind' | 'location' | 'syncState'>): StoreStatus {
  const sync = store.syncState();
  return { kind: store.kind, location: store.location, synced: sync.synced, unsyncedSinceMs: sync.synced ? 0 : Math.round(sync.since), reason: sync.synced ? '' : sync.reason };
}

/** The fields of every page besides upstreams and xDS nodes. */
function statusHead(deps: Omit<DiscoveryDeps, 'watch'>): GetStatusResponse {
  const { registry, checker } = deps;
  const st = checker?.status();
  const confHash = registry.global.confHash;
  return {
    checker: {
      lastCheckTimeMs: Math.round(st?.lastCheckAt ?? 0),
      alive: st?.alive ?? false,
      targets: st?.scheduler.targets ?? 0,
      running: st?.scheduler.running ?? 0,
      hung: st?.scheduler.hung ?? 0,
      latenessP50Ms: st?.scheduler.lateness.p50 ?? 0,
      latenessP99Ms: st?.scheduler.lateness.p99 ?? 0,
    },
    startTimeMs: Math.round(deps.startedAt),
    confHash: confHash === null ? '' : String(confHash),
    revision: registry.currentRevision,
    serverVersion: deps.version,
    ...(deps.store !== undefined ? { store: storeStatusToWire(deps.store) } : {}),
  };
}

export function discoveryHandlers(deps: DiscoveryDeps): DiscoveryServiceHandlers {
  const { engine, auth, feedbackLimiter: limiter, outcomes: applier } = deps;
  const statusKept: StatusEncoders = { upstreams: new UpstreamStatusEncoder(), xdsNodes: new XdsNodeEntries(deps.encodeStatus) };
  /**
   * Applies one outcome within the per-peer limit: 'applied', or 'limited' (a failure not
   * counted). Unknown upstreams and peers throw as engine.feedback does.
   */
  const report = (caller: string, skey: string, host: string, port: number, failed: boolean): 'applied' | 'limited' => {
    if (port < 1 || port > 65535) throw new CheckupsError('INVALID_ARGUMENT', 'port: must be an integer 1..65535');
    requireSkey(skey);
    if (failed && !limiter.allowFailure(caller, skey, peerId(host, port), engine.feedbackTarget(skey, host, port))) return 'limited';
    engine.feedback(skey, host, port, failed);
    return 'applied';
  };
  /** A FeedbackBatch's reply once all its outcomes went through `report`; counts them. */
  const batchReply = (total: number, applied: number, rejected: string[], limited: ReadonlyMap<string, number>): FeedbackBatchResponse => {
    let limitedCount = 0;
    for (const [key, n] of limited) {
      const [skey, peer] = key.split('\0') as [string, string];
      rejected.push(peerLimitMessage(skey, peer, limiter.limits.peersPerCaller, n));
      limitedCount += n;
    }
    feedbackOutcomes.inc({ result: 'applied' }, applied);
    feedbackOutcomes.inc({ result: 'rejected' }, total - applied - limitedCount);
    feedbackOutcomes.inc({ result: 'peer_limited' }, limitedCount);
    // One line per problem would grow with the batch: list the first ones, count the rest.
    return { applied, rejected: boundedList(rejected, 100, 600) };
  };
  return {
    Watch: (call) => {
      const start = () => deps.watch.handle(call as unknown as Parameters<WatchHub['handle']>[0]);
      try {
        auth.check(call, 'read');
        if (deps.admission !== undefined) deps.admission.admit('watch', call, start);
        else start();
      } catch (err) {
        call.emit('error', errorToWire(err));
      }
    },
    SelectPeer: authorized(auth, 'read', (req) => {
      const peer = engine.selectPeer(requireSkey(req.skey), {
        ...(req.hashKey !== '' ? { hashKey: req.hashKey } : {}),
        ...(req.clusterKey.length > 0 ? { clusterKey: req.clusterKey } : {}),
        ...(req.request !== null
          ? {
              request: {
                ...(req.request.path !== '' ? { path: req.request.path } : {}),
                ...(req.request.clientIp !== '' ? { clientIp: req.request.clientIp } : {}),
                ...(req.request.headerHashKey !== '' ? { headerHashKey: req.request.headerHashKey } : {}),
              },
            }
          : {}),
      });
      return { peer: { host: peer.host, port: peer.port, cluster: String(peer.cluster), weight: peer.weight, status: healthToWire(peer.status) } };
    }),
    Feedback: authorized(auth, 'feedback', (req, caller) => {
      let result: 'applied' | 'limited';
      try {
        limiter.admit(caller, 1, false);
      } catch (err) {
        feedbackOutcomes.inc({ result: 'rate_limited' });
        throw err;
      }
      try {
        result = report(caller, req.skey, req.host, req.port, req.failed);
      } catch (err) {
        feedbackOutcomes.inc({ result: 'rejected' });
        throw err;
      }
      if (result === 'limited') {
        feedbackOutcomes.inc({ result: 'peer_limited' });
        throw new CheckupsError('RATE_LIMITED', peerLimitMessage(req.skey, peerId(req.host, req.port), limiter.limits.peersPerCaller));
      }
      feedbackOutcomes.inc({ result: 'applied' });
      return {};
    }),
    FeedbackBatch: authorized(auth, 'feedback', (req, caller): Promise<FeedbackBatchResponse> => {
      const { outcomes } = req;
      // Before the rate limit, so a batch refused for want of room takes nothing from the
      // caller's bucket; a batch over max_batch goes on to be refused for its size.
      if (outcomes.length <= limiter.limits.maxBatch && !applier.room(outcomes.length)) {
        feedbackOutcomes.inc({ result: 'busy' }, outcomes.length);
        throw new CheckupsError('RATE_LIMITED', `the server has ${applier.waitingOutcomes} reported outcomes of other batches waiting to be applied; nothing of this call was applied: retry in a moment`);
      }
      try {
        limiter.admit(caller, outcomes.length, true);
      } catch (err) {
        feedbackOutcomes.inc({ result: err instanceof CheckupsError && err.code === 'RATE_LIMITED' ? 'rate_limited' : 'batch_too_large' }, outcomes.length);
        throw err;
      }
      let applied = 0;
      const rejected: string[] = [];
      /** `skey \0 peer` -> failures not counted (one line per peer, not per outcome). */
      const limited = new Map<string, number>();
      const one = (i: number) => {
        const o = outcomes[i]!;
        try {
          if (report(caller, o.skey, o.host, o.port, o.failed) === 'applied') applied++;
          else {
            const key = `${o.skey}\0${peerId(o.host, o.port)}`;
            limited.set(key, (limited.get(key) ?? 0) + 1);
          }
        } catch (err) {
          rejected.push(`${clip(o.skey)} ${clip(o.host)}:${o.port}: ${err instanceof Error ? err.message : String(err)}`);
        }
      };
      return applier.apply(outcomes.length, one).then(() => batchReply(outcomes.length, applied, rejected, limited));
    }),
    // Answers with the page's parts (statusPage); the method's serializer is statusPageSerializer (server.ts).
    GetStatus: authorized(auth, 'read', (req) => statusPage(deps, req, statusKept) as unknown as GetStatusResponse),
    GetUpsTimeout: authorized(auth, 'read', (req) => {
      const t = engine.getUpsTimeout(requireSkey(req.skey));
      if (t === undefined) throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${clip(req.skey)}`);
      return t;
    }),
  };
}
