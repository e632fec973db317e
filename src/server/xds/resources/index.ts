/**
 * The resource kinds checkups publishes per tree (tree.ts), in ADS push order. Adding a kind is
 * one file exporting `{ typeUrl, dynamic, onDemand, build }` plus one entry here; the cache and the
 * stream handlers dispatch on type URL and stay untouched.
 */
import { clusterType } from './cluster.ts';
import { endpointType, type EndpointContext } from './endpoint.ts';
import type { ResourceKind } from './kind.ts';
import { listenerType } from './listener.ts';
import { routeType } from './route.ts';
import type { ServiceTree } from './tree.ts';

export const RESOURCE_KINDS = [clusterType, endpointType, listenerType, routeType] as const satisfies readonly ResourceKind[];

export type { EndpointContext, ResourceKind, ServiceTree };
