/**
 * What SotW and delta streams share: the call's life cycle, the node identity, request
 * validation, nonces, back-pressure and the make-before-break flush order. A subclass decides
 * what a request means and what a type's response holds (sotw.ts, delta.ts).
 *
 * Back-pressure: while the socket is backed up (write() returned false) nothing more is queued;
 * the stream's per-type state says what the client holds, so on 'drain' one flush brings it to
 * the newest state (intermediate versions are skipped, never reordered).
 */
import * as grpc from '@grpc/grpc-js';
import { streamMessages } from '../../observability/metrics.ts';
import { isUnparseable, unparseableError, type Unparseable } from '../grpc/unparseable.ts';
import { clip, MAX_DETAILS_CHARS } from '../../util/bounded-text.ts';
import type { XdsResourceCache } from './cache.ts';
import type { NodeInfo } from './envoy-types.ts';
import type { HubStream, SharedResponses, XdsHub } from './hub.ts';
import { MAX_NODE_TEXT_CHARS, MAX_TYPES_PER_STREAM, MAX_WARNINGS_PER_STREAM, type XdsStatus } from './status.ts';
import { Subscription } from './subscription.ts';
import { isServedType, PUSH_ORDER, REMOVAL_ORDER, type ResourceTypeUrl } from './type-urls.ts';

export type XdsCall<Req> = grpc.ServerDuplexStream<Req, Buffer>;

/** Counters shared by every stream of one server. */
export interface XdsCounters {
  responses: number;
  requests: number;
}

export interface StreamContext {
  readonly cache: XdsResourceCache;
  readonly hub: XdsHub;
  readonly status: XdsStatus;
  readonly counters: XdsCounters;
}

/** `updates`: changed resources only, removals held back; `removals`/`all`: everything. */
export type FlushPhase = 'updates' | 'removals' | 'all';

export interface TypeState {
  readonly typeUrl: string;
  readonly sub: Subscription;
  /** Name -> version of each resource the client holds, as far as this stream knows. */
  readonly sent: Map<string, string>;
  lastNonce: string | undefined;
  /** Version of the response carrying lastNonce (what an ACK or NACK refers to). */
  lastVersion: string | undefined;
}

export abstract class XdsStreamBase<Req extends { readonly node: NodeInfo | null; readonly type_url: string }> implements HubStream {
  protected nodeId = '';
  protected readonly types = new Map<string, TypeState>();
  private identified = false;
  private warningsLeft = MAX_WARNINGS_PER_STREAM;
  private nonceCounter = 0;
  private blocked = false;
  private closed = false;
  /** Set while the hub flushes this stream (responses may be shared with other streams). */
  private shared: SharedResponses | undefined;
  private readonly dirty = new Set<ResourceTypeUrl>();

  constructor(
    protected readonly call: XdsCall<Req>,
    protected readonly ctx: StreamContext,
    /** Per-type services fix the type; ADS (null) takes it from each request. */
    private readonly fixedType: ResourceTypeUrl | null,
  ) {
    ctx.hub.add(this);
    call.on('data', (req: Req | Unparseable) => this.onData(req));
    call.on('drain', () => {
      this.blocked = false;
      for (const t of this.types.keys()) if (isServedType(t)) this.dirty.add(t);
      this.flush();
    });
    call.on('end', () => {
      this.cleanup();
      call.end();
    });
    for (const event of ['cancelled', 'close', 'error'] as const) call.on(event, () => this.cleanup());
  }

  /** Handles one validated request whose type state exists (`isNew`: first of its type). */
  protected abstract onRequest(req: Req, state: TypeState, isNew: boolean): void;

  /** Computes and sends what `state`'s client lacks, per `phase`. */
  protected abstract flushType(state: TypeState, typeUrl: ResourceTypeUrl, phase: FlushPhase): void;

  markDirty(typeUrl: ResourceTypeUrl): void {
    this.dirty.add(typeUrl);
  }

  flush(shared?: SharedResponses): void {
    if (this.blocked || this.closed || this.dirty.size === 0) return;
    const due = new Set(this.dirty);
    this.dirty.clear();
    this.shared = shared;
    try {
      for (const phase of ['updates', 'removals'] as const) {
        for (const t of phase === 'updates' ? PUSH_ORDER : REMOVAL_ORDER) {
          const state = this.types.get(t);
          if (state !== undefined && due.has(t)) this.flushType(state, t, phase);
        }
      }
    } finally {
      this.shared = undefined;
    }
  }

  /**
   * Answers a request for `typeUrl`. If pushes are pending for this stream, they go out with it
   * in make-before-break order: an ACK arriving just after a deletion must not let the Cluster
   * removal overtake the Listener removal.
   */
  protected answer(state: TypeState, typeUrl: ResourceTypeUrl): void {
    if (this.blocked || this.closed) return;
    if (this.dirty.size === 0) return this.flushType(state, typeUrl, 'all');
    this.dirty.add(typeUrl);
    this.flush();
  }

  end(): void {
    if (this.closed) return;
    this.cleanup();
    this.call.end();
  }

  /**
   * Sends one response. `key` identifies its content (phase, type, resources and versions);
   * during a hub flush equal keys share one assembled response (hub.ts SharedResponses). Nonces:
   * `s<n>` per stream, `b<flush>.<i>` when shared — distinct namespaces, unique per stream.
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
    this.ctx.counters.responses++;
    streamMessages.inc({ kind: 'xds' });
    this.ctx.status.recordSent(this.nodeId, state.typeUrl, version);
    if (!this.call.write(out)) this.blocked = true;
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
      this.ctx.status.streamOpened(this.nodeId, req.node?.user_agent_name ?? '');
    }
    let state = this.types.get(typeUrl);
    const isNew = state === undefined;
    if (state === undefined && this.types.size >= MAX_TYPES_PER_STREAM) {
      // Each type holds state; a client asking for ever new (unknown) types gets no more of it.
      this.ctx.status.typeIgnored();
      return;
    }
    if (state === undefined) {
      state = { typeUrl, sub: new Subscription(typeUrl), sent: new Map(), lastNonce: undefined, lastVersion: undefined };
      this.types.set(typeUrl, state);
    }
    this.onRequest(req, state, isNew);
  }

  /** Records a client's NACK, logging it while this stream's warning budget lasts. */
  protected recordNack(typeUrl: string, version: string, code: number, message: string): void {
    const log = this.warningsLeft > 0;
    if (log) this.warningsLeft--;
    else this.ctx.status.warningSuppressed(this.nodeId, this.warningsLeft-- === 0);
    this.ctx.status.recordNack(this.nodeId, typeUrl, version, code, message, log);
  }

  private fail(code: grpc.status, message: string): void {
    this.cleanup();
    const details = clip(message, MAX_DETAILS_CHARS);
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
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
