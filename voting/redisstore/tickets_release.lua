#!lua
-- tickets_release.lua unbinds a ticket from its holder (a judge's phone
-- that died): the holding goes, so cast.lua refuses that device and the
-- next device to claim the ticket holds it.
--
-- KEYS[1] event hash   KEYS[2] tickets hash   KEYS[3] ticket holders hash
-- ARGV[1] code
-- Returns {'ok', ticket} | {'noevent'} | {'none'} | {'revoked', ticket}.
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
if voter == '' then
  return {'ok', t}
end
t = table.concat({panel, issued, '', '0', '0'}, '|') .. seat
redis.call('HSET', KEYS[2], ARGV[1], t)
redis.call('HDEL', KEYS[3], voter .. '|' .. panel)
return {'ok', t}
