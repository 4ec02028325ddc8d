#!lua flags=no-writes
-- standings.lua reads, in one consistent snapshot, the event and the
-- aggregates of every contestant that has ballots.
--
-- KEYS[1] event hash   KEYS[2] ranking zset
-- ARGV[1] the event's key prefix ('leitai:{event}:'); the aggregate hashes
-- are named from it and share the event's hash tag.
-- Returns false when the event is missing, else
-- {event JSON, revision, contestant, {field, value, ...}, contestant, ...}.
local ev = redis.call('HMGET', KEYS[1], 'json', 'rev')
if not ev[1] then
  return false
end
local out = {ev[1], ev[2]}
for _, c in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  out[#out + 1] = c
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. 'agg:' .. c)
end
return out
