/**
 * The Envoy protos, loaded with proto-loader from the copy @grpc/grpc-js-xds ships under
 * `deps/` (docs/envoy.md: data-plane-api f8b75d1 in 1.13-1.14) — never hand-copied.
 *
 * Loaded lazily, once per process, on the first xDS stream: parsing ~300 message types takes
 * about 0.6 s, which a server nobody asks for xDS should not pay at start.
 *
 * Encoding a resource: proto-loader exposes serializers only for RPC messages, so a resource is
 * encoded as the one-element `resources` list of a DiscoveryResponse. protobufjs' Any wrapper
 * packs `{ '@type': url, ...fields }` (nested Anys too), and the bytes it produces are exactly
 * the `resources` field entry that responses are later assembled from (wire.ts).
 */
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../util/package-root.ts';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from './envoy-types.ts';

/** Options shared with test clients so both sides decode alike (Any unpacked to `@type` form). */
export const ENVOY_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  json: true,
};

/**
 * Every file whose messages we send or receive, directly or inside an Any. Kept in
 * proto/envoy-files.json, which the reflection descriptors are also built from.
 */
export const ENVOY_PROTO_FILES: readonly string[] = JSON.parse(readFileSync(join(packageRoot(), 'proto', 'envoy-files.json'), 'utf8')) as string[];

/** Include dirs of the proto trees inside the installed @grpc/grpc-js-xds. */
export function envoyIncludeDirs(): string[] {
  // build/src/index.js -> package root
  const root = dirname(dirname(dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds'))));
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(root, 'deps', d));
}

export interface EncodedAny {
  /** google.protobuf.Any message bytes (type_url + value). */
  readonly any: Buffer;
  /** The same, framed as a DiscoveryResponse `resources` entry. */
  readonly sotwEntry: Buffer;
}

export interface EnvoyCodec {
  readonly packageDefinition: protoLoader.PackageDefinition;
  /**
   * Serializes one resource; `message` holds its fields (snake_case). NOTE: protobufjs drops
   * fields the proto lacks without a word, hence the typed builders (envoy-types.ts) and the
   * round-trip unit test of every resource kind.
   */
  encodeAny(typeUrl: string, message: object): EncodedAny;
  decodeSotwRequest(bytes: Buffer): DiscoveryRequest;
  decodeDeltaRequest(bytes: Buffer): DeltaDiscoveryRequest;
}

let codec: EnvoyCodec | undefined;

interface MethodCodec {
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
}

export function envoyCodec(): EnvoyCodec {
  if (codec !== undefined) return codec;
  const packageDefinition = protoLoader.loadSync([...ENVOY_PROTO_FILES], { ...ENVOY_LOADER_OPTIONS, includeDirs: envoyIncludeDirs() });
  const ads = packageDefinition['envoy.service.discovery.v3.AggregatedDiscoveryService'] as unknown as Record<'StreamAggregatedResources' | 'DeltaAggregatedResources', MethodCodec>;
  const sotw = ads.StreamAggregatedResources;
  const delta = ads.DeltaAggregatedResources;
  codec = {
    packageDefinition,
    encodeAny(typeUrl, message) {
      const sotwEntry = sotw.responseSerialize({ resources: [{ ...message, '@type': typeUrl }] });
      return { any: unframe(sotwEntry), sotwEntry };
    },
    decodeSotwRequest: (bytes) => sotw.requestDeserialize(bytes) as DiscoveryRequest,
    decodeDeltaRequest: (bytes) => delta.requestDeserialize(bytes) as DeltaDiscoveryRequest,
  };
  return codec;
}

/** Strips the tag and length of a single length-delimited field (field 2 of DiscoveryResponse). */
function unframe(entry: Buffer): Buffer {
  if (entry[0] !== 0x12) throw new Error('xds: unexpected encoding of a resource entry');
  let length = 0;
  let shift = 1;
  let i = 1;
  for (;;) {
    const b = entry[i++]!;
    length += (b & 0x7f) * shift;
    if (b < 0x80) break;
    shift *= 0x80;
  }
  if (i + length !== entry.length) throw new Error('xds: resource entry length mismatch');
  return entry.subarray(i);
}
