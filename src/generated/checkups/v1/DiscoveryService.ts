// Original file: proto/checkups/v1/discovery.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { FeedbackBatchRequest as _checkups_v1_FeedbackBatchRequest, FeedbackBatchRequest__Output as _checkups_v1_FeedbackBatchRequest__Output } from '../../checkups/v1/FeedbackBatchRequest.ts';
import type { FeedbackBatchResponse as _checkups_v1_FeedbackBatchResponse, FeedbackBatchResponse__Output as _checkups_v1_FeedbackBatchResponse__Output } from '../../checkups/v1/FeedbackBatchResponse.ts';
import type { FeedbackRequest as _checkups_v1_FeedbackRequest, FeedbackRequest__Output as _checkups_v1_FeedbackRequest__Output } from '../../checkups/v1/FeedbackRequest.ts';
import type { FeedbackResponse as _checkups_v1_FeedbackResponse, FeedbackResponse__Output as _checkups_v1_FeedbackResponse__Output } from '../../checkups/v1/FeedbackResponse.ts';
import type { GetStatusRequest as _checkups_v1_GetStatusRequest, GetStatusRequest__Output as _checkups_v1_GetStatusRequest__Output } from '../../checkups/v1/GetStatusRequest.ts';
import type { GetStatusResponse as _checkups_v1_GetStatusResponse, GetStatusResponse__Output as _checkups_v1_GetStatusResponse__Output } from '../../checkups/v1/GetStatusResponse.ts';
import type { GetUpsTimeoutRequest as _checkups_v1_GetUpsTimeoutRequest, GetUpsTimeoutRequest__Output as _checkups_v1_GetUpsTimeoutRequest__Output } from '../../checkups/v1/GetUpsTimeoutRequest.ts';
import type { GetUpsTimeoutResponse as _checkups_v1_GetUpsTimeoutResponse, GetUpsTimeoutResponse__Output as _checkups_v1_GetUpsTimeoutResponse__Output } from '../../checkups/v1/GetUpsTimeoutResponse.ts';
import type { SelectPeerRequest as _checkups_v1_SelectPeerRequest, SelectPeerRequest__Output as _checkups_v1_SelectPeerRequest__Output } from '../../checkups/v1/SelectPeerRequest.ts';
import type { SelectPeerResponse as _checkups_v1_SelectPeerResponse, SelectPeerResponse__Output as _checkups_v1_SelectPeerResponse__Output } from '../../checkups/v1/SelectPeerResponse.ts';
import type { WatchRequest as _checkups_v1_WatchRequest, WatchRequest__Output as _checkups_v1_WatchRequest__Output } from '../../checkups/v1/WatchRequest.ts';
import type { WatchResponse as _checkups_v1_WatchResponse, WatchResponse__Output as _checkups_v1_WatchResponse__Output } from '../../checkups/v1/WatchResponse.ts';

/**
 * DiscoveryService is what services and clients call: stream upstream
 * membership and health, pick a peer per request, report outcomes.
 */
export interface DiscoveryServiceClient extends grpc.Client {
  /**
   * Feedback reports the outcome of one request to a peer (feedback_status):
   * failures count toward the peer's max_fails within fail_timeout.
   */
  Feedback(argument: _checkups_v1_FeedbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  Feedback(argument: _checkups_v1_FeedbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  Feedback(argument: _checkups_v1_FeedbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  Feedback(argument: _checkups_v1_FeedbackRequest, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Feedback reports the outcome of one request to a peer (feedback_status):
   * failures count toward the peer's max_fails within fail_timeout.
   */
  feedback(argument: _checkups_v1_FeedbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  feedback(argument: _checkups_v1_FeedbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  feedback(argument: _checkups_v1_FeedbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  feedback(argument: _checkups_v1_FeedbackRequest, callback: grpc.requestCallback<_checkups_v1_FeedbackResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * FeedbackBatch reports many outcomes at once (what the client SDK sends, off
   * the request path). Each is applied as Feedback would; outcomes for unknown
   * upstreams or peers are counted and described, not failed as a whole.
   */
  FeedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  FeedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  FeedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  FeedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * FeedbackBatch reports many outcomes at once (what the client SDK sends, off
   * the request path). Each is applied as Feedback would; outcomes for unknown
   * upstreams or peers are counted and described, not failed as a whole.
   */
  feedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  feedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  feedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  feedbackBatch(argument: _checkups_v1_FeedbackBatchRequest, callback: grpc.requestCallback<_checkups_v1_FeedbackBatchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * GetStatus returns every upstream with peer health, passive state and the
   * health checker's own status. A response never exceeds the server's
   * max_response_bytes (default 4 MiB, gRPC clients' default receive limit):
   * when more upstreams follow, next_page_token is set and
   * upstreams_remaining says how many.
   */
  GetStatus(argument: _checkups_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _checkups_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _checkups_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _checkups_v1_GetStatusRequest, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetStatus returns every upstream with peer health, passive state and the
   * health checker's own status. A response never exceeds the server's
   * max_response_bytes (default 4 MiB, gRPC clients' default receive limit):
   * when more upstreams follow, next_page_token is set and
   * upstreams_remaining says how many.
   */
  getStatus(argument: _checkups_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _checkups_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _checkups_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _checkups_v1_GetStatusRequest, callback: grpc.requestCallback<_checkups_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * GetUpsTimeout returns an upstream's connect, send and read timeouts.
   */
  GetUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  GetUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  GetUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  GetUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetUpsTimeout returns an upstream's connect, send and read timeouts.
   */
  getUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  getUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  getUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  getUpsTimeout(argument: _checkups_v1_GetUpsTimeoutRequest, callback: grpc.requestCallback<_checkups_v1_GetUpsTimeoutResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * SelectPeer picks one peer the way select_peer does (levels in order, smooth
   * WRR or consistent hash, health and passive state) and counts it as a
   * success. NOT_FOUND for an unknown skey, UNAVAILABLE when no peer is usable.
   */
  SelectPeer(argument: _checkups_v1_SelectPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  SelectPeer(argument: _checkups_v1_SelectPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  SelectPeer(argument: _checkups_v1_SelectPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  SelectPeer(argument: _checkups_v1_SelectPeerRequest, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * SelectPeer picks one peer the way select_peer does (levels in order, smooth
   * WRR or consistent hash, health and passive state) and counts it as a
   * success. NOT_FOUND for an unknown skey, UNAVAILABLE when no peer is usable.
   */
  selectPeer(argument: _checkups_v1_SelectPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  selectPeer(argument: _checkups_v1_SelectPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  selectPeer(argument: _checkups_v1_SelectPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  selectPeer(argument: _checkups_v1_SelectPeerRequest, callback: grpc.requestCallback<_checkups_v1_SelectPeerResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Watch streams upstream snapshots: first the full state of every watched
   * upstream (or only those newer than the versions the client already holds),
   * then one message per change, coalesced over a short window. A slow reader
   * never blocks others and always ends with the latest state: intermediate
   * versions may be skipped, never reordered.
   */
  Watch(argument: _checkups_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchResponse__Output>;
  Watch(argument: _checkups_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchResponse__Output>;
  /**
   * Watch streams upstream snapshots: first the full state of every watched
   * upstream (or only those newer than the versions the client already holds),
   * then one message per change, coalesced over a short window. A slow reader
   * never blocks others and always ends with the latest state: intermediate
   * versions may be skipped, never reordered.
   */
  watch(argument: _checkups_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchResponse__Output>;
  watch(argument: _checkups_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchResponse__Output>;
  
}

/**
 * DiscoveryService is what services and clients call: stream upstream
 * membership and health, pick a peer per request, report outcomes.
 */
export interface DiscoveryServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Feedback reports the outcome of one request to a peer (feedback_status):
   * failures count toward the peer's max_fails within fail_timeout.
   */
  Feedback: grpc.handleUnaryCall<_checkups_v1_FeedbackRequest__Output, _checkups_v1_FeedbackResponse>;
  
  /**
   * FeedbackBatch reports many outcomes at once (what the client SDK sends, off
   * the request path). Each is applied as Feedback would; outcomes for unknown
   * upstreams or peers are counted and described, not failed as a whole.
   */
  FeedbackBatch: grpc.handleUnaryCall<_checkups_v1_FeedbackBatchRequest__Output, _checkups_v1_FeedbackBatchResponse>;
  
  /**
   * GetStatus returns every upstream with peer health, passive state and the
   * health checker's own status. A response never exceeds the server's
   * max_response_bytes (default 4 MiB, gRPC clients' default receive limit):
   * when more upstreams follow, next_page_token is set and
   * upstreams_remaining says how many.
   */
  GetStatus: grpc.handleUnaryCall<_checkups_v1_GetStatusRequest__Output, _checkups_v1_GetStatusResponse>;
  
  /**
   * GetUpsTimeout returns an upstream's connect, send and read timeouts.
   */
  GetUpsTimeout: grpc.handleUnaryCall<_checkups_v1_GetUpsTimeoutRequest__Output, _checkups_v1_GetUpsTimeoutResponse>;
  
  /**
   * SelectPeer picks one peer the way select_peer does (levels in order, smooth
   * WRR or consistent hash, health and passive state) and counts it as a
   * success. NOT_FOUND for an unknown skey, UNAVAILABLE when no peer is usable.
   */
  SelectPeer: grpc.handleUnaryCall<_checkups_v1_SelectPeerRequest__Output, _checkups_v1_SelectPeerResponse>;
  
  /**
   * Watch streams upstream snapshots: first the full state of every watched
   * upstream (or only those newer than the versions the client already holds),
   * then one message per change, coalesced over a short window. A slow reader
   * never blocks others and always ends with the latest state: intermediate
   * versions may be skipped, never reordered.
   */
  Watch: grpc.handleServerStreamingCall<_checkups_v1_WatchRequest__Output, _checkups_v1_WatchResponse>;
  
}

export interface DiscoveryServiceDefinition extends grpc.ServiceDefinition {
  Feedback: MethodDefinition<_checkups_v1_FeedbackRequest, _checkups_v1_FeedbackResponse, _checkups_v1_FeedbackRequest__Output, _checkups_v1_FeedbackResponse__Output>
  FeedbackBatch: MethodDefinition<_checkups_v1_FeedbackBatchRequest, _checkups_v1_FeedbackBatchResponse, _checkups_v1_FeedbackBatchRequest__Output, _checkups_v1_FeedbackBatchResponse__Output>
  GetStatus: MethodDefinition<_checkups_v1_GetStatusRequest, _checkups_v1_GetStatusResponse, _checkups_v1_GetStatusRequest__Output, _checkups_v1_GetStatusResponse__Output>
  GetUpsTimeout: MethodDefinition<_checkups_v1_GetUpsTimeoutRequest, _checkups_v1_GetUpsTimeoutResponse, _checkups_v1_GetUpsTimeoutRequest__Output, _checkups_v1_GetUpsTimeoutResponse__Output>
  SelectPeer: MethodDefinition<_checkups_v1_SelectPeerRequest, _checkups_v1_SelectPeerResponse, _checkups_v1_SelectPeerRequest__Output, _checkups_v1_SelectPeerResponse__Output>
  Watch: MethodDefinition<_checkups_v1_WatchRequest, _checkups_v1_WatchResponse, _checkups_v1_WatchRequest__Output, _checkups_v1_WatchResponse__Output>
}
