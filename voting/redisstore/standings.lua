#!lua flags=no-writes
-- standings.lua reads, in one consistent snapshot, the event and the
-- aggregates of every contestant that has ballots, with the number of
-- ballots at the top of the scale per panel (voting.CountTop).
--
-- KEYS[1] event hash   KEYS[2] ranking zset
-- ARGV[1] the event's key prefix ('leitai:{event}:'); the aggregate hashes
-- and score sets are named from it and share the event's hash tag.
-- Returns false when the event is missing, else
-- {event JSON, revision, contestant, {field, value, ...}, contestant, ...}
-- where the fields are those of the aggregates hash and t:<panel>, the
-- count of top scores.
local ev = redis.call('HMGET', KEYS[1], 'json', 'rev', 'panels', 'top')
if not ev[1] then
  return false
end
local top = tonumber(ev[4])
if not top then
  -- Events stored before the field: the top of the scale from the rules.
  top = math.floor(cjson.decode(ev[1]).rules.max * 10000 + 0.5)
end
local out = {ev[1], ev[2]}
for _, c in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local agg = redis.call('HGETALL', ARGV[1] .. 'agg:' .. c)
  for p in string.gmatch(ev[3], '%S+') do
    agg[#agg + 1] = 't:' .. p
    agg[#agg + 1] = tostring(redis.call('ZCOUNT', ARGV[1] .. 'scores:' .. c .. ':' .. p, top, top))
  end
  out[#out + 1] = c
  out[#out + 1] = agg
end
return out
