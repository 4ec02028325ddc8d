#!lua
-- tickets_create.lua stores new tickets unless a code exists already.
--
-- KEYS[1] event hash   KEYS[2] tickets hash
-- ARGV code, value, code, value, … (value: panel|issued|voter|claimed|revoked[|seat])
-- Returns 'ok' | 'noevent' | {'exists', code}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'noevent'
end
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    return {'exists', ARGV[i]}
  end
end
-- In slices: unpack is bounded by Lua's C stack.
for i = 1, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return 'ok'
