import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddPeerRequest as _checkups_v1_AddPeerRequest, AddPeerRequest__Output as _checkups_v1_AddPeerRequest__Output } from './checkups/v1/AddPeerRequest.ts';
import type { AddPeerResponse as _checkups_v1_AddPeerResponse, AddPeerResponse__Output as _checkups_v1_AddPeerResponse__Output } from './checkups/v1/AddPeerResponse.ts';
import type { AdminServiceClient as _checkups_v1_AdminServiceClient, AdminServiceDefinition as _checkups_v1_AdminServiceDefinition } from './checkups/v1/AdminService.ts';
import type { CheckerStatus as _checkups_v1_CheckerStatus, CheckerStatus__Output as _checkups_v1_CheckerStatus__Output } from './checkups/v1/CheckerStatus.ts';
import type { ClusterState as _checkups_v1_ClusterState, ClusterState__Output as _checkups_v1_ClusterState__Output } from './checkups/v1/ClusterState.ts';
import type { ClusterStatus as _checkups_v1_ClusterStatus, ClusterStatus__Output as _checkups_v1_ClusterStatus__Output } from './checkups/v1/ClusterStatus.ts';
import type { DeleteUpstreamRequest as _checkups_v1_DeleteUpstreamRequest, DeleteUpstreamRequest__Output as _checkups_v1_DeleteUpstreamRequest__Output } from './checkups/v1/DeleteUpstreamRequest.ts';
import type { DeleteUpstreamResponse as _checkups_v1_DeleteUpstreamResponse, DeleteUpstreamResponse__Output as _checkups_v1_DeleteUpstreamResponse__Output } from './checkups/v1/DeleteUpstreamResponse.ts';
import type { DiscoveryServiceClient as _checkups_v1_DiscoveryServiceClient, DiscoveryServiceDefinition as _checkups_v1_DiscoveryServiceDefinition } from './checkups/v1/DiscoveryService.ts';
import type { Event as _checkups_v1_Event, Event__Output as _checkups_v1_Event__Output } from './checkups/v1/Event.ts';
import type { FeedbackBatchRequest as _checkups_v1_FeedbackBatchRequest, FeedbackBatchRequest__Output as _checkups_v1_FeedbackBatchRequest__Output } from './checkups/v1/FeedbackBatchRequest.ts';
import type { FeedbackBatchResponse as _checkups_v1_FeedbackBatchResponse, FeedbackBatchResponse__Output as _checkups_v1_FeedbackBatchResponse__Output } from './checkups/v1/FeedbackBatchResponse.ts';
import type { FeedbackRequest as _checkups_v1_FeedbackRequest, FeedbackRequest__Output as _checkups_v1_FeedbackRequest__Output } from './checkups/v1/FeedbackRequest.ts';
import type { FeedbackResponse as _checkups_v1_FeedbackResponse, FeedbackResponse__Output as _checkups_v1_FeedbackResponse__Output } from './checkups/v1/FeedbackResponse.ts';
import type { GetServersRequest as _checkups_v1_GetServersRequest, GetServersRequest__Output as _checkups_v1_GetServersRequest__Output } from './checkups/v1/GetServersRequest.ts';
import type { GetServersResponse as _checkups_v1_GetServersResponse, GetServersResponse__Output as _checkups_v1_GetServersResponse__Output } from './checkups/v1/GetServersResponse.ts';
import type { GetStatusRequest as _checkups_v1_GetStatusRequest, GetStatusRequest__Output as _checkups_v1_GetStatusRequest__Output } from './checkups/v1/GetStatusRequest.ts';
import type { GetStatusResponse as _checkups_v1_GetStatusResponse, GetStatusResponse__Output as _checkups_v1_GetStatusResponse__Output } from './checkups/v1/GetStatusResponse.ts';
import type { GetUpsTimeoutRequest as _checkups_v1_GetUpsTimeoutRequest, GetUpsTimeoutRequest__Output as _checkups_v1_GetUpsTimeoutRequest__Output } from './checkups/v1/GetUpsTimeoutRequest.ts';
import type { GetUpsTimeoutResponse as _checkups_v1_GetUpsTimeoutResponse, GetUpsTimeoutResponse__Output as _checkups_v1_GetUpsTimeoutResponse__Output } from './checkups/v1/GetUpsTimeoutResponse.ts';
import type { GetUpstreamRequest as _checkups_v1_GetUpstreamRequest, GetUpstreamRequest__Output as _checkups_v1_GetUpstreamRequest__Output } from './checkups/v1/GetUpstreamRequest.ts';
import type { GetUpstreamResponse as _checkups_v1_GetUpstreamResponse, GetUpstreamResponse__Output as _checkups_v1_GetUpstreamResponse__Output } from './checkups/v1/GetUpstreamResponse.ts';
import type { ListUpstreamsRequest as _checkups_v1_ListUpstreamsRequest, ListUpstreamsRequest__Output as _checkups_v1_ListUpstreamsRequest__Output } from './checkups/v1/ListUpstreamsRequest.ts';
import type { ListUpstreamsResponse as _checkups_v1_ListUpstreamsResponse, ListUpstreamsResponse__Output as _checkups_v1_ListUpstreamsResponse__Output } from './checkups/v1/ListUpstreamsResponse.ts';
import type { Peer as _checkups_v1_Peer, Peer__Output as _checkups_v1_Peer__Output } from './checkups/v1/Peer.ts';
import type { PeerHealth as _checkups_v1_PeerHealth, PeerHealth__Output as _checkups_v1_PeerHealth__Output } from './checkups/v1/PeerHealth.ts';
import type { PeerStatus as _checkups_v1_PeerStatus, PeerStatus__Output as _checkups_v1_PeerStatus__Output } from './checkups/v1/PeerStatus.ts';
import type { RemovePeerRequest as _checkups_v1_RemovePeerRequest, RemovePeerRequest__Output as _checkups_v1_RemovePeerRequest__Output } from './checkups/v1/RemovePeerRequest.ts';
import type { RemovePeerResponse as _checkups_v1_RemovePeerResponse, RemovePeerResponse__Output as _checkups_v1_RemovePeerResponse__Output } from './checkups/v1/RemovePeerResponse.ts';
import type { RequestAttributes as _checkups_v1_RequestAttributes, RequestAttributes__Output as _checkups_v1_RequestAttributes__Output } from './checkups/v1/RequestAttributes.ts';
import type { SelectPeerRequest as _checkups_v1_SelectPeerRequest, SelectPeerRequest__Output as _checkups_v1_SelectPeerRequest__Output } from './checkups/v1/SelectPeerRequest.ts';
import type { SelectPeerResponse as _checkups_v1_SelectPeerResponse, SelectPeerResponse__Output as _checkups_v1_SelectPeerResponse__Output } from './checkups/v1/SelectPeerResponse.ts';
import type { SelectedPeer as _checkups_v1_SelectedPeer, SelectedPeer__Output as _checkups_v1_SelectedPeer__Output } from './checkups/v1/SelectedPeer.ts';
import type { Server as _checkups_v1_Server, Server__Output as _checkups_v1_Server__Output } from './checkups/v1/Server.ts';
import type { SetPeerDownRequest as _checkups_v1_SetPeerDownRequest, SetPeerDownRequest__Output as _checkups_v1_SetPeerDownRequest__Output } from './checkups/v1/SetPeerDownRequest.ts';
import type { SetPeerDownResponse as _checkups_v1_SetPeerDownResponse, SetPeerDownResponse__Output as _checkups_v1_SetPeerDownResponse__Output } from './checkups/v1/SetPeerDownResponse.ts';
import type { SetPeerUpRequest as _checkups_v1_SetPeerUpRequest, SetPeerUpRequest__Output as _checkups_v1_SetPeerUpRequest__Output } from './checkups/v1/SetPeerUpRequest.ts';
import type { SetPeerUpResponse as _checkups_v1_SetPeerUpResponse, SetPeerUpResponse__Output as _checkups_v1_SetPeerUpResponse__Output } from './checkups/v1/SetPeerUpResponse.ts';
import type { StoreStatus as _checkups_v1_StoreStatus, StoreStatus__Output as _checkups_v1_StoreStatus__Output } from './checkups/v1/StoreStatus.ts';
import type { UpdatePeerRequest as _checkups_v1_UpdatePeerRequest, UpdatePeerRequest__Output as _checkups_v1_UpdatePeerRequest__Output } from './checkups/v1/UpdatePeerRequest.ts';
import type { UpdatePeerResponse as _checkups_v1_UpdatePeerResponse, UpdatePeerResponse__Output as _checkups_v1_UpdatePeerResponse__Output } from './checkups/v1/UpdatePeerResponse.ts';
import type { UpdateUpstreamRequest as _checkups_v1_UpdateUpstreamRequest, UpdateUpstreamRequest__Output as _checkups_v1_UpdateUpstreamRequest__Output } from './checkups/v1/UpdateUpstreamRequest.ts';
import type { UpdateUpstreamResponse as _checkups_v1_UpdateUpstreamResponse, UpdateUpstreamResponse__Output as _checkups_v1_UpdateUpstreamResponse__Output } from './checkups/v1/UpdateUpstreamResponse.ts';
import type { UpstreamSnapshot as _checkups_v1_UpstreamSnapshot, UpstreamSnapshot__Output as _checkups_v1_UpstreamSnapshot__Output } from './checkups/v1/UpstreamSnapshot.ts';
import type { UpstreamStatus as _checkups_v1_UpstreamStatus, UpstreamStatus__Output as _checkups_v1_UpstreamStatus__Output } from './checkups/v1/UpstreamStatus.ts';
import type { UpstreamSummary as _checkups_v1_UpstreamSummary, UpstreamSummary__Output as _checkups_v1_UpstreamSummary__Output } from './checkups/v1/UpstreamSummary.ts';
import type { WatchEventsRequest as _checkups_v1_WatchEventsRequest, WatchEventsRequest__Output as _checkups_v1_WatchEventsRequest__Output } from './checkups/v1/WatchEventsRequest.ts';
import type { WatchEventsResponse as _checkups_v1_WatchEventsResponse, WatchEventsResponse__Output as _checkups_v1_WatchEventsResponse__Output } from './checkups/v1/WatchEventsResponse.ts';
import type { WatchRequest as _checkups_v1_WatchRequest, WatchRequest__Output as _checkups_v1_WatchRequest__Output } from './checkups/v1/WatchRequest.ts';
import type { WatchResponse as _checkups_v1_WatchResponse, WatchResponse__Output as _checkups_v1_WatchResponse__Output } from './checkups/v1/WatchResponse.ts';
import type { XdsNodeStatus as _checkups_v1_XdsNodeStatus, XdsNodeStatus__Output as _checkups_v1_XdsNodeStatus__Output } from './checkups/v1/XdsNodeStatus.ts';
import type { XdsTypeStatus as _checkups_v1_XdsTypeStatus, XdsTypeStatus__Output as _checkups_v1_XdsTypeStatus__Output } from './checkups/v1/XdsTypeStatus.ts';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct.ts';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  checkups: {
    v1: {
      AddPeerRequest: MessageTypeDefinition<_checkups_v1_AddPeerRequest, _checkups_v1_AddPeerRequest__Output>
      AddPeerResponse: MessageTypeDefinition<_checkups_v1_AddPeerResponse, _checkups_v1_AddPeerResponse__Output>
      /**
       * AdminService changes upstreams at run time. Every call needs
       * `authorization: Bearer <token>` metadata. A write is validated completely
       * before anything changes, is on disk before it is acknowledged, and returns
       * the upstream's new version.
       */
      AdminService: SubtypeConstructor<typeof grpc.Client, _checkups_v1_AdminServiceClient> & { service: _checkups_v1_AdminServiceDefinition }
      CheckerStatus: MessageTypeDefinition<_checkups_v1_CheckerStatus, _checkups_v1_CheckerStatus__Output>
      ClusterState: MessageTypeDefinition<_checkups_v1_ClusterState, _checkups_v1_ClusterState__Output>
      ClusterStatus: MessageTypeDefinition<_checkups_v1_ClusterStatus, _checkups_v1_ClusterStatus__Output>
      DeleteUpstreamRequest: MessageTypeDefinition<_checkups_v1_DeleteUpstreamRequest, _checkups_v1_DeleteUpstreamRequest__Output>
      DeleteUpstreamResponse: MessageTypeDefinition<_checkups_v1_DeleteUpstreamResponse, _checkups_v1_DeleteUpstreamResponse__Output>
      /**
       * DiscoveryService is what services and clients call: stream upstream
       * membership and health, pick a peer per request, report outcomes.
       */
      DiscoveryService: SubtypeConstructor<typeof grpc.Client, _checkups_v1_DiscoveryServiceClient> & { service: _checkups_v1_DiscoveryServiceDefinition }
      Event: MessageTypeDefinition<_checkups_v1_Event, _checkups_v1_Event__Output>
      FeedbackBatchRequest: MessageTypeDefinition<_checkups_v1_FeedbackBatchRequest, _checkups_v1_FeedbackBatchRequest__Output>
      FeedbackBatchResponse: MessageTypeDefinition<_checkups_v1_FeedbackBatchResponse, _checkups_v1_FeedbackBatchResponse__Output>
      FeedbackRequest: MessageTypeDefinition<_checkups_v1_FeedbackRequest, _checkups_v1_FeedbackRequest__Output>
      FeedbackResponse: MessageTypeDefinition<_checkups_v1_FeedbackResponse, _checkups_v1_FeedbackResponse__Output>
      GetServersRequest: MessageTypeDefinition<_checkups_v1_GetServersRequest, _checkups_v1_GetServersRequest__Output>
      GetServersResponse: MessageTypeDefinition<_checkups_v1_GetServersResponse, _checkups_v1_GetServersResponse__Output>
      GetStatusRequest: MessageTypeDefinition<_checkups_v1_GetStatusRequest, _checkups_v1_GetStatusRequest__Output>
      GetStatusResponse: MessageTypeDefinition<_checkups_v1_GetStatusResponse, _checkups_v1_GetStatusResponse__Output>
      GetUpsTimeoutRequest: MessageTypeDefinition<_checkups_v1_GetUpsTimeoutRequest, _checkups_v1_GetUpsTimeoutRequest__Output>
      GetUpsTimeoutResponse: MessageTypeDefinition<_checkups_v1_GetUpsTimeoutResponse, _checkups_v1_GetUpsTimeoutResponse__Output>
      GetUpstreamRequest: MessageTypeDefinition<_checkups_v1_GetUpstreamRequest, _checkups_v1_GetUpstreamRequest__Output>
      GetUpstreamResponse: MessageTypeDefinition<_checkups_v1_GetUpstreamResponse, _checkups_v1_GetUpstreamResponse__Output>
      HealthStatus: EnumTypeDefinition
      ListUpstreamsRequest: MessageTypeDefinition<_checkups_v1_ListUpstreamsRequest, _checkups_v1_ListUpstreamsRequest__Output>
      ListUpstreamsResponse: MessageTypeDefinition<_checkups_v1_ListUpstreamsResponse, _checkups_v1_ListUpstreamsResponse__Output>
      PassiveStatus: EnumTypeDefinition
      Peer: MessageTypeDefinition<_checkups_v1_Peer, _checkups_v1_Peer__Output>
      PeerHealth: MessageTypeDefinition<_checkups_v1_PeerHealth, _checkups_v1_PeerHealth__Output>
      PeerStatus: MessageTypeDefinition<_checkups_v1_PeerStatus, _checkups_v1_PeerStatus__Output>
      RemovePeerRequest: MessageTypeDefinition<_checkups_v1_RemovePeerRequest, _checkups_v1_RemovePeerRequest__Output>
      RemovePeerResponse: MessageTypeDefinition<_checkups_v1_RemovePeerResponse, _checkups_v1_RemovePeerResponse__Output>
      RequestAttributes: MessageTypeDefinition<_checkups_v1_RequestAttributes, _checkups_v1_RequestAttributes__Output>
      SelectPeerRequest: MessageTypeDefinition<_checkups_v1_SelectPeerRequest, _checkups_v1_SelectPeerRequest__Output>
      SelectPeerResponse: MessageTypeDefinition<_checkups_v1_SelectPeerResponse, _checkups_v1_SelectPeerResponse__Output>
      SelectedPeer: MessageTypeDefinition<_checkups_v1_SelectedPeer, _checkups_v1_SelectedPeer__Output>
      Server: MessageTypeDefinition<_checkups_v1_Server, _checkups_v1_Server__Output>
      SetPeerDownRequest: MessageTypeDefinition<_checkups_v1_SetPeerDownRequest, _checkups_v1_SetPeerDownRequest__Output>
      SetPeerDownResponse: MessageTypeDefinition<_checkups_v1_SetPeerDownResponse, _checkups_v1_SetPeerDownResponse__Output>
      SetPeerUpRequest: MessageTypeDefinition<_checkups_v1_SetPeerUpRequest, _checkups_v1_SetPeerUpRequest__Output>
      SetPeerUpResponse: MessageTypeDefinition<_checkups_v1_SetPeerUpResponse, _checkups_v1_SetPeerUpResponse__Output>
      StoreStatus: MessageTypeDefinition<_checkups_v1_StoreStatus, _checkups_v1_StoreStatus__Output>
      UpdatePeerRequest: MessageTypeDefinition<_checkups_v1_UpdatePeerRequest, _checkups_v1_UpdatePeerRequest__Output>
      UpdatePeerResponse: MessageTypeDefinition<_checkups_v1_UpdatePeerResponse, _checkups_v1_UpdatePeerResponse__Output>
      UpdateUpstreamRequest: MessageTypeDefinition<_checkups_v1_UpdateUpstreamRequest, _checkups_v1_UpdateUpstreamRequest__Output>
      UpdateUpstreamResponse: MessageTypeDefinition<_checkups_v1_UpdateUpstreamResponse, _checkups_v1_UpdateUpstreamResponse__Output>
      UpstreamSnapshot: MessageTypeDefinition<_checkups_v1_UpstreamSnapshot, _checkups_v1_UpstreamSnapshot__Output>
      UpstreamStatus: MessageTypeDefinition<_checkups_v1_UpstreamStatus, _checkups_v1_UpstreamStatus__Output>
      UpstreamSummary: MessageTypeDefinition<_checkups_v1_UpstreamSummary, _checkups_v1_UpstreamSummary__Output>
      WatchEventsRequest: MessageTypeDefinition<_checkups_v1_WatchEventsRequest, _checkups_v1_WatchEventsRequest__Output>
      WatchEventsResponse: MessageTypeDefinition<_checkups_v1_WatchEventsResponse, _checkups_v1_WatchEventsResponse__Output>
      WatchRequest: MessageTypeDefinition<_checkups_v1_WatchRequest, _checkups_v1_WatchRequest__Output>
      WatchResponse: MessageTypeDefinition<_checkups_v1_WatchResponse, _checkups_v1_WatchResponse__Output>
      XdsNodeStatus: MessageTypeDefinition<_checkups_v1_XdsNodeStatus, _checkups_v1_XdsNodeStatus__Output>
      XdsTypeStatus: MessageTypeDefinition<_checkups_v1_XdsTypeStatus, _checkups_v1_XdsTypeStatus__Output>
    }
  }
  google: {
    protobuf: {
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
}

