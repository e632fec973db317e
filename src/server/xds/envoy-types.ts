/**
 * Plain-object shapes of the Envoy messages checkups builds and reads: only the fields we use,
 * snake_case as proto-loader's `keepCase` expects. The messages themselves come from the
 * Envoy protos shipped in @grpc/grpc-js-xds (proto.ts); these types only keep our builders
 * honest. An Any is written `{ '@type': typeUrl, ...fields }` (protobufjs' Any wrapper packs it).
 */

export interface UInt32Value {
  readonly value: number;
}

export interface ConfigSource {
  readonly ads: Record<string, never>;
  readonly resource_api_version: 'V3';
}

export interface Listener {
  readonly name: string;
  readonly api_listener: { readonly api_listener: HttpConnectionManagerAny };
}

export interface HttpConnectionManagerAny {
  readonly '@type': string;
  readonly stat_prefix: string;
  readonly rds: { readonly route_config_name: string; readonly config_source: ConfigSource };
  readonly http_filters: ReadonlyArray<{ readonly name: string; readonly typed_config: { readonly '@type': string } }>;
}

export type HashPolicy =
  | { readonly header: { readonly header_name: string }; readonly terminal?: boolean }
  | { readonly connection_properties: { readonly source_ip: boolean }; readonly terminal?: boolean }
  | { readonly filter_state: { readonly key: string }; readonly terminal?: boolean };

export interface RouteConfiguration {
  readonly name: string;
  readonly virtual_hosts: ReadonlyArray<{
    readonly name: string;
    readonly domains: readonly string[];
    readonly routes: ReadonlyArray<{
      readonly match: { readonly prefix: string };
      readonly route: { readonly cluster: string; readonly hash_policy: readonly HashPolicy[] };
    }>;
  }>;
}

export interface Cluster {
  readonly name: string;
  readonly type: 'EDS';
  readonly eds_cluster_config: { readonly eds_config: ConfigSource; readonly service_name: string };
  readonly lb_policy: 'ROUND_ROBIN' | 'RING_HASH';
  readonly connect_timeout: Duration;
  readonly common_lb_config: {
    /** 0 turns Envoy's panic mode off: it never spreads traffic onto unhealthy hosts. */
    readonly healthy_panic_threshold: { readonly value: number };
    /** Envoy honours locality weights only with this set (gRPC always does). */
    readonly locality_weighted_lb_config: Record<string, never>;
  };
  readonly typed_extension_protocol_options: Readonly<
    Record<string, { readonly '@type': string; readonly use_downstream_protocol_config: { readonly http_protocol_options: Record<string, never>; readonly http2_protocol_options: Record<string, never> } }>
  >;
  readonly circuit_breakers?: { readonly thresholds: ReadonlyArray<{ readonly priority: 'DEFAULT'; readonly max_requests: UInt32Value }> };
  readonly round_robin_lb_config?: { readonly slow_start_config: SlowStartConfig };
}

/** Cluster.SlowStartConfig. */
export interface SlowStartConfig {
  readonly slow_start_window: Duration;
  /** core.v3.RuntimeDouble: Envoy requires a runtime key; its value (if set in Envoy's runtime) wins over the default. */
  readonly aggression?: { readonly default_value: number; readonly runtime_key: string };
  /** type.v3.Percent, 0..100. */
  readonly min_weight_percent: { readonly value: number };
}

export interface Duration {
  readonly seconds: number;
  readonly nanos: number;
}

export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

export interface LbEndpoint {
  readonly endpoint: { readonly address: { readonly socket_address: { readonly address: string; readonly port_value: number } } };
  readonly health_status: HealthStatus;
  readonly load_balancing_weight: UInt32Value;
}

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly sub_zone: string;
}

export interface LocalityLbEndpoints {
  readonly locality: Locality;
  readonly lb_endpoints: readonly LbEndpoint[];
  readonly load_balancing_weight: UInt32Value;
  readonly priority: number;
}

export interface ClusterLoadAssignment {
  readonly cluster_name: string;
  readonly endpoints: readonly LocalityLbEndpoints[];
  readonly policy: { readonly overprovisioning_factor: UInt32Value };
}

/** config.core.v3.Node as decoded (only what we read). */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly user_agent_name: string;
  readonly user_agent_version?: string;
  readonly client_features: readonly string[];
}

/** google.rpc.Status as decoded. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

/** DiscoveryRequest as proto-loader decodes it (defaults on: absent messages are null). */
export interface DiscoveryRequest {
  readonly version_info: string;
  readonly node: NodeInfo | null;
  readonly resource_names: readonly string[];
  readonly type_url: string;
  readonly response_nonce: string;
  readonly error_detail: RpcStatus | null;
}

export interface DeltaDiscoveryRequest {
  readonly node: NodeInfo | null;
  readonly type_url: string;
  readonly resource_names_subscribe: readonly string[];
  readonly resource_names_unsubscribe: readonly string[];
  readonly initial_resource_versions: Readonly<Record<string, string>>;
  readonly response_nonce: string;
  readonly error_detail: RpcStatus | null;
}
