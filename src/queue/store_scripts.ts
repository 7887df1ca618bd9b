/**
 * The store's Lua scripts: each state change that must happen once (a
 * chunk stored within its owner's quota, a job created within its owner's
 * quotas, a job started, a result stored) runs as one script, so
 * concurrent or repeated calls can't double it or race past a quota.
 */

// KEYS: chunks hash, session hash, the owner's open sessions zset.
// ARGV: index, bytes, ttl ms, the owner's quota of bytes in open sessions
// (0: none), the session key prefix. A new chunk is refused ({-3, held})
// when the owner's open sessions would hold more than the quota; sessions
// that expired hold nothing (their hash is gone), so their bytes count back.
export const PUT_CHUNK = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {-2, 0} end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  if cur == ARGV[2] then return {1, redis.call('HLEN', KEYS[1])} end
  return {-1, 0}
end
local quota = tonumber(ARGV[4])
if quota > 0 then
  local held = 0
  for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    local r = redis.call('HGET', ARGV[5] .. id, 'received')
    if r then held = held + tonumber(r) end
  end
  if held + #ARGV[2] > quota then return {-3, held} end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], 'received', #ARGV[2])
return {0, redis.call('HLEN', KEYS[1])}
`;

// KEYS: job hash, user jobs zset, the user's active jobs zset.
// ARGV: score, id, ttl s, audio ms, most jobs in flight (0: any), most
// audio ms in flight (0: any), job key prefix, then field/value pairs.
// Returns {1} created, {0} already there, {-1, jobs} or {-2, audio ms} over
// the owner's quota. Active entries whose job is gone (expired) are dropped.
export const CREATE_JOB = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local maxJobs, maxAudio = tonumber(ARGV[5]), tonumber(ARGV[6])
if maxJobs > 0 or maxAudio > 0 then
  local jobs, audio = 0, 0
  local active = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
  for i = 1, #active, 2 do
    if redis.call('EXISTS', ARGV[7] .. active[i]) == 1 then
      jobs = jobs + 1
      audio = audio + tonumber(active[i + 1])
    else
      redis.call('ZREM', KEYS[3], active[i])
    end
  end
  if maxJobs > 0 and jobs + 1 > maxJobs then return {-1, jobs} end
  if maxAudio > 0 and audio + tonumber(ARGV[4]) > maxAudio then
    return {-2, audio}
  end
end
local fields = {}
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return {1}
`;

// KEYS: job hash. ARGV: worker id, now iso, now ms.
// Moves queued -> processing; returns the status before (or '' when gone).
export const START_JOB = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return '' end
if s == 'completed' or s == 'failed' then return s end
redis.call('HSET', KEYS[1], 'status', 'processing', 'worker_id', ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'started_at') == 0 then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[2], 'started_ms', ARGV[3])
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return s
`;

// KEYS: job hash, stats hash, long-jobs zset. ARGV: job id, final status,
// user key prefix, error code ('' when none), then field/value pairs.
// Stores a final result once: a job already final is left untouched. A
// final job no longer counts as queued long audio nor against its owner's
// quotas; failures are also counted by code.
export const FINISH_JOB = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return -1 end
if s == 'completed' or s == 'failed' then return 0 end
local fields = {'status', ARGV[2]}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], 'failed:' .. ARGV[4], 1) end
redis.call('ZREM', KEYS[3], ARGV[1])
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner then redis.call('ZREM', ARGV[3] .. owner .. ':active', ARGV[1]) end
return 1
`;
