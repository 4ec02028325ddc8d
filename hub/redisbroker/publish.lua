-- Publish one envelope of an event with its sequence number, atomically, so
-- that the order of publication is the order of the numbers on every
-- instance.
-- KEYS[1] the event's sequence counter; KEYS[2] the event's channel
-- ARGV[1] "1" to take the next number, "0" to repeat the current one
-- ARGV[2] the envelope (JSON)
local seq
if ARGV[1] == '1' then
  seq = redis.call('INCR', KEYS[1])
else
  seq = tonumber(redis.call('GET', KEYS[1]) or '0')
end
redis.call('PUBLISH', KEYS[2], seq .. ' ' .. ARGV[2])
return seq
