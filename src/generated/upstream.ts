import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClusterState as _checkups_v1_ClusterState, ClusterState__Output as _checkups_v1_ClusterState__Output } from './checkups/v1/ClusterState.ts';
import type { Peer as _checkups_v1_Peer, Peer__Output as _checkups_v1_Peer__Output } from './checkups/v1/Peer.ts';
import type { PeerHealth as _checkups_v1_PeerHealth, PeerHealth__Output as _checkups_v1_PeerHealth__Output } from './checkups/v1/PeerHealth.ts';
import type { Server as _checkups_v1_Server, Server__Output as _checkups_v1_Server__Output } from './checkups/v1/Server.ts';
import type { UpstreamSnapshot as _checkups_v1_UpstreamSnapshot, UpstreamSnapshot__Output as _checkups_v1_UpstreamSnapshot__Output } from './checkups/v1/UpstreamSnapshot.ts';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct.ts';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  checkups: {
    v1: {
      ClusterState: MessageTypeDefinition<_checkups_v1_ClusterState, _checkups_v1_ClusterState__Output>
      HealthStatus: EnumTypeDefinition
      PassiveStatus: EnumTypeDefinition
      Peer: MessageTypeDefinition<_checkups_v1_Peer, _checkups_v1_Peer__Output>
      PeerHealth: MessageTypeDefinition<_checkups_v1_PeerHealth, _checkups_v1_PeerHealth__Output>
      Server: MessageTypeDefinition<_checkups_v1_Server, _checkups_v1_Server__Output>
      UpstreamSnapshot: MessageTypeDefinition<_checkups_v1_UpstreamSnapshot, _checkups_v1_UpstreamSnapshot__Output>
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

