#!lua flags=no-writes
-- voter.lua returns one voter's live ballots (JSON) from the voter's index,
-- without reading the other ballots of the event.
--
-- KEYS[1] event hash   KEYS[2] voter index set   KEYS[3] ballots hash
-- ARGV[1] voter
-- Returns false when the event is missing, else a list of ballot JSONs.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local entries = redis.call('SMEMBERS', KEYS[2])
if #entries == 0 then
  return {}
end
local fields = {}
for i, cp in ipairs(entries) do
  fields[i] = ARGV[1] .. '|' .. cp
end
local out = {}
for _, b in ipairs(redis.call('HMGET', KEYS[3], unpack(fields))) do
  if b then
    out[#out + 1] = b
  end
end
return out
