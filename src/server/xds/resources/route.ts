/**
 * RouteConfiguration `K`: one virtual host matching every authority (clients use `K`, `K:port`
 * or whatever `grpc.default_authority` says) with one catch-all route to Cluster `K`.
 *
 * Hash modes carry a route hash policy; without one gRPC's ring hash picks at random per RPC
 * (docs/envoy.md). Policies are tried in order; `terminal` stops at the first that yields a
 * key, and a policy with no input is skipped by every client:
 * - `hash`, `header_hash`: the `x-hash-key` header (checkups' hash key, the original's
 *   X-Hash-Key), else the path (the original's request URI; Envoy and C-core see `:path`,
 *   grpc-js does not), else the channel (grpc-js, C-core) — so a client without a key still
 *   sticks to one server instead of spraying.
 * - `url_hash`: the path, else the channel.
 * - `ip_hash`: the client address (Envoy), else the channel (gRPC: one channel is one client).
 */
import type { BalanceMode } from '../../../core/model.ts';
import type { HashPolicy, RouteConfiguration } from '../envoy-types.ts';
import { ROUTE } from '../type-urls.ts';
import type { ResourceKind } from './kind.ts';
import type { ServiceTree } from './tree.ts';

/** Metadata key gRPC and HTTP clients set to choose the consistent-hash key. */
export const HASH_KEY_HEADER = 'x-hash-key';

const BY_KEY: HashPolicy = { header: { header_name: HASH_KEY_HEADER }, terminal: true };
const BY_PATH: HashPolicy = { header: { header_name: ':path' }, terminal: true };
const BY_SOURCE_IP: HashPolicy = { connection_properties: { source_ip: true }, terminal: true };
const BY_CHANNEL: HashPolicy = { filter_state: { key: 'io.grpc.channel_id' } };

export function hashPolicies(mode: BalanceMode): HashPolicy[] {
  switch (mode) {
    case 'wrr':
      return [];
    case 'hash':
    case 'header_hash':
      return [BY_KEY, BY_PATH, BY_CHANNEL];
    case 'url_hash':
      return [BY_PATH, BY_CHANNEL];
    case 'ip_hash':
      return [BY_SOURCE_IP, BY_CHANNEL];
  }
}

export const routeType = {
  typeUrl: ROUTE,
  dynamic: false,
  onDemand: false,
  build(tree: ServiceTree): RouteConfiguration {
    return {
      name: tree.name,
      virtual_hosts: [
        {
          name: tree.name,
          domains: ['*'],
          routes: [{ match: { prefix: '' }, route: { cluster: tree.name, hash_policy: hashPolicies(tree.mode) } }],
        },
      ],
    };
  },
} satisfies ResourceKind;
