/** The contract of one resource kind (cluster.ts, endpoint.ts, listener.ts, route.ts). */
import type { ResourceTypeUrl } from '../type-urls.ts';
import type { EndpointContext } from './endpoint.ts';
import type { ServiceTree } from './tree.ts';

export interface ResourceKind {
  readonly typeUrl: ResourceTypeUrl;
  /** Rebuilt on health and DNS changes too (false: on spec changes only). */
  readonly dynamic: boolean;
  /**
   * Built only for names some stream subscribes to, when it first asks and on changes while it
   * does (cache.ts). Only for a type without wildcard subscriptions (type-urls.ts), whose
   * subscribers all name what they want.
   */
  readonly onDemand: boolean;
  /** The resource's fields, or undefined when it cannot be built yet (keep the previous one). */
  build(tree: ServiceTree, ctx: EndpointContext): object | undefined;
}
