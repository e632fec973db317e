/**
 * AdminService requests, both ways: the SDK's admin client encodes plain config-vocabulary
 * objects (seconds, snake_case) here, the server decodes them back into document edits here.
 */
import { msToSeconds, secondsToMs } from '../config/units.ts';
import type { PeerEdit } from '../config/edit.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import type { AddPeerRequest, AddPeerRequest__Output } from '../generated/checkups/v1/AddPeerRequest.ts';
import type { RemovePeerRequest, RemovePeerRequest__Output } from '../generated/checkups/v1/RemovePeerRequest.ts';
import type { UpdatePeerRequest, UpdatePeerRequest__Output } from '../generated/checkups/v1/UpdatePeerRequest.ts';
import type { UpdateUpstreamRequest, UpdateUpstreamRequest__Output } from '../generated/checkups/v1/UpdateUpstreamRequest.ts';
import { CheckupsError } from '../util/errors.ts';
import { jsonToStruct, jsonToValue, structToJson, valueToJson, type Json } from './struct.ts';

/** What UpdateUpstream carries: a whole upstream, or only its clusters (the stored options are kept). */
export type UpstreamWrite = { readonly upstream: RawUpstream } | { readonly cluster: RawUpstream['cluster'] };

export function updateUpstreamToWire(skey: string, body: UpstreamWrite): UpdateUpstreamRequest {
  return 'upstream' in body ? { skey, upstream: jsonToStruct(body.upstream) } : { skey, cluster: jsonToValue(body.cluster) };
}

/** The body as sent (unvalidated: the server validates the document it builds from it). */
export function updateUpstreamFromWire(req: UpdateUpstreamRequest__Output): { upstream: Json } | { cluster: Json } {
  if (req.body === 'upstream') return { upstream: structToJson(req.upstream) };
  if (req.body === 'cluster') return { cluster: valueToJson(req.cluster) };
  throw new CheckupsError('INVALID_ARGUMENT', 'upstream or cluster: one of them is required');
}

/** AddPeer's Server uses 0 for "the default" (weight, fail_timeout); the document leaves them unset. */
export function addPeerToWire(skey: string, edit: Extract<PeerEdit, { op: 'add' }>): AddPeerRequest {
  const s = edit.server;
  return {
    skey,
    cluster: edit.cluster ?? '',
    server: { host: s.host, port: s.port, weight: s.weight ?? 0, maxFails: s.max_fails ?? 0, failTimeoutMs: s.fail_timeout === undefined ? 0 : secondsToMs(s.fail_timeout), down: s.down ?? false },
  };
}

export function addPeerFromWire(req: AddPeerRequest__Output): Extract<PeerEdit, { op: 'add' }> {
  const s = req.server;
  if (s === null) throw new CheckupsError('INVALID_ARGUMENT', 'server: is required');
  const server: RawServer = {
    host: s.host,
    port: s.port,
    ...(s.weight !== 0 ? { weight: s.weight } : {}),
    ...(s.maxFails !== 0 ? { max_fails: s.maxFails } : {}),
    ...(s.failTimeoutMs !== 0 ? { fail_timeout: msToSeconds(s.failTimeoutMs) } : {}),
    ...(s.down ? { down: true } : {}),
  };
  return { op: 'add', cluster: req.cluster, server };
}

export function removePeerToWire(skey: string, edit: Extract<PeerEdit, { op: 'remove' }>): RemovePeerRequest {
  return { skey, host: edit.host, port: edit.port, cluster: edit.cluster ?? '' };
}

export function removePeerFromWire(req: RemovePeerRequest__Output): Extract<PeerEdit, { op: 'remove' }> {
  return { op: 'remove', host: req.host, port: req.port, ...(req.cluster !== '' ? { cluster: req.cluster } : {}) };
}

export function updatePeerToWire(skey: string, edit: Extract<PeerEdit, { op: 'update' }>): UpdatePeerRequest {
  return {
    skey,
    host: edit.host,
    port: edit.port,
    ...(edit.weight !== undefined ? { weight: edit.weight } : {}),
    ...(edit.max_fails !== undefined ? { maxFails: edit.max_fails } : {}),
    ...(edit.fail_timeout !== undefined ? { failTimeoutMs: secondsToMs(edit.fail_timeout) } : {}),
  };
}

export function updatePeerFromWire(req: UpdatePeerRequest__Output): Extract<PeerEdit, { op: 'update' }> {
  return {
    op: 'update',
    host: req.host,
    port: req.port,
    ...(req._weight !== undefined ? { weight: req.weight ?? 0 } : {}),
    ...(req._maxFails !== undefined ? { max_fails: req.maxFails ?? 0 } : {}),
    ...(req._failTimeoutMs !== undefined ? { fail_timeout: msToSeconds(req.failTimeoutMs ?? 0) } : {}),
  };
}

/** GetUpstream's document with its clusters as a map. */
export function storedUpstreamFromWire(upstream: Parameters<typeof structToJson>[0]): RawUpstream & { cluster: Record<string, RawCluster> } {
  return structToJson(upstream) as unknown as RawUpstream & { cluster: Record<string, RawCluster> };
}
