-- Record one instance's count of connected voters and return the sum over
-- the instances that reported within the last ARGV[4] ms; forget the rest
-- (an instance that died stops counting).
-- KEYS[1] the event's presence hash
-- ARGV[1] instance, ARGV[2] voters, ARGV[3] now (ms), ARGV[4] freshness (ms)
local now = tonumber(ARGV[3])
local fresh = now - tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local count, at = string.match(all[i + 1], '^(%d+):(%d+)$')
  if count and tonumber(at) >= fresh then
    total = total + tonumber(count)
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
redis.call('PEXPIRE', KEYS[1], 3600000)
return total
