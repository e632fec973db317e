/**
 * Loads checkups' protos once, with the options the generated types in src/generated were made
 * with (see `npm run generate`). Servers, the CLI and the SDK share this definition.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { ProtoGrpcType as AdminProto } from '../generated/admin.ts';
import { packageRoot } from '../util/package-root.ts';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

const PROTO_FILES = ['checkups/v1/admin.proto', 'checkups/v1/discovery.proto', 'checkups/v1/upstream.proto'];

let definition: protoLoader.PackageDefinition | undefined;
let root: protobuf.Root | undefined;

export function packageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(PROTO_FILES, {
    ...LOADER_OPTIONS,
    includeDirs: [join(packageRoot(), 'proto')],
  });
  return definition;
}

/** The loaded `checkups.v1` package (admin.proto imports discovery and upstream). */
export function checkupsProto(): AdminProto['checkups']['v1'] {
  return (grpc.loadPackageDefinition(packageDefinition()) as unknown as AdminProto).checkups.v1;
}

/**
 * One checkups.v1 message type (`Peer`, `ClusterState`...) as protobufjs loads it for
 * proto-loader, with the same options: for encoding a message in parts (upstream-encoding.ts),
 * where proto-loader only serializes whole RPC messages. Same bytes as the RPC serializers.
 */
export function checkupsMessageType(name: string): protobuf.Type {
  if (root === undefined) {
    const loaded = new protobuf.Root();
    const dir = join(packageRoot(), 'proto');
    loaded.resolvePath = (_origin, target) => join(dir, target);
    loaded.loadSync(PROTO_FILES, { keepCase: LOADER_OPTIONS.keepCase ?? false });
    loaded.resolveAll();
    root = loaded;
  }
  return root.lookupType(`checkups.v1.${name}`);
}
