/**
 * Just enough protobuf writing to assemble xDS responses from pre-encoded parts. A message is
 * a sequence of fields and a repeated field is that field written several times, so a
 * DiscoveryResponse is: the resources' ready-made field bytes (encoded once per resource
 * version, shared by every stream) concatenated with a few small per-stream fields
 * (version, type URL, nonce). Field numbers: envoy/service/discovery/v3/discovery.proto.
 */

const WIRE_LEN = 2;

/** Appends a base-128 varint; `n` is a non-negative integer below 2^53. */
function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Tag and length prefix of a length-delimited field. */
export function lengthPrefix(field: number, length: number): Buffer {
  const out: number[] = [];
  pushVarint(out, (field << 3) | WIRE_LEN);
  pushVarint(out, length);
  return Buffer.from(out);
}

/** A length-delimited field (string, bytes or embedded message). */
export function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([lengthPrefix(field, payload.length), payload]);
}

/** A string field; proto3 omits empty strings, so do we. */
export function stringField(field: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : lengthDelimited(field, Buffer.from(value, 'utf8'));
}

/** DiscoveryResponse fields. */
const SOTW = { versionInfo: 1, resources: 2, typeUrl: 4, nonce: 5 } as const;
/** DeltaDiscoveryResponse fields. */
const DELTA = { systemVersionInfo: 1, resources: 2, typeUrl: 4, nonce: 5, removedResources: 6 } as const;
/** envoy.service.discovery.v3.Resource fields. */
const RESOURCE = { version: 1, resource: 2, name: 3 } as const;

/** The `resources` field entry of a DiscoveryResponse for an encoded google.protobuf.Any. */
export function sotwResourceEntry(anyBytes: Buffer): Buffer {
  return lengthDelimited(SOTW.resources, anyBytes);
}

/** The `resources` field entry of a DeltaDiscoveryResponse: a Resource {name, version, Any}. */
export function deltaResourceEntry(name: string, version: string, anyBytes: Buffer): Buffer {
  const resource = Buffer.concat([stringField(RESOURCE.version, version), lengthDelimited(RESOURCE.resource, anyBytes), stringField(RESOURCE.name, name)]);
  return lengthDelimited(DELTA.resources, resource);
}

/** Bytes a DeltaDiscoveryResponse spends on one `removed_resources` name. */
export function removedNameBytes(name: string): number {
  const n = Buffer.byteLength(name, 'utf8');
  return lengthPrefix(DELTA.removedResources, n).length + n;
}

export function sotwResponse(versionInfo: string, typeUrl: string, nonce: string, entries: readonly Buffer[]): Buffer {
  return Buffer.concat([stringField(SOTW.versionInfo, versionInfo), ...entries, stringField(SOTW.typeUrl, typeUrl), stringField(SOTW.nonce, nonce)]);
}

export function deltaResponse(systemVersion: string, typeUrl: string, nonce: string, entries: readonly Buffer[], removed: readonly string[]): Buffer {
  return Buffer.concat([
    stringField(DELTA.systemVersionInfo, systemVersion),
    ...entries,
    stringField(DELTA.typeUrl, typeUrl),
    stringField(DELTA.nonce, nonce),
    ...removed.map((name) => lengthDelimited(DELTA.removedResources, Buffer.from(name, 'utf8'))),
  ]);
}
