#!lua
-- update.lua replaces an event by compare-and-set on its revision.
--
-- KEYS[1] event hash   KEYS[2] ballots hash
-- ARGV[1] the revision the caller read   ARGV[2] '1' if the scoring is
-- unchanged from that revision, else '0'   ARGV[3..] event fields as
-- name/value pairs (rev included).
-- Returns 'ok' | 'noevent' | 'stale' | 'scoring'.
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then
  return 'noevent'
end
if rev ~= ARGV[1] then
  return 'stale'
end
-- Counted ballots must keep their meaning: once there are live ballots only
-- an update that scores them the same way is taken.
if ARGV[2] ~= '1' and redis.call('HLEN', KEYS[2]) > 0 then
  return 'scoring'
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 'ok'
