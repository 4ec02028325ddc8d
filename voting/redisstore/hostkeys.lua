#!lua
-- hostkeys.lua swaps the host key digests by compare-and-set.
--
-- KEYS[1] host keys hash (seed, current)
-- ARGV[1] old seed   ARGV[2] old current   ARGV[3] new seed   ARGV[4] new current
-- Returns 1 when swapped, 0 when the stored value is not the old one.
local cur = redis.call('HMGET', KEYS[1], 'seed', 'current')
if (cur[1] or '') ~= ARGV[1] or (cur[2] or '') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'seed', ARGV[3], 'current', ARGV[4])
return 1
