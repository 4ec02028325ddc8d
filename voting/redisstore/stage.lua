#!lua
-- stage.lua stores the next stage by compare-and-set on its version, so that
-- it serialises with ballots (cast.lua reads the same hash).
--
-- KEYS[1] event hash   KEYS[2] stage hash
-- ARGV[1] the version expected now   ARGV[2..] stage fields as name/value pairs
-- Returns 'ok' | 'noevent' | 'conflict'.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'noevent'
end
if redis.call('HGET', KEYS[2], 'version') ~= ARGV[1] then
  return 'conflict'
end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
return 'ok'
