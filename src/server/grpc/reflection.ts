/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) answered from compiled descriptors:
 * the FileDescriptorSet that `proto/build-descriptors.mjs` makes with buf at build time. Each
 * file is served byte for byte as the compiler wrote it (dependencies declared, map entries
 * named `…Entry`, snake_case field names with json_name), so strict clients — grpcurl,
 * protobuf's descriptor pools — link every file. @grpc/reflection cannot: it rebuilds
 * descriptors from protobufjs, which loses exactly those (grpc/grpc-node#3034).
 *
 * As grpc-go does, a file is sent with its transitive dependencies, each file at most once per
 * stream. Errors follow the protocol (an `error_response` with a gRPC code), never a failed
 * stream, so one unknown symbol does not end a grpcurl session.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { packageRoot } from '../../util/package-root.ts';

/** Where `npm run build` (and `npm run generate`) writes the descriptor set. */
export function descriptorSetPath(): string {
  return join(packageRoot(), 'dist', 'descriptors.binpb');
}

interface FileEntry {
  readonly name: string;
  readonly bytes: Buffer;
  readonly dependencies: readonly string[];
}

/** Symbols and files of a FileDescriptorSet, each file kept as its original bytes. */
export class DescriptorIndex {
  readonly files = new Map<string, FileEntry>();
  /** Fully qualified name (no leading dot) -> file name. */
  readonly symbols = new Map<string, string>();
  /** Extendee (no leading dot) -> field number -> file name. */
  readonly extensions = new Map<string, Map<number, string>>();
  readonly services: string[] = [];

  constructor(set: Uint8Array) {
    const reader = protobuf.Reader.create(set);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
        reader.skipType(tag & 7);
        continue;
      }
      const bytes = Buffer.from(reader.bytes());
      this.indexFile(bytes);
    }
  }

  private indexFile(bytes: Buffer): void {
    const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileProto;
    const name = file.name ?? '';
    this.files.set(name, { name, bytes, dependencies: file.dependency ?? [] });
    const pkg = file.package ? `${file.package}.` : '';
    const add = (fqn: string) => this.symbols.set(fqn, name);
    const addExtensions = (scope: string, fields: readonly FieldProto[] | undefined) => {
      for (const ext of fields ?? []) {
        add(scope + (ext.name ?? ''));
        const extendee = (ext.extendee ?? '').replace(/^\./, '');
        let numbers = this.extensions.get(extendee);
        if (numbers === undefined) this.extensions.set(extendee, (numbers = new Map()));
        numbers.set(ext.number ?? 0, name);
      }
    };
    const addEnums = (scope: string, enums: readonly EnumProto[] | undefined) => {
      for (const e of enums ?? []) {
        add(scope + (e.name ?? ''));
        // Enum values are scoped like siblings of their enum (C++ scoping rules).
        for (const v of e.value ?? []) add(scope + (v.name ?? ''));
      }
    };
    const addMessages = (scope: string, messages: readonly MessageProto[] | undefined) => {
      for (const m of messages ?? []) {
        const fqn = scope + (m.name ?? '');
        add(fqn);
        for (const f of m.field ?? []) add(`${fqn}.${f.name ?? ''}`);
        for (const o of m.oneofDecl ?? []) add(`${fqn}.${o.name ?? ''}`);
        addEnums(`${fqn}.`, m.enumType);
        addExtensions(`${fqn}.`, m.extension);
        addMessages(`${fqn}.`, m.nestedType);
      }
    };
    addMessages(pkg, file.messageType);
    addEnums(pkg, file.enumType);
    addExtensions(pkg, file.extension);
    for (const s of file.service ?? []) {
      const fqn = pkg + (s.name ?? '');
      add(fqn);
      this.services.push(fqn);
      for (const m of s.method ?? []) add(`${fqn}.${m.name ?? ''}`);
    }
  }

  /** `name` and its transitive dependencies not in `sent` (dependencies first), marked as sent. */
  withDependencies(name: string, sent: Set<string>): Buffer[] {
    const out: Buffer[] = [];
    const visit = (n: string) => {
      if (sent.has(n)) return;
      sent.add(n);
      const f = this.files.get(n);
      if (f === undefined) return;
      for (const d of f.dependencies) visit(d);
      out.push(f.bytes);
    };
    visit(name);
    return out;
  }
}

interface FieldProto {
  name?: string;
  extendee?: string;
  number?: number;
}
interface EnumProto {
  name?: string;
  value?: Array<{ name?: string }>;
}
interface MessageProto {
  name?: string;
  field?: FieldProto[];
  nestedType?: MessageProto[];
  enumType?: EnumProto[];
  extension?: FieldProto[];
  oneofDecl?: Array<{ name?: string }>;
}
interface FileProto {
  name?: string;
  package?: string;
  dependency?: string[];
  messageType?: MessageProto[];
  enumType?: EnumProto[];
  service?: Array<{ name?: string; method?: Array<{ name?: string }> }>;
  extension?: FieldProto[];
}

interface ReflectionRequest {
  host?: string;
  message_request?: 'file_by_filename' | 'file_containing_symbol' | 'file_containing_extension' | 'all_extension_numbers_of_type' | 'list_services';
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/** Longest symbol or file name echoed in an error. */
const MAX_ECHO = 200;

const echo = (s: string): string => (s.length > MAX_ECHO ? `${s.slice(0, MAX_ECHO)}…` : s);

/** Answers one request; `sent` holds the files already sent on this stream. */
export function answerReflection(index: DescriptorIndex, served: readonly string[], req: ReflectionRequest, sent: Set<string>): object {
  const notFound = (what: string) => ({ error_response: { error_code: grpc.status.NOT_FOUND, error_message: what } });
  const files = (name: string) => ({ file_descriptor_response: { file_descriptor_proto: index.withDependencies(name, sent) } });
  switch (req.message_request) {
    case 'list_services':
      return { list_services_response: { service: served.map((name) => ({ name })) } };
    case 'file_by_filename': {
      const name = req.file_by_filename ?? '';
      return index.files.has(name) ? files(name) : notFound(`file not found: ${echo(name)}`);
    }
    case 'file_containing_symbol': {
      const symbol = (req.file_containing_symbol ?? '').replace(/^\./, '');
      const file = index.symbols.get(symbol);
      return file === undefined ? notFound(`symbol not found: ${echo(symbol)}`) : files(file);
    }
    case 'file_containing_extension': {
      const type = (req.file_containing_extension?.containing_type ?? '').replace(/^\./, '');
      const number = req.file_containing_extension?.extension_number ?? 0;
      const file = index.extensions.get(type)?.get(number);
      return file === undefined ? notFound(`extension not found: ${echo(type)} ${number}`) : files(file);
    }
    case 'all_extension_numbers_of_type': {
      const type = (req.all_extension_numbers_of_type ?? '').replace(/^\./, '');
      if (!index.symbols.has(type)) return notFound(`type not found: ${echo(type)}`);
      return { all_extension_numbers_response: { base_type_name: type, extension_number: [...(index.extensions.get(type)?.keys() ?? [])] } };
    }
    default:
      return { error_response: { error_code: grpc.status.INVALID_ARGUMENT, error_message: 'message_request: one of its fields is required' } };
  }
}

let loaded: DescriptorIndex | undefined;

/** The descriptor index, read on first use (a server nobody reflects on does not pay for it). */
function descriptorIndex(): DescriptorIndex {
  if (loaded !== undefined) return loaded;
  const path = descriptorSetPath();
  if (!existsSync(path)) throw new Error(`reflection descriptors are missing (${path}): run \`npm run build\``);
  return (loaded = new DescriptorIndex(readFileSync(path)));
}

/**
 * Adds ServerReflection v1 and v1alpha to `server`, listing `services` (the services actually
 * registered on it, reflection included).
 */
export function addReflection(server: grpc.Server, services: readonly string[]): void {
  const protoDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build', 'proto');
  for (const version of ['v1', 'v1alpha']) {
    const def = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [protoDir], keepCase: true, oneofs: true, longs: Number });
    const service = def[`grpc.reflection.${version}.ServerReflection`] as grpc.ServiceDefinition;
    server.addService(service, {
      ServerReflectionInfo: (call: grpc.ServerDuplexStream<ReflectionRequest, object>) => {
        const sent = new Set<string>();
        call.on('data', (req: ReflectionRequest) => {
          let answer: object;
          try {
            answer = answerReflection(descriptorIndex(), services, req, sent);
          } catch (err) {
            answer = { error_response: { error_code: grpc.status.INTERNAL, error_message: err instanceof Error ? err.message : String(err) } };
          }
          call.write({ valid_host: req.host ?? '', original_request: req, ...answer });
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
  }
}

/** Fully qualified names of the reflection services (for `list`). */
export const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];
