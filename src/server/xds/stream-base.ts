/**
 * What SotW and delta streams share: the call's life cycle, the node identity, request
 * validation, nonces, back-pressure and the make-before-break flush order. A subclass decides
 * what a request means and what a type's response holds (sotw.ts, delta.ts).
 *
 * Coalescing, not queueing. Two things hold a stream's responses back, and while they do, a
 * change only marks its type dirty; the per-type state says what the client holds, so the next
 * flush sends the newest version of what changed (intermediate versions are skipped, never
 * reordered). Whatever the number of changes, a stream holds no response bytes of its own.
 *
 * - ACK gating, per type: at most one response of a type is unacknowledged. Its ACK or NACK
 *   (a request answering the latest nonce) lets the next one go. This is go-control-plane's
 *   SotW behaviour (a watch is re-armed by the next request), and what Envoy and gRPC clients
 *   expect: they answer every response. A client that never ACKs gets one response per type.
 * - Transport: while a write is unfinished (HTTP/2 flow control; stream-flow.ts) nothing is
 *   written; when it finishes, one flush. A stream unfinished past the stall timeout is closed.
 *
 * Make-before-break survives both: a flush goes through the types in push order (then removal
 * order) and stops at the first held type that has something to send, so a later type never
 * overtakes an earlier one; if updates were held, removals wait too.
 *
 * Size: a type whose changes do not fit in one response (response-size.ts) sends a part; the
 * rest stays due, like changes held by the gate, and goes after the part's ACK. The flush stops
 * after a part as it does at a held type, so later types wait for the whole of it.
 */
import * as grpc from '@grpc/grpc-js';
import { countStreamMessage, xdsStreamsClosed } from '../../observability/metrics.ts';
import { isUnparseable, unparseableError, type Unparseable } from '../grpc/unparseable.ts';
import { clip, MAX_DETAILS_CHARS } from '../../util/bounded-text.ts';
import type { XdsResourceCache } from './cache.ts';
import type { ResponseSizeLimit } from './response-size.ts';
import type { NodeInfo } from './envoy-types.ts';
import type { StallGuard, StreamFlow } from '../stream-flow.ts';
import type { HubStream, SharedResponses, XdsHub } from './hub.ts';
import { MAX_NAMES_PER_STREAM, MAX_NODE_TEXT_CHARS, MAX_TYPES_PER_STREAM, MAX_WARNINGS_PER_STREAM, type NodeStatus, type XdsStatus } from './status.ts';
import { Subscription } from './subscription.ts';
import { isServedType, PUSH_ORDER, REMOVAL_ORDER, typeBit, type ResourceTypeUrl } from './type-urls.ts';

export type XdsCall<Req> = grpc.ServerDuplexStream<Req, Buffer>;

/** Counters shared by every stream of one server. */
export interface XdsCounters {
  responses: number;
  requests: number;
  /** Flushes that held a response back for an unacknowledged one of its type. */
  ackHeld: number;
}

export interface StreamContext {
  readonly cache: XdsResourceCache;
  readonly hub: XdsHub;
  readonly status: XdsStatus;
  readonly counters: XdsCounters;
  readonly stalls: StallGuard;
  readonly size: ResponseSizeLimit;
}

/** `updates`: changed resources only, removals held back; `removals`/`all`: everything. */
export type FlushPhase = 'updates' | 'removals' | 'all';

/** A single dirty type goes out in one response; several, updates first, then removals. */
const ONE_TYPE_PHASES: readonly FlushPhase[] = ['all'];
const MANY_TYPE_PHASES: readonly FlushPhase[] = ['updates', 'removals'];

export interface TypeState {
  readonly typeUrl: string;
  readonly sub: Subscription;
  /** Name -> version of each resource the client holds, as far as this stream knows. */
  readonly sent: Map<string, string>;
  lastNonce: string | undefined;
  /** Version of the response carrying lastNonce (what an ACK or NACK refers to). */
  lastVersion: string | undefined;
  /** The response carrying lastNonce is not ACKed or NACKed yet: the next one waits. */
  awaitingAck: boolean;
}

/** A response ready to go. */
export interface PlannedResponse {
  /** Sends it and records what the client now holds. */
  readonly send: () => void;
  /** It carries only part of what is due (size limit): the rest goes after its ACK. */
  readonly partial: boolean;
}

export abstract class XdsStreamBase<Req extends { readonly node: NodeInfo | null; readonly type_url: string; readonly response_nonce: string }> implements HubStream {
  protected nodeId = '';
  /** The node's record in XdsStatus, once the first request named it. */
  private nodeRecord: NodeStatus | undefined;
  protected readonly types = new Map<string, TypeState>();
  private identified = false;
  private warningsLeft = MAX_WARNINGS_PER_STREAM;
  private nonceCounter = 0;
  private closed = false;
  private readonly flow: StreamFlow;
  /** Set while the hub flushes this stream (responses may be shared with other streams). */
  private shared: SharedResponses | undefined;
  /** Types with changes not sent yet, as typeBit()s: a flush runs per stream per push, no Set to copy. */
  private dirty = 0;

  constructor(
    protected readonly call: XdsCall<Req>,
    protected readonly ctx: StreamContext,
    /** Per-type services fix the type; ADS (null) takes it from each request. */
    private readonly fixedType: ResourceTypeUrl | null,
  ) {
    ctx.hub.add(this);
    // Idle again: send what changed meanwhile. Stalled: the guard reset the call; forget it.
    this.flow = ctx.stalls.open(call, () => this.flush(), () => this.cleanup());
    call.on('data', (req: Req | Unparseable) => this.onData(req));
    call.on('end', () => {
      this.cleanup();
      call.end();
    });
    for (const event of ['cancelled', 'close', 'error'] as const) call.on(event, () => this.cleanup());
  }

  /** Handles one validated request whose type state exists (`isNew`: first of its type). */
  protected abstract onRequest(req: Req, state: TypeState, isNew: boolean): void;

  /**
   * What `state`'s client lacks, per `phase`: a response to send, or undefined when there is
   * nothing to send (bookkeeping that needs no response is done at once). Planning changes
   * nothing the response depends on, so a held plan is simply made again later.
   */
  protected abstract planType(state: TypeState, typeUrl: ResourceTypeUrl, phase: FlushPhase): PlannedResponse | undefined;

  markDirty(typeUrl: ResourceTypeUrl): void {
    this.dirty |= typeBit(typeUrl);
  }

  /**
   * Sends what is dirty, newest state, in make-before-break order; a single dirty type goes out
   * in one response (`all`) when it fits. Stops at the first type held by its unacknowledged
   * response, or after a type that sent only a part (see the top of this file); everything due
   * stays dirty for the flush its ACK triggers.
   */
  flush(shared?: SharedResponses): void {
    if (this.closed || this.flow.busy || this.dirty === 0) return;
    const due = this.dirty;
    this.dirty = 0;
    this.shared = shared;
    let held = false;
    let partial = false;
    try {
      const phases = (due & (due - 1)) === 0 ? ONE_TYPE_PHASES : MANY_TYPE_PHASES;
      for (const phase of phases) {
        for (const t of phase === 'removals' ? REMOVAL_ORDER : PUSH_ORDER) {
          if ((due & typeBit(t)) === 0) continue;
          const state = this.types.get(t);
          if (state === undefined) continue;
          const plan = this.planType(state, t, phase);
          if (plan === undefined) continue;
          if (state.awaitingAck) {
            held = true;
            break;
          }
          plan.send();
          if (plan.partial) {
            this.ctx.size.partSent(t);
            partial = true;
            break;
          }
        }
        if (held || partial) break;
      }
    } finally {
      this.shared = undefined;
      if (held) this.ctx.counters.ackHeld++;
      if (held || partial) this.dirty |= due;
    }
  }

  /**
   * Answers a request for `typeUrl`. If pushes are pending for this stream, they go out with it
   * in make-before-break order: an ACK arriving just after a deletion must not let the Cluster
   * removal overtake the Listener removal.
   */
  protected answer(typeUrl: ResourceTypeUrl): void {
    this.dirty |= typeBit(typeUrl);
    this.flush();
  }

  /** Types waiting to be sent (at most the number of types: what the stream holds back). */
  get dirtyTypes(): number {
    let n = 0;
    for (let bits = this.dirty; bits !== 0; bits &= bits - 1) n++;
    return n;
  }

  end(): void {
    if (this.closed) return;
    this.cleanup();
    this.call.end();
  }

  /**
   * Sends one response. `key` identifies its content (phase, type, resources and versions);
   * during a hub flush equal keys share one assembled response (hub.ts SharedResponses). Nonces:
   * `s<n>` per stream, `b<flush>.<i>` when shared — distinct namespaces, unique per stream, and
   * never longer than response-size.ts MAX_NONCE_CHARS (its budgets count on it).
   */
  protected send(state: TypeState, version: string, key: () => string, bytes: (nonce: string) => Buffer): void {
    let nonce: string;
    let out: Buffer;
    const shared = this.shared;
    if (shared !== undefined) {
      const k = key();
      let hit = shared.byKey.get(k);
      if (hit === undefined) {
        const n = `b${shared.id}.${shared.byKey.size}`;
        hit = { nonce: n, bytes: bytes(n) };
        shared.byKey.set(k, hit);
      }
      ({ nonce, bytes: out } = hit);
    } else {
      nonce = `s${++this.nonceCounter}`;
      out = bytes(nonce);
    }
    state.lastNonce = nonce;
    state.lastVersion = version;
    state.awaitingAck = true;
    this.ctx.counters.responses++;
    countStreamMessage('xds');
    this.ctx.status.recordSent(this.node, state.typeUrl, version);
    this.flow.write(out);
  }

  /** This stream's node in XdsStatus (the unnamed node '' before the first request). */
  protected get node(): NodeStatus {
    return this.nodeRecord ?? this.ctx.status.node(this.nodeId);
  }

  protected watch(typeUrl: string, name: string, on: boolean): void {
    if (!isServedType(typeUrl)) return;
    if (on) this.ctx.hub.watch(this, typeUrl, name);
    else this.ctx.hub.unwatch(this, typeUrl, name);
  }

  protected setWildcard(state: TypeState, on: boolean): void {
    if (isServedType(state.typeUrl)) this.ctx.hub.setWildcard(this, state.typeUrl, on);
  }

  private onData(req: Req | Unparseable): void {
    if (this.closed) return;
    this.ctx.counters.requests++;
    if (isUnparseable(req)) {
      const err = unparseableError(this.fixedType === null ? 'an xDS DiscoveryRequest' : `a DiscoveryRequest for ${this.fixedType}`, req);
      return this.fail(err.code, err.details);
    }
    const typeUrl = this.fixedType ?? req.type_url;
    if (typeUrl === '') return this.fail(grpc.status.INVALID_ARGUMENT, 'type_url is required on an aggregated (ADS) stream');
    if (this.fixedType !== null && req.type_url !== '' && req.type_url !== this.fixedType) {
      return this.fail(grpc.status.INVALID_ARGUMENT, `this stream serves ${this.fixedType}, not ${req.type_url}`);
    }
    // The node comes on the first request only; later ones are attributed to it (§1.3).
    if (!this.identified) {
      this.identified = true;
      this.nodeId = clip(req.node?.id ?? '', MAX_NODE_TEXT_CHARS);
      this.nodeRecord = this.ctx.status.streamOpened(this.nodeId, req.node?.user_agent_name ?? '');
    }
    let state = this.types.get(typeUrl);
    const isNew = state === undefined;
    if (state === undefined && this.types.size >= MAX_TYPES_PER_STREAM) {
      // Each type holds state; a client asking for ever new (unknown) types gets no more of it.
      this.ctx.status.typeIgnored();
      return;
    }
    if (state === undefined) {
      state = { typeUrl, sub: new Subscription(typeUrl), sent: new Map(), lastNonce: undefined, lastVersion: undefined, awaitingAck: false };
      this.types.set(typeUrl, state);
    }
    // Answering the latest nonce (ACK or NACK) opens the type's gate; what waited goes out now.
    const answersLatest = req.response_nonce !== '' && req.response_nonce === state.lastNonce;
    if (answersLatest) state.awaitingAck = false;
    this.onRequest(req, state, isNew);
    if (this.namesHeld() > MAX_NAMES_PER_STREAM) return this.tooManyNames();
    if (answersLatest) this.flush();
  }

  private namesHeld(): number {
    let n = 0;
    for (const s of this.types.values()) n += s.sub.names.size;
    return n;
  }

  private tooManyNames(): void {
    xdsStreamsClosed.inc({ reason: 'too_many_names' });
    this.ctx.status.warn({ nodeId: this.nodeId, names: this.namesHeld(), limit: MAX_NAMES_PER_STREAM }, 'xds: stream closed: it subscribed to more resource names than one stream may hold');
    this.fail(grpc.status.RESOURCE_EXHAUSTED, `this stream subscribed to more than ${MAX_NAMES_PER_STREAM} resource names (all types together); subscribe to fewer per stream, or use the wildcard for clusters and listeners`);
  }

  /** Records a client's NACK, logging it while this stream's warning budget lasts. */
  protected recordNack(typeUrl: string, version: string, code: number, message: string): void {
    const log = this.warningsLeft > 0;
    if (log) this.warningsLeft--;
    else this.ctx.status.warningSuppressed(this.nodeId, this.warningsLeft-- === 0);
    this.ctx.status.recordNack(this.node, typeUrl, version, code, message, log);
  }

  private fail(code: grpc.status, message: string): void {
    this.cleanup();
    const details = clip(message, MAX_DETAILS_CHARS);
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.flow.close();
    const watched: Array<[ResourceTypeUrl, string]> = [];
    const wild: ResourceTypeUrl[] = [];
    for (const [t, s] of this.types) {
      if (!isServedType(t)) continue;
      for (const n of s.sub.names) watched.push([t, n]);
      if (s.sub.wildcard) wild.push(t);
    }
    this.ctx.hub.remove(this, watched, wild);
    if (this.identified) this.ctx.status.streamClosed(this.nodeId);
  }
}
