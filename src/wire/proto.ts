/**
 * Loads checkups' protos once, with the options the generated types in src/generated were made
 * with (see `npm run generate`). Servers, the CLI and the SDK share this definition.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import type { ProtoGrpcType as AdminProto } from '../generated/admin.ts';
import { packageRoot } from '../util/package-root.ts';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const PROTO_FILES = ['checkups/v1/admin.proto', 'checkups/v1/discovery.proto', 'checkups/v1/upstream.proto'];

let definition: protoLoader.PackageDefinition | undefined;

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

