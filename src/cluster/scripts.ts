/**
 * The Lua scripts of membership, leases and verdicts. Each runs atomically in Redis; times come
 * from Redis (`TIME`), so instances' clocks do not have to agree for expiry and windows.
 *
 * Every script that changes what clients see follows the revision rule of
 * core/store/redis-keys.ts (its LUA_CLUSTER_LIB is prepended): it first checks the cluster
 * epoch the instance is in step with (a Redis that lost the cluster's data gets nothing
 * written until the instances seeded it again; the script returns 'EPOCH'), then INCRs the
 * revision and appends exactly one entry `<revision>-0` to the change stream, and does nothing
 * at all when it refuses.
 */
import { LUA_CLUSTER_LIB } from '../core/store/redis-keys.ts';

/** Shared helpers, prepended to the scripts that need them. */
const LIB = `${LUA_CLUSTER_LIB}
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Renews this instance's membership and returns the live members.
 * KEYS: members, instance key. ARGV: id, ttl ms, info JSON.
 */
export const HEARTBEAT = `${LIB}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/** Leaves the cluster at once (clean shutdown). KEYS: members, instance key. ARGV: id. */
export const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * Takes or renews shard leases. A free lease is taken with the next fencing epoch; one this
 * instance holds is renewed with its epoch; another's is left alone.
 * KEYS: fence, lease keys... ARGV: id, ttl ms. Returns one epoch per lease key (0: not held).
 */
export const CLAIM = `
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    local e = redis.call('INCR', KEYS[1])
    redis.call('SET', KEYS[i], ARGV[1] .. ' ' .. string.format('%.0f', e), 'PX', ARGV[2])
    out[#out + 1] = e
  else
    local sp = string.find(v, ' ', 1, true)
    if sp and string.sub(v, 1, sp - 1) == ARGV[1] then
      redis.call('PEXPIRE', KEYS[i], ARGV[2])
      out[#out + 1] = tonumber(string.sub(v, sp + 1))
    else
      out[#out + 1] = 0
    end
  end
end
return out
`;

/** Gives up leases this instance holds. KEYS: lease keys. ARGV: id. */
export const RELEASE = `
local n = 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n
`;

/**
 * Publishes heartbeat verdicts of one upstream, fenced: each verdict names the lease of its
 * shard as "<instance> <epoch>"; one whose lease is not held with exactly that value (expired,
 * or taken by another instance since) is refused. The accepted ones are stored and go out as
 * ONE stream entry.
 * KEYS: epoch, revision, changes, verdicts, touched, then one lease key per verdict.
 * ARGV: epoch, maxlen, skey, at, by (this instance), then per verdict: holder, peer, verdict JSON.
 * Returns {revision or "0", refused count, the first refusal ("<lease key> is <value or free>,
 * sent <holder>", '' when none)}, or {'EPOCH', 0} (nothing written).
 */
export const PUBLISH_HEALTH = `${LIB}
if not check_epoch(KEYS[1], ARGV[1]) then return {'EPOCH', 0} end
local accepted = {}
local refused = 0
local example = ''
local n = (#ARGV - 5) / 3
for i = 1, n do
  local holder = ARGV[5 + 3 * i - 2]
  local current = redis.call('GET', KEYS[5 + i])
  if current == holder then
    local peer = ARGV[5 + 3 * i - 1]
    local v = ARGV[5 + 3 * i]
    redis.call('HSET', KEYS[4], ARGV[3] .. '\\n' .. peer, v)
    accepted[#accepted + 1] = v
  else
    refused = refused + 1
    if example == '' then example = KEYS[5 + i] .. ' is ' .. (current or 'free') .. ', sent ' .. holder end
  end
end
if #accepted == 0 then return {'0', refused, example} end
local rev = append_entry(KEYS[2], KEYS[3], ARGV[2], {'kind', 'verdict', 'at', ARGV[4], 'skey', ARGV[3], 'type', 'health', 'by', ARGV[5], 'peers', '[' .. table.concat(accepted, ',') .. ']'})
redis.call('HSET', KEYS[5], ARGV[3], rev)
return {rev, refused, example}
`;

/**
 * Counts failures of one peer in the fleet-wide passive window and excludes the peer when
 * they reach max_fails, within the ejection cap (the caller passes how many peers of the
 * upstream may be out at once, computed by balance/ejection-cap.ts).
 * KEYS: passive-windows, passive, ejected set of the upstream, revision, changes, touched, epoch.
 * ARGV: skey, peer, failures, max_fails, fail_timeout ms, allowed, maxlen, at, epoch, by (this instance).
 * Returns the entry's revision, "0" when nothing was published, 'EPOCH' (nothing counted).
 */
export const PASSIVE_FAIL = `${LIB}
if not check_epoch(KEYS[7], ARGV[9]) then return 'EPOCH' end
local field = ARGV[1] .. '\\n' .. ARGV[2]
local now = now_ms()
local ft = tonumber(ARGV[5])
local count, start = 0, now
local w = redis.call('HGET', KEYS[1], field)
if w then
  local sp = string.find(w, ' ', 1, true)
  count = tonumber(string.sub(w, 1, sp - 1))
  start = tonumber(string.sub(w, sp + 1))
  if start + ft < now then count, start = 0, now end
end
count = count + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], field, count .. ' ' .. string.format('%.0f', start))
if count < tonumber(ARGV[4]) then return '0' end
local cur = redis.call('HGET', KEYS[2], field)
if cur and cjson.decode(cur)['until'] > now then return '0' end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then return '0' end
local untilMs = start + ft
if untilMs <= now then return '0' end
redis.call('ZADD', KEYS[3], untilMs, ARGV[2])
local v = cjson.encode({peer = ARGV[2], ['until'] = untilMs, failed = count})
redis.call('HSET', KEYS[2], field, v)
local rev = append_entry(KEYS[4], KEYS[5], ARGV[7], {'kind', 'verdict', 'at', ARGV[8], 'skey', ARGV[1], 'type', 'passive', 'by', ARGV[10], 'peers', '[' .. v .. ']'})
redis.call('HSET', KEYS[6], ARGV[1], rev)
return rev
`;

/**
 * Lifts a passive exclusion that ended. Every instance may try; only the first, while the
 * stored exclusion is still the one that ended, publishes.
 * KEYS: passive, ejected set, revision, changes, touched, epoch. ARGV: skey, peer, until, maxlen, at, epoch, by (this instance).
 */
export const PASSIVE_LIFT = `${LIB}
if not check_epoch(KEYS[6], ARGV[6]) then return 'EPOCH' end
local field = ARGV[1] .. '\\n' .. ARGV[2]
local cur = redis.call('HGET', KEYS[1], field)
if not cur or string.format('%.0f', cjson.decode(cur)['until']) ~= ARGV[3] then return '0' end
redis.call('HDEL', KEYS[1], field)
redis.call('ZREM', KEYS[2], ARGV[2])
local v = cjson.encode({peer = ARGV[2], ['until'] = 0, failed = 0})
local rev = append_entry(KEYS[3], KEYS[4], ARGV[4], {'kind', 'verdict', 'at', ARGV[5], 'skey', ARGV[1], 'type', 'passive', 'by', ARGV[7], 'peers', '[' .. v .. ']'})
redis.call('HSET', KEYS[5], ARGV[1], rev)
return rev
`;

/**
 * Puts back a passive exclusion every instance still applies after Redis lost the cluster's
 * data (and with it the exclusions), so that its end is published once, as usual. An
 * exclusion already stored is left alone (every instance restores the same ones).
 * KEYS: passive, ejected set of the upstream, epoch. ARGV: epoch, skey, peer, until ms, failed.
 * Returns '1' when restored, '0' when already there, 'EPOCH'.
 */
export const PASSIVE_RESTORE = `${LIB}
if not check_epoch(KEYS[3], ARGV[1]) then return 'EPOCH' end
local field = ARGV[2] .. '\\n' .. ARGV[3]
if redis.call('HEXISTS', KEYS[1], field) == 1 then return '0' end
redis.call('HSET', KEYS[1], field, cjson.encode({peer = ARGV[3], ['until'] = tonumber(ARGV[4]), failed = tonumber(ARGV[5])}))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
return '1'
`;
