#!lua
-- create.lua stores a new event and its initial stage unless the id is taken.
--
-- KEYS[1] event hash   KEYS[2] stage hash
-- ARGV[1] n, the number of event field arguments; ARGV[2..n+1] the event
-- fields (eventFields) as name/value pairs; the rest the stage fields,
-- likewise.
-- Returns 1 when created, 0 when the event exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local n = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, n + 1))
redis.call('HSET', KEYS[2], unpack(ARGV, n + 2, #ARGV))
return 1
