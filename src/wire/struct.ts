/**
 * google.protobuf.Struct / Value <-> plain JSON. proto-loader hands Struct over in its wire shape
 * ({fields: {k: {stringValue: ...}}}); the config validator wants plain values.
 */
import type { ListValue__Output } from '../generated/google/protobuf/ListValue.ts';
import type { Struct, Struct__Output } from '../generated/google/protobuf/Struct.ts';
import type { Value, Value__Output } from '../generated/google/protobuf/Value.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function valueToJson(v: Value__Output | null | undefined): Json {
  if (v === null || v === undefined) return null;
  switch (v.kind) {
    case 'nullValue':
      return null;
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'structValue':
      return structToJson(v.structValue);
    case 'listValue':
      return listToJson(v.listValue);
    default:
      return null;
  }
}

function listToJson(l: ListValue__Output | null | undefined): Json[] {
  return (l?.values ?? []).map(valueToJson);
}

export function structToJson(s: Struct__Output | null | undefined): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) {
    // A field named __proto__ stays data (an own property the validator then refuses), instead
    // of becoming the object's prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: valueToJson(v), enumerable: true, writable: true, configurable: true });
    else out[k] = valueToJson(v);
  }
  return out;
}

export function jsonToValue(j: unknown): Value {
  if (j === null || j === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof j === 'boolean') return { boolValue: j };
  if (typeof j === 'number') return { numberValue: j };
  if (typeof j === 'string') return { stringValue: j };
  if (Array.isArray(j)) return { listValue: { values: j.map(jsonToValue) } };
  if (typeof j === 'object') return { structValue: jsonToStruct(j) };
  return { stringValue: String(j) };
}

export function jsonToStruct(j: object): Struct {
  const fields: Record<string, Value> = {};
  for (const [k, v] of Object.entries(j)) if (v !== undefined) fields[k] = jsonToValue(v);
  return { fields };
}
