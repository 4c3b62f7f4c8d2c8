// The Lua scripts that make every shard write one atomic step in Redis. Each checks everything before its
// first write, because Redis does not roll back a script that fails halfway. Loaded once per connection
// (SCRIPT LOAD) and called by EVALSHA. With `appendfsync always` Redis writes and fsyncs the script's
// effects (one MULTI/EXEC in the AOF) before it replies, so a reply means durable; an AOF cut inside that
// MULTI is dropped whole on load, so a crash never leaves half a batch.

/** KEYS: lease, fence. ARGV: node, now, ttl. -> {1, token, expiresAt} | {0, holder, token, expiresAt} */
export const LEASE_ACQUIRE = `
local l = redis.call('HMGET', KEYS[1], 'node', 'token', 'expires')
local now = tonumber(ARGV[2])
local exp = now + tonumber(ARGV[3])
if l[1] and tonumber(l[3]) > now then
  if l[1] ~= ARGV[1] then return {0, l[1], l[2], l[3]} end
  redis.call('HSET', KEYS[1], 'expires', string.format('%d', exp))
  return {1, l[2], string.format('%d', exp)}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'token', token, 'expires', string.format('%d', exp))
return {1, tostring(token), string.format('%d', exp)}
`;

/** KEYS: lease. ARGV: node, token, now, ttl. -> expiresAt | false */
export const LEASE_RENEW = `
local l = redis.call('HMGET', KEYS[1], 'node', 'token', 'expires')
local now = tonumber(ARGV[3])
if l[1] ~= ARGV[1] or l[2] ~= ARGV[2] or tonumber(l[3]) <= now then return false end
local exp = string.format('%d', now + tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'expires', exp)
return exp
`;

/** KEYS: lease. ARGV: node, token. -> 1 | 0 */
export const LEASE_RELEASE = `
local l = redis.call('HMGET', KEYS[1], 'node', 'token')
if l[1] ~= ARGV[1] or l[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/** KEYS: meta, log, snap. ARGV: newEpoch. -> {epoch, head, lastBatch}
 * No meta means the history is gone (or never was): whatever is left of it is dropped and a new epoch starts. */
export const LOG_OPEN = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'head', 0, 'batch', '')
end
return redis.call('HMGET', KEYS[1], 'epoch', 'head', 'batch')
`;

/** KEYS: lease, meta, log. ARGV: token, epoch, after, batchId, command... -> {'OK', head} | {reason, current}
 * Kleppmann's fencing in the storage: the write passes only with the lease's current token, the epoch it
 * was built on and no gap after the head. One stream entry per command, its id '<offset>-0'. */
export const LOG_APPEND = `
local token = redis.call('HGET', KEYS[1], 'token')
if token ~= ARGV[1] then return {'FENCED', token or ''} end
local m = redis.call('HMGET', KEYS[2], 'epoch', 'head')
if m[1] ~= ARGV[2] then return {'EPOCH', m[1] or ''} end
local head = tonumber(m[2])
if head ~= tonumber(ARGV[3]) then return {'CONFLICT', m[2]} end
for i = 5, #ARGV do
  head = head + 1
  redis.call('XADD', KEYS[3], string.format('%d-0', head), 'c', ARGV[i])
end
redis.call('HSET', KEYS[2], 'head', string.format('%d', head), 'batch', ARGV[4])
return {'OK', string.format('%d', head)}
`;

/** KEYS: lease, meta, log, snap. ARGV: token, epoch, offset, data, retain -> {'OK', head} | {reason, current} */
export const LOG_SNAPSHOT = `
local token = redis.call('HGET', KEYS[1], 'token')
if token ~= ARGV[1] then return {'FENCED', token or ''} end
local m = redis.call('HMGET', KEYS[2], 'epoch', 'head')
if m[1] ~= ARGV[2] then return {'EPOCH', m[1] or ''} end
local offset = tonumber(ARGV[3])
if offset > tonumber(m[2]) then return {'AHEAD', m[2]} end
local old = tonumber(redis.call('HGET', KEYS[4], 'offset') or '-1')
if old >= offset then return {'OK', m[2]} end
redis.call('HSET', KEYS[4], 'offset', ARGV[3], 'data', ARGV[4])
local minKept = offset - tonumber(ARGV[5]) + 1
if minKept > 1 then redis.call('XTRIM', KEYS[3], 'MINID', string.format('%d-0', minKept)) end
return {'OK', m[2]}
`;

/** KEYS: meta, log, snap. -> false | {epoch, head, batch, snapOffset|false, snapData|false, offset1, cmd1, ...} */
export const LOG_LOAD = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'batch')
if not m[1] then return false end
local s = redis.call('HMGET', KEYS[3], 'offset', 'data')
local from = tonumber(s[1] or '0')
local out = {m[1], m[2], m[3], s[1], s[2]}
for _, e in ipairs(redis.call('XRANGE', KEYS[2], string.format('%d-0', from + 1), '+')) do
  out[#out + 1] = e[1]
  out[#out + 1] = e[2][2]
end
return out
`;

/** KEYS: meta, log. ARGV: after, limit. -> false | {epoch, head, firstKeptId|false, offset1, cmd1, ...} */
export const LOG_READ_AFTER = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head')
if not m[1] then return false end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local out = {m[1], m[2], first[1] and first[1][1] or false}
for _, e in ipairs(redis.call('XRANGE', KEYS[2], string.format('%d-0', tonumber(ARGV[1]) + 1), '+', 'COUNT', tonumber(ARGV[2]))) do
  out[#out + 1] = e[1]
  out[#out + 1] = e[2][2]
end
return out
`;

export const SCRIPTS = {
  leaseAcquire: LEASE_ACQUIRE,
  leaseRenew: LEASE_RENEW,
  leaseRelease: LEASE_RELEASE,
  logOpen: LOG_OPEN,
  logAppend: LOG_APPEND,
  logSnapshot: LOG_SNAPSHOT,
  logLoad: LOG_LOAD,
  logReadAfter: LOG_READ_AFTER,
} as const;
export type ScriptName = keyof typeof SCRIPTS;
