/**
 * docs/envoy.md promises a working Envoy bootstrap. No Envoy runs here, so the YAML is checked
 * field by field against the Envoy API protos (the data-plane-api copy in @grpc/grpc-js-xds):
 * every key a field of its message, every enum value a name of its enum, every Any's `@type` a
 * known message whose fields are checked in turn; and what it asks checkups for (RDS `api`,
 * every Cluster by wildcard CDS) is what checkups serves.
 */
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { envoyIncludeDirs } from '../../src/server/xds/proto.ts';
import { packageRoot } from '../../src/util/package-root.ts';

interface Field {
  name: string;
  label: string;
  type: string;
  typeName: string;
}
interface Message {
  field: Field[];
  nestedType: Message[];
  enumType: Array<{ name: string; value: Array<{ name: string }> }>;
  name: string;
  options: { mapEntry?: boolean } | null;
}
type Entry = { kind: 'message'; desc: Message } | { kind: 'enum'; values: string[] };

function index(files: string[]): Map<string, Entry> {
  const def = protoLoader.loadSync(files, { keepCase: true, includeDirs: envoyIncludeDirs() });
  const out = new Map<string, Entry>();
  const add = (name: string, desc: Message) => {
    out.set(name, { kind: 'message', desc });
    for (const n of desc.nestedType) add(`${name}.${n.name}`, n);
    for (const e of desc.enumType) out.set(`${name}.${e.name}`, { kind: 'enum', values: e.value.map((v) => v.name) });
  };
  for (const [name, d] of Object.entries(def) as Array<[string, { format?: string; type: unknown }]>) {
    if (d.format === 'Protocol Buffer 3 DescriptorProto') add(name, d.type as Message);
    else if (d.format === 'Protocol Buffer 3 EnumDescriptorProto') out.set(name, { kind: 'enum', values: (d.type as { value: Array<{ name: string }> }).value.map((v) => v.name) });
  }
  return out;
}

/** Protobuf name resolution: innermost scope first. */
function resolve(types: Map<string, Entry>, scope: string, typeName: string): [string, Entry] {
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), typeName].join('.');
    const hit = types.get(candidate);
    if (hit !== undefined) return [candidate, hit];
  }
  throw new Error(`cannot resolve ${typeName} from ${scope}`);
}

function check(types: Map<string, Entry>, typeName: string, value: unknown, path: string, errors: string[]): void {
  if (typeName === 'google.protobuf.Any') {
    const url = (value as { '@type'?: string })['@type'];
    if (url === undefined) return void errors.push(`${path}: Any without @type`);
    return check(types, url.slice(url.lastIndexOf('/') + 1), value, path, errors);
  }
  if (typeName.startsWith('google.protobuf.')) return; // Duration "1s", wrappers, Struct: JSON forms
  const entry = types.get(typeName);
  if (entry?.kind !== 'message') return void errors.push(`${path}: unknown message ${typeName}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return void errors.push(`${path}: ${typeName} must be an object`);
  for (const [key, v] of Object.entries(value)) {
    if (key === '@type') continue;
    const f = entry.desc.field.find((x) => x.name === key);
    if (f === undefined) {
      errors.push(`${path}.${key}: no such field in ${typeName}`);
      continue;
    }
    const at = `${path}.${key}`;
    if (f.type === 'TYPE_ENUM') {
      const [, e] = resolve(types, typeName, f.typeName);
      if (e.kind !== 'enum' || !e.values.includes(v as string)) errors.push(`${at}: ${JSON.stringify(v)} is not a value of ${f.typeName}`);
    } else if (f.type === 'TYPE_MESSAGE') {
      const [name, t] = resolve(types, typeName, f.typeName);
      if (t.kind !== 'message') continue;
      if (t.desc.options?.mapEntry) {
        const valueField = t.desc.field.find((x) => x.name === 'value')!;
        for (const [k, mv] of Object.entries(v as object)) {
          if (valueField.type === 'TYPE_MESSAGE') check(types, resolve(types, name, valueField.typeName)[0], mv, `${at}[${k}]`, errors);
        }
      } else if (f.label === 'LABEL_REPEATED') {
        if (!Array.isArray(v)) errors.push(`${at}: must be a list`);
        else v.forEach((item, i) => check(types, name, item, `${at}[${i}]`, errors));
      } else check(types, name, v, at, errors);
    }
  }
}

describe('docs/envoy.md bootstrap', () => {
  const doc = readFileSync(join(packageRoot(), 'docs', 'envoy.md'), 'utf8');
  const block = /```yaml\n(# envoy-bootstrap[^\n]*\n[\s\S]*?)```/.exec(doc);

  it('is valid against the Envoy API protos, field by field', () => {
    assert.ok(block !== null, 'a ```yaml block starting with "# envoy-bootstrap"');
    const bootstrap = parse(block[1]!) as Record<string, unknown>;
    const types = index([
      'envoy/config/bootstrap/v3/bootstrap.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/extensions/filters/http/router/v3/router.proto',
      'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
    ]);
    const errors: string[] = [];
    check(types, 'envoy.config.bootstrap.v3.Bootstrap', bootstrap, 'bootstrap', errors);
    assert.deepEqual(errors, []);
  });

  it('asks checkups for what it serves: ADS to the checkups cluster, CDS over ADS, RDS by upstream name', () => {
    const b = parse(block![1]!) as {
      dynamic_resources: { ads_config: { grpc_services: Array<{ envoy_grpc: { cluster_name: string } }> }; cds_config: { ads: object }; lds_config?: unknown };
      static_resources: { clusters: Array<{ name: string }>; listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { rds: { route_config_name: string; config_source: { ads: object } } } }> }> }> };
    };
    assert.equal(b.dynamic_resources.ads_config.grpc_services[0]!.envoy_grpc.cluster_name, b.static_resources.clusters[0]!.name);
    assert.deepEqual(b.dynamic_resources.cds_config.ads, {});
    assert.equal(b.dynamic_resources.lds_config, undefined, 'no LDS: our Listeners are gRPC API listeners');
    const rds = b.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.rds;
    assert.deepEqual([rds.route_config_name, rds.config_source.ads], ['api', {}]);
  });
});
