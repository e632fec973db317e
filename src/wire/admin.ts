/**
 * AdminService requests from plain config-vocabulary objects (snake_case, seconds): what the
 * SDK's admin client sends. The server reads the same fields in server/grpc/admin.ts and turns
 * them into document edits (config/edit.ts).
 */
import { secondsToMs } from '../config/units.ts';
import type { RawServer, RawUpstream } from '../core/document.ts';
import type { AddPeerRequest } from '../generated/checkups/v1/AddPeerRequest.ts';
import type { UpdatePeerRequest } from '../generated/checkups/v1/UpdatePeerRequest.ts';
import type { UpdateUpstreamRequest } from '../generated/checkups/v1/UpdateUpstreamRequest.ts';
import type { GetUpstreamResponse__Output } from '../generated/checkups/v1/GetUpstreamResponse.ts';
import type { StoredUpstream } from '../core/document.ts';
import { jsonToStruct, jsonToValue, structToJson } from './struct.ts';

/** What UpdateUpstream carries: a whole upstream, or only its clusters (the stored options are kept). */
export type UpstreamWrite = { readonly upstream: RawUpstream } | { readonly cluster: RawUpstream['cluster'] };

/** A server's balancing parameters as UpdatePeer changes them (config names and units). */
export type ServerChange = Pick<RawServer, 'weight' | 'max_fails' | 'fail_timeout'>;

export function updateUpstreamToWire(skey: string, body: UpstreamWrite): UpdateUpstreamRequest {
  return 'upstream' in body ? { skey, upstream: jsonToStruct(body.upstream) } : { skey, cluster: jsonToValue(body.cluster) };
}

/** AddPeer's Server uses 0 for "the default" (weight, fail_timeout); the document leaves them unset. */
export function addPeerToWire(skey: string, cluster: string, s: RawServer): AddPeerRequest {
  return {
    skey,
    cluster,
    server: { host: s.host, port: s.port, weight: s.weight ?? 0, maxFails: s.max_fails ?? 0, failTimeoutMs: s.fail_timeout === undefined ? 0 : secondsToMs(s.fail_timeout), down: s.down ?? false },
  };
}

export function updatePeerToWire(skey: string, host: string, port: number, change: ServerChange): UpdatePeerRequest {
  return {
    skey,
    host,
    port,
    ...(change.weight !== undefined ? { weight: change.weight } : {}),
    ...(change.max_fails !== undefined ? { maxFails: change.max_fails } : {}),
    ...(change.fail_timeout !== undefined ? { failTimeoutMs: secondsToMs(change.fail_timeout) } : {}),
  };
}

/** GetUpstream's document (secrets marked, not sent). */
export function storedUpstreamFromWire(res: GetUpstreamResponse__Output): StoredUpstream {
  return structToJson(res.upstream) as unknown as StoredUpstream;
}
