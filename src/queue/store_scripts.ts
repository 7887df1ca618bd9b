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

// KEYS: job hash, user jobs zset, the user's active jobs zset, audio key.
// ARGV: score, id, ttl s, audio ms, most jobs in flight (0: any), most
// audio ms in flight (0: any), job key prefix, audio bytes, then
// field/value pairs. Returns {1} created, {0} already there, {-1, jobs} or
// {-2, audio ms} over the owner's quota. Active entries whose job is gone
// (expired) are dropped. The audio is the first write: at Redis's
// maxmemory the script is refused (OOM) before anything is stored, so
// there is never a job without its audio.
export const CREATE_JOB = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local maxJobs, maxAudio = tonumber(ARGV[5]), tonumber(ARGV[6])
local stale = {}
local refused = nil
if maxJobs > 0 or maxAudio > 0 then
  local jobs, audio = 0, 0
  local active = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
  for i = 1, #active, 2 do
    if redis.call('EXISTS', ARGV[7] .. active[i]) == 1 then
      jobs = jobs + 1
      audio = audio + tonumber(active[i + 1])
    else
      stale[#stale + 1] = active[i]
    end
  end
  if maxJobs > 0 and jobs + 1 > maxJobs then
    refused = {-1, jobs}
  elseif maxAudio > 0 and audio + tonumber(ARGV[4]) > maxAudio then
    refused = {-2, audio}
  end
end
if refused == nil then
  redis.call('SET', KEYS[4], ARGV[8], 'EX', ARGV[3])
end
for _, id in ipairs(stale) do redis.call('ZREM', KEYS[3], id) end
if refused ~= nil then return refused end
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return {1}
`;

// KEYS: session hash, its chunks, the owner's open sessions zset.
// ARGV: session id, file hash. Marks the session finalized and drops its
// chunks (the audio now lives with the job) at once: one command where a
// MULTI … EXEC was five.
export const CLOSE_SESSION = `
redis.call('HSET', KEYS[1], 'finalized', '1', 'file_hash', ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

// KEYS: session hash, session tombstone, the owner's open sessions zset.
// ARGV: now ms, ttl s, most open sessions (0: any), session id, owner,
// then the session's field/value pairs. Sessions older than the TTL leave
// the open set; with `most` or more still open, nothing is created and
// their count returned; else -1 once created.
export const CREATE_SESSION = `
redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]) * 1000)
local most = tonumber(ARGV[3])
if most > 0 then
  local open = redis.call('ZCARD', KEYS[3])
  if open >= most then return open end
end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[2])
-- Outlives the session by a day so an expired id answers 410, not 404.
redis.call('SET', KEYS[2], ARGV[5], 'EX', tonumber(ARGV[2]) + 86400)
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return -1
`;

// KEYS: job hash (TAKE_JOB: and the job's audio). ARGV: worker id, now
// iso, now ms. Moves queued -> processing. START_JOB returns the status
// before (or '' when gone); TAKE_JOB, for a job it moved, also the record
// and the audio in the same round trip: {status before, hash, audio}.
const START = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return '' end
if s == 'completed' or s == 'failed' then return s end
redis.call('HSET', KEYS[1], 'status', 'processing', 'worker_id', ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'started_at') == 0 then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[2], 'started_ms', ARGV[3])
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
`;
export const START_JOB = `${START}return s
`;
export const TAKE_JOB = `${START}
return {s, redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2])}
`;

// KEYS: job hash, stats hash, long-jobs zset, the job's audio, the
// processing histogram hash, the recent processing times list.
// ARGV: job id, final status, user key prefix, error code ('' when none),
// the job events channel, 'always' or 'started' (when queue_wait_ms is
// set), processing seconds ('' to record none), the same rounded, the
// first histogram bucket it falls in, the number of buckets, how many
// recent times to keep, then field/value pairs.
// Stores a final result once: a job already final is left untouched. A
// final job no longer counts as queued long audio nor against its owner's
// quotas, loses its audio, and wakes its long polls; failures are also
// counted by code, and a completed job's processing time (when given)
// goes into the shared histogram and recent times.
export const FINISH_JOB = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return -1 end
if s == 'completed' or s == 'failed' then return 0 end
local t = redis.call('HMGET', KEYS[1], 'created_ms', 'started_ms')
local created, started = tonumber(t[1]) or 0, tonumber(t[2]) or 0
local wait = ''
if ARGV[6] == 'always' or started ~= 0 then
  wait = string.format('%d', math.max(0, started - created))
end
local fields = {'status', ARGV[2], 'queue_wait_ms', wait}
for i = 12, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], 'failed:' .. ARGV[4], 1) end
redis.call('ZREM', KEYS[3], ARGV[1])
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner then redis.call('ZREM', ARGV[3] .. owner .. ':active', ARGV[1]) end
redis.call('DEL', KEYS[4])
if ARGV[7] ~= '' then
  for i = tonumber(ARGV[9]), tonumber(ARGV[10]) - 1 do
    redis.call('HINCRBY', KEYS[5], 'b' .. i, 1)
  end
  redis.call('HINCRBYFLOAT', KEYS[5], 'sum', ARGV[7])
  redis.call('HINCRBY', KEYS[5], 'count', 1)
  redis.call('LPUSH', KEYS[6], ARGV[8])
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[11]) - 1)
end
redis.call('PUBLISH', ARGV[5], ARGV[1])
return 1
`;
