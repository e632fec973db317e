// Original file: proto/checkups/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddPeerRequest as _checkups_v1_AddPeerRequest, AddPeerRequest__Output as _checkups_v1_AddPeerRequest__Output } from '../../checkups/v1/AddPeerRequest.ts';
import type { AddPeerResponse as _checkups_v1_AddPeerResponse, AddPeerResponse__Output as _checkups_v1_AddPeerResponse__Output } from '../../checkups/v1/AddPeerResponse.ts';
import type { DeleteUpstreamRequest as _checkups_v1_DeleteUpstreamRequest, DeleteUpstreamRequest__Output as _checkups_v1_DeleteUpstreamRequest__Output } from '../../checkups/v1/DeleteUpstreamRequest.ts';
import type { DeleteUpstreamResponse as _checkups_v1_DeleteUpstreamResponse, DeleteUpstreamResponse__Output as _checkups_v1_DeleteUpstreamResponse__Output } from '../../checkups/v1/DeleteUpstreamResponse.ts';
import type { GetServersRequest as _checkups_v1_GetServersRequest, GetServersRequest__Output as _checkups_v1_GetServersRequest__Output } from '../../checkups/v1/GetServersRequest.ts';
import type { GetServersResponse as _checkups_v1_GetServersResponse, GetServersResponse__Output as _checkups_v1_GetServersResponse__Output } from '../../checkups/v1/GetServersResponse.ts';
import type { GetUpstreamRequest as _checkups_v1_GetUpstreamRequest, GetUpstreamRequest__Output as _checkups_v1_GetUpstreamRequest__Output } from '../../checkups/v1/GetUpstreamRequest.ts';
import type { GetUpstreamResponse as _checkups_v1_GetUpstreamResponse, GetUpstreamResponse__Output as _checkups_v1_GetUpstreamResponse__Output } from '../../checkups/v1/GetUpstreamResponse.ts';
import type { ListUpstreamsRequest as _checkups_v1_ListUpstreamsRequest, ListUpstreamsRequest__Output as _checkups_v1_ListUpstreamsRequest__Output } from '../../checkups/v1/ListUpstreamsRequest.ts';
import type { ListUpstreamsResponse as _checkups_v1_ListUpstreamsResponse, ListUpstreamsResponse__Output as _checkups_v1_ListUpstreamsResponse__Output } from '../../checkups/v1/ListUpstreamsResponse.ts';
import type { RemovePeerRequest as _checkups_v1_RemovePeerRequest, RemovePeerRequest__Output as _checkups_v1_RemovePeerRequest__Output } from '../../checkups/v1/RemovePeerRequest.ts';
import type { RemovePeerResponse as _checkups_v1_RemovePeerResponse, RemovePeerResponse__Output as _checkups_v1_RemovePeerResponse__Output } from '../../checkups/v1/RemovePeerResponse.ts';
import type { SetPeerDownRequest as _checkups_v1_SetPeerDownRequest, SetPeerDownRequest__Output as _checkups_v1_SetPeerDownRequest__Output } from '../../checkups/v1/SetPeerDownRequest.ts';
import type { SetPeerDownResponse as _checkups_v1_SetPeerDownResponse, SetPeerDownResponse__Output as _checkups_v1_SetPeerDownResponse__Output } from '../../checkups/v1/SetPeerDownResponse.ts';
import type { SetPeerUpRequest as _checkups_v1_SetPeerUpRequest, SetPeerUpRequest__Output as _checkups_v1_SetPeerUpRequest__Output } from '../../checkups/v1/SetPeerUpRequest.ts';
import type { SetPeerUpResponse as _checkups_v1_SetPeerUpResponse, SetPeerUpResponse__Output as _checkups_v1_SetPeerUpResponse__Output } from '../../checkups/v1/SetPeerUpResponse.ts';
import type { UpdatePeerRequest as _checkups_v1_UpdatePeerRequest, UpdatePeerRequest__Output as _checkups_v1_UpdatePeerRequest__Output } from '../../checkups/v1/UpdatePeerRequest.ts';
import type { UpdatePeerResponse as _checkups_v1_UpdatePeerResponse, UpdatePeerResponse__Output as _checkups_v1_UpdatePeerResponse__Output } from '../../checkups/v1/UpdatePeerResponse.ts';
import type { UpdateUpstreamRequest as _checkups_v1_UpdateUpstreamRequest, UpdateUpstreamRequest__Output as _checkups_v1_UpdateUpstreamRequest__Output } from '../../checkups/v1/UpdateUpstreamRequest.ts';
import type { UpdateUpstreamResponse as _checkups_v1_UpdateUpstreamResponse, UpdateUpstreamResponse__Output as _checkups_v1_UpdateUpstreamResponse__Output } from '../../checkups/v1/UpdateUpstreamResponse.ts';
import type { WatchEventsRequest as _checkups_v1_WatchEventsRequest, WatchEventsRequest__Output as _checkups_v1_WatchEventsRequest__Output } from '../../checkups/v1/WatchEventsRequest.ts';
import type { WatchEventsResponse as _checkups_v1_WatchEventsResponse, WatchEventsResponse__Output as _checkups_v1_WatchEventsResponse__Output } from '../../checkups/v1/WatchEventsResponse.ts';

/**
 * AdminService changes upstreams at run time. Every call needs
 * `authorization: Bearer <token>` metadata. A write is validated completely
 * before anything changes, is on disk before it is acknowledged, and returns
 * the upstream's new version.
 */
export interface AdminServiceClient extends grpc.Client {
  /**
   * AddPeer adds a server to one cluster (ngx_dynamic_upstream add).
   */
  AddPeer(argument: _checkups_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _checkups_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _checkups_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _checkups_v1_AddPeerRequest, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * AddPeer adds a server to one cluster (ngx_dynamic_upstream add).
   */
  addPeer(argument: _checkups_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _checkups_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _checkups_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _checkups_v1_AddPeerRequest, callback: grpc.requestCallback<_checkups_v1_AddPeerResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * DeleteUpstream removes an upstream. NOT_FOUND if it does not exist.
   */
  DeleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  DeleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  DeleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  DeleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  /**
   * DeleteUpstream removes an upstream. NOT_FOUND if it does not exist.
   */
  deleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  deleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  deleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  deleteUpstream(argument: _checkups_v1_DeleteUpstreamRequest, callback: grpc.requestCallback<_checkups_v1_DeleteUpstreamResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * GetServers lists an upstream's servers per cluster with their status.
   */
  GetServers(argument: _checkups_v1_GetServersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  GetServers(argument: _checkups_v1_GetServersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  GetServers(argument: _checkups_v1_GetServersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  GetServers(argument: _checkups_v1_GetServersRequest, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetServers lists an upstream's servers per cluster with their status.
   */
  getServers(argument: _checkups_v1_GetServersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  getServers(argument: _checkups_v1_GetServersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  getServers(argument: _checkups_v1_GetServersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  getServers(argument: _checkups_v1_GetServersRequest, callback: grpc.requestCallback<_checkups_v1_GetServersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * GetUpstream returns one upstream's configuration document.
   */
  GetUpstream(argument: _checkups_v1_GetUpstreamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  GetUpstream(argument: _checkups_v1_GetUpstreamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  GetUpstream(argument: _checkups_v1_GetUpstreamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  GetUpstream(argument: _checkups_v1_GetUpstreamRequest, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  /**
   * GetUpstream returns one upstream's configuration document.
   */
  getUpstream(argument: _checkups_v1_GetUpstreamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  getUpstream(argument: _checkups_v1_GetUpstreamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  getUpstream(argument: _checkups_v1_GetUpstreamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  getUpstream(argument: _checkups_v1_GetUpstreamRequest, callback: grpc.requestCallback<_checkups_v1_GetUpstreamResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * ListUpstreams lists every upstream with its version and size.
   */
  ListUpstreams(argument: _checkups_v1_ListUpstreamsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  ListUpstreams(argument: _checkups_v1_ListUpstreamsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  ListUpstreams(argument: _checkups_v1_ListUpstreamsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  ListUpstreams(argument: _checkups_v1_ListUpstreamsRequest, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * ListUpstreams lists every upstream with its version and size.
   */
  listUpstreams(argument: _checkups_v1_ListUpstreamsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  listUpstreams(argument: _checkups_v1_ListUpstreamsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  listUpstreams(argument: _checkups_v1_ListUpstreamsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  listUpstreams(argument: _checkups_v1_ListUpstreamsRequest, callback: grpc.requestCallback<_checkups_v1_ListUpstreamsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * RemovePeer removes a server from one cluster, or from all (remove).
   */
  RemovePeer(argument: _checkups_v1_RemovePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _checkups_v1_RemovePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _checkups_v1_RemovePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  RemovePeer(argument: _checkups_v1_RemovePeerRequest, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * RemovePeer removes a server from one cluster, or from all (remove).
   */
  removePeer(argument: _checkups_v1_RemovePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _checkups_v1_RemovePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _checkups_v1_RemovePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  removePeer(argument: _checkups_v1_RemovePeerRequest, callback: grpc.requestCallback<_checkups_v1_RemovePeerResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * SetPeerDown takes a server out of rotation everywhere it is listed (down).
   */
  SetPeerDown(argument: _checkups_v1_SetPeerDownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  SetPeerDown(argument: _checkups_v1_SetPeerDownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  SetPeerDown(argument: _checkups_v1_SetPeerDownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  SetPeerDown(argument: _checkups_v1_SetPeerDownRequest, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  /**
   * SetPeerDown takes a server out of rotation everywhere it is listed (down).
   */
  setPeerDown(argument: _checkups_v1_SetPeerDownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  setPeerDown(argument: _checkups_v1_SetPeerDownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  setPeerDown(argument: _checkups_v1_SetPeerDownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  setPeerDown(argument: _checkups_v1_SetPeerDownRequest, callback: grpc.requestCallback<_checkups_v1_SetPeerDownResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * SetPeerUp puts a server back into rotation (up).
   */
  SetPeerUp(argument: _checkups_v1_SetPeerUpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  SetPeerUp(argument: _checkups_v1_SetPeerUpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  SetPeerUp(argument: _checkups_v1_SetPeerUpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  SetPeerUp(argument: _checkups_v1_SetPeerUpRequest, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  /**
   * SetPeerUp puts a server back into rotation (up).
   */
  setPeerUp(argument: _checkups_v1_SetPeerUpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  setPeerUp(argument: _checkups_v1_SetPeerUpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  setPeerUp(argument: _checkups_v1_SetPeerUpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  setPeerUp(argument: _checkups_v1_SetPeerUpRequest, callback: grpc.requestCallback<_checkups_v1_SetPeerUpResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * UpdatePeer changes a server's weight, max_fails or fail_timeout
   * everywhere it is listed (update).
   */
  UpdatePeer(argument: _checkups_v1_UpdatePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  UpdatePeer(argument: _checkups_v1_UpdatePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  UpdatePeer(argument: _checkups_v1_UpdatePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  UpdatePeer(argument: _checkups_v1_UpdatePeerRequest, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * UpdatePeer changes a server's weight, max_fails or fail_timeout
   * everywhere it is listed (update).
   */
  updatePeer(argument: _checkups_v1_UpdatePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _checkups_v1_UpdatePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _checkups_v1_UpdatePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _checkups_v1_UpdatePeerRequest, callback: grpc.requestCallback<_checkups_v1_UpdatePeerResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * UpdateUpstream creates or replaces an upstream (update_upstream). Give the
   * whole document in `upstream` (it must hold `cluster`), or only the cluster
   * map in `cluster` to keep the stored options. Health of servers that stay
   * is kept. INVALID_ARGUMENT lists every problem with its field path.
   */
  UpdateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  UpdateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  UpdateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  UpdateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  /**
   * UpdateUpstream creates or replaces an upstream (update_upstream). Give the
   * whole document in `upstream` (it must hold `cluster`), or only the cluster
   * map in `cluster` to keep the stored options. Health of servers that stay
   * is kept. INVALID_ARGUMENT lists every problem with its field path.
   */
  updateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  updateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  updateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  updateUpstream(argument: _checkups_v1_UpdateUpstreamRequest, callback: grpc.requestCallback<_checkups_v1_UpdateUpstreamResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * WatchEvents reads the event and audit trail: health transitions (active,
   * passive, admin), admin changes with who made them, refused calls, config
   * reloads. First the events the server still holds (see WatchEventsRequest),
   * then, with `follow`, new ones as they happen. A reader that falls behind
   * the server's event ring skips ahead and is told how many it missed.
   */
  WatchEvents(argument: _checkups_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchEventsResponse__Output>;
  WatchEvents(argument: _checkups_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchEventsResponse__Output>;
  /**
   * WatchEvents reads the event and audit trail: health transitions (active,
   * passive, admin), admin changes with who made them, refused calls, config
   * reloads. First the events the server still holds (see WatchEventsRequest),
   * then, with `follow`, new ones as they happen. A reader that falls behind
   * the server's event ring skips ahead and is told how many it missed.
   */
  watchEvents(argument: _checkups_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchEventsResponse__Output>;
  watchEvents(argument: _checkups_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_checkups_v1_WatchEventsResponse__Output>;
  
}

/**
 * AdminService changes upstreams at run time. Every call needs
 * `authorization: Bearer <token>` metadata. A write is validated completely
 * before anything changes, is on disk before it is acknowledged, and returns
 * the upstream's new version.
 */
export interface AdminServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * AddPeer adds a server to one cluster (ngx_dynamic_upstream add).
   */
  AddPeer: grpc.handleUnaryCall<_checkups_v1_AddPeerRequest__Output, _checkups_v1_AddPeerResponse>;
  
  /**
   * DeleteUpstream removes an upstream. NOT_FOUND if it does not exist.
   */
  DeleteUpstream: grpc.handleUnaryCall<_checkups_v1_DeleteUpstreamRequest__Output, _checkups_v1_DeleteUpstreamResponse>;
  
  /**
   * GetServers lists an upstream's servers per cluster with their status.
   */
  GetServers: grpc.handleUnaryCall<_checkups_v1_GetServersRequest__Output, _checkups_v1_GetServersResponse>;
  
  /**
   * GetUpstream returns one upstream's configuration document.
   */
  GetUpstream: grpc.handleUnaryCall<_checkups_v1_GetUpstreamRequest__Output, _checkups_v1_GetUpstreamResponse>;
  
  /**
   * ListUpstreams lists every upstream with its version and size.
   */
  ListUpstreams: grpc.handleUnaryCall<_checkups_v1_ListUpstreamsRequest__Output, _checkups_v1_ListUpstreamsResponse>;
  
  /**
   * RemovePeer removes a server from one cluster, or from all (remove).
   */
  RemovePeer: grpc.handleUnaryCall<_checkups_v1_RemovePeerRequest__Output, _checkups_v1_RemovePeerResponse>;
  
  /**
   * SetPeerDown takes a server out of rotation everywhere it is listed (down).
   */
  SetPeerDown: grpc.handleUnaryCall<_checkups_v1_SetPeerDownRequest__Output, _checkups_v1_SetPeerDownResponse>;
  
  /**
   * SetPeerUp puts a server back into rotation (up).
   */
  SetPeerUp: grpc.handleUnaryCall<_checkups_v1_SetPeerUpRequest__Output, _checkups_v1_SetPeerUpResponse>;
  
  /**
   * UpdatePeer changes a server's weight, max_fails or fail_timeout
   * everywhere it is listed (update).
   */
  UpdatePeer: grpc.handleUnaryCall<_checkups_v1_UpdatePeerRequest__Output, _checkups_v1_UpdatePeerResponse>;
  
  /**
   * UpdateUpstream creates or replaces an upstream (update_upstream). Give the
   * whole document in `upstream` (it must hold `cluster`), or only the cluster
   * map in `cluster` to keep the stored options. Health of servers that stay
   * is kept. INVALID_ARGUMENT lists every problem with its field path.
   */
  UpdateUpstream: grpc.handleUnaryCall<_checkups_v1_UpdateUpstreamRequest__Output, _checkups_v1_UpdateUpstreamResponse>;
  
  /**
   * WatchEvents reads the event and audit trail: health transitions (active,
   * passive, admin), admin changes with who made them, refused calls, config
   * reloads. First the events the server still holds (see WatchEventsRequest),
   * then, with `follow`, new ones as they happen. A reader that falls behind
   * the server's event ring skips ahead and is told how many it missed.
   */
  WatchEvents: grpc.handleServerStreamingCall<_checkups_v1_WatchEventsRequest__Output, _checkups_v1_WatchEventsResponse>;
  
}

export interface AdminServiceDefinition extends grpc.ServiceDefinition {
  AddPeer: MethodDefinition<_checkups_v1_AddPeerRequest, _checkups_v1_AddPeerResponse, _checkups_v1_AddPeerRequest__Output, _checkups_v1_AddPeerResponse__Output>
  DeleteUpstream: MethodDefinition<_checkups_v1_DeleteUpstreamRequest, _checkups_v1_DeleteUpstreamResponse, _checkups_v1_DeleteUpstreamRequest__Output, _checkups_v1_DeleteUpstreamResponse__Output>
  GetServers: MethodDefinition<_checkups_v1_GetServersRequest, _checkups_v1_GetServersResponse, _checkups_v1_GetServersRequest__Output, _checkups_v1_GetServersResponse__Output>
  GetUpstream: MethodDefinition<_checkups_v1_GetUpstreamRequest, _checkups_v1_GetUpstreamResponse, _checkups_v1_GetUpstreamRequest__Output, _checkups_v1_GetUpstreamResponse__Output>
  ListUpstreams: MethodDefinition<_checkups_v1_ListUpstreamsRequest, _checkups_v1_ListUpstreamsResponse, _checkups_v1_ListUpstreamsRequest__Output, _checkups_v1_ListUpstreamsResponse__Output>
  RemovePeer: MethodDefinition<_checkups_v1_RemovePeerRequest, _checkups_v1_RemovePeerResponse, _checkups_v1_RemovePeerRequest__Output, _checkups_v1_RemovePeerResponse__Output>
  SetPeerDown: MethodDefinition<_checkups_v1_SetPeerDownRequest, _checkups_v1_SetPeerDownResponse, _checkups_v1_SetPeerDownRequest__Output, _checkups_v1_SetPeerDownResponse__Output>
  SetPeerUp: MethodDefinition<_checkups_v1_SetPeerUpRequest, _checkups_v1_SetPeerUpResponse, _checkups_v1_SetPeerUpRequest__Output, _checkups_v1_SetPeerUpResponse__Output>
  UpdatePeer: MethodDefinition<_checkups_v1_UpdatePeerRequest, _checkups_v1_UpdatePeerResponse, _checkups_v1_UpdatePeerRequest__Output, _checkups_v1_UpdatePeerResponse__Output>
  UpdateUpstream: MethodDefinition<_checkups_v1_UpdateUpstreamRequest, _checkups_v1_UpdateUpstreamResponse, _checkups_v1_UpdateUpstreamRequest__Output, _checkups_v1_UpdateUpstreamResponse__Output>
  WatchEvents: MethodDefinition<_checkups_v1_WatchEventsRequest, _checkups_v1_WatchEventsResponse, _checkups_v1_WatchEventsRequest__Output, _checkups_v1_WatchEventsResponse__Output>
}
