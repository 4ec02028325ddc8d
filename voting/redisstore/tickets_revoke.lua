#!lua
-- tickets_revoke.lua revokes a ticket; its holder keeps the holding, marked
-- with '-', so that cast.lua refuses the holder and the holder cannot claim
-- another ticket of the panel.
--
-- KEYS[1] event hash   KEYS[2] tickets hash   KEYS[3] ticket holders hash
-- ARGV[1] code
-- Returns {'ok', ticket} | {'noevent'} | {'none'}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'noevent'}
end
local t = redis.call('HGET', KEYS[2], ARGV[1])
if not t then
  return {'none'}
end
local panel, issued, voter, claimed, seat = string.match(t, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|[01](.*)$')
t = table.concat({panel, issued, voter, claimed, '1'}, '|') .. seat
redis.call('HSET', KEYS[2], ARGV[1], t)
if voter ~= '' then
  redis.call('HSET', KEYS[3], voter .. '|' .. panel, '-' .. ARGV[1])
end
return {'ok', t}
