/**
 * The xDS resource types checkups serves, their type URLs and the orders that matter
 * (docs/envoy.md). A leaf module: everything else in server/xds imports it.
 */

export const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export type ResourceTypeUrl = typeof LISTENER | typeof ROUTE | typeof CLUSTER | typeof ENDPOINT;

/** Types embedded in resources as google.protobuf.Any. */
export const HTTP_CONNECTION_MANAGER = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_FILTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const HTTP_PROTOCOL_OPTIONS = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * Make-before-break (xds_protocol.rst "Eventual consistency considerations"): additions and
 * updates go out clusters first, then their endpoints, then listeners, then routes, so nothing
 * ever refers to a resource the client does not have yet...
 */
export const PUSH_ORDER: readonly ResourceTypeUrl[] = [CLUSTER, ENDPOINT, LISTENER, ROUTE];
/** ...and removals go out afterwards, referrers first (a listener before the cluster it routes to). */
export const REMOVAL_ORDER: readonly ResourceTypeUrl[] = [LISTENER, ROUTE, CLUSTER, ENDPOINT];

/** One bit per served type, for sets of types kept as a number (a stream's dirty types). */
export function typeBit(typeUrl: ResourceTypeUrl): number {
  switch (typeUrl) {
    case LISTENER:
      return 1;
    case ROUTE:
      return 2;
    case CLUSTER:
      return 4;
    case ENDPOINT:
      return 8;
  }
}

/** SotW responses for these carry every subscribed resource; a missing one means deleted (§1.5). */
export function requiresFullState(typeUrl: string): boolean {
  return typeUrl === LISTENER || typeUrl === CLUSTER;
}

/** Wildcard subscriptions (`*`, or the legacy empty list) exist only for these (§1.5). */
export function supportsWildcard(typeUrl: string): boolean {
  return typeUrl === LISTENER || typeUrl === CLUSTER;
}

export function isServedType(typeUrl: string): typeUrl is ResourceTypeUrl {
  return typeUrl === LISTENER || typeUrl === ROUTE || typeUrl === CLUSTER || typeUrl === ENDPOINT;
}

/** Short names for logs and status ("LDS", "CDS"...). */
export function shortName(typeUrl: string): string {
  switch (typeUrl) {
    case LISTENER:
      return 'LDS';
    case ROUTE:
      return 'RDS';
    case CLUSTER:
      return 'CDS';
    case ENDPOINT:
      return 'EDS';
    default:
      return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  }
}
