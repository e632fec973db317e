/**
 * The largest response checkups writes on its own initiative, `server.max_response_bytes`:
 * GetStatus pages (grpc/discovery.ts) and xDS responses (xds/response-size.ts) stay under it.
 */

/** gRPC clients' default receive limit (grpc-js, grpc-go, C-core): 4 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
