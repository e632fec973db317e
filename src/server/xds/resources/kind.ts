/** The contract of one resource kind (cluster.ts, endpoint.ts, listener.ts, route.ts). */
import type { ResourceTypeUrl } from '../type-urls.ts';
import type { EndpointContext } from './endpoint.ts';
import type { ServiceTree } from './tree.ts';

export interface ResourceKind {
  readonly typeUrl: ResourceTypeUrl;
  /** Rebuilt on health and DNS changes too (false: on spec changes only). */
  readonly dynamic: boolean;
  /** The resource's fields, or undefined when it cannot be built yet (keep the previous one). */
  build(tree: ServiceTree, ctx: EndpointContext): object | undefined;
}
