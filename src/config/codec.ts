/**
 * The codec the composition root gives the core write path (core/ never imports config/):
 * documents are validated by validate.ts and written by serialize.ts, the same rules for the
 * config file, admin writes and stored changes.
 */
import type { UpstreamCodec } from '../core/write-path.ts';
import { upstreamToRaw } from './serialize.ts';
import { parseUpstream } from './validate.ts';

export const upstreamCodec: UpstreamCodec = {
  parse: (skey, doc, path, purpose) => parseUpstream(skey, doc, path, { requireServers: purpose === 'write' }),
  toDocument: (spec) => upstreamToRaw(spec),
};
