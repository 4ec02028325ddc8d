#!lua
-- tickets_claim.lua binds a ticket to the first voter that claims it.
--
-- KEYS[1] event hash   KEYS[2] tickets hash   KEYS[3] ticket holders hash
-- ARGV[1] code   ARGV[2] voter   ARGV[3] at (ms)
-- A ticket is panel|issued|voter|claimed|revoked, then |seat for a
-- judges' seat (kept as it is); a holding is
-- voter|panel → code, or '-' and the code once revoked.
-- Returns {'ok', ticket} | {'mine', ticket} | {'noevent'} | {'none'}
-- | {'revoked', ticket} | {'taken', ticket} | {'held', code}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'noevent'}
end
local t = redis.call('HGET', KEYS[2], ARGV[1])
if not t then
  return {'none'}
end
local panel, issued, voter, claimed, revoked, seat = string.match(t, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([01])(.*)$')
if revoked == '1' then
  return {'revoked', t}
end
if voter == ARGV[2] then
  return {'mine', t}
end
if voter ~= '' then
  return {'taken', t}
end
local held = redis.call('HGET', KEYS[3], ARGV[2] .. '|' .. panel)
if held then
  return {'held', (string.gsub(held, '^-', ''))}
end
t = table.concat({panel, issued, ARGV[2], ARGV[3], '0'}, '|') .. seat
redis.call('HSET', KEYS[2], ARGV[1], t)
redis.call('HSET', KEYS[3], ARGV[2] .. '|' .. panel, ARGV[1])
return {'ok', t}
