#!lua
-- create.lua stores a new event and its initial stage unless the id is taken.
--
-- KEYS[1] event hash   KEYS[2] stage hash
-- ARGV[1..16] event fields json rev scope trim decimals panels weights
-- ticketed, as name/value pairs; ARGV[17..26] stage fields, likewise.
-- Returns 1 when created, 0 when the event exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 1, 16))
redis.call('HSET', KEYS[2], unpack(ARGV, 17, 26))
return 1
