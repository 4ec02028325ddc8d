#!lua
-- reset.lua removes every live ballot of one contestant with its aggregates.
-- Ballot id records (the receipts hash) stay, so that a retry of a removed
-- ballot gets its old receipt and is not counted again.
--
-- KEYS[1] event hash   KEYS[2] ballots hash   KEYS[3] ranking zset
-- KEYS[4] contestant aggregates hash
-- ARGV[1] contestant   ARGV[2] the event's key prefix ('leitai:{event}:')
-- ARGV[3] at (ms)      ARGV[4] event id
-- The per-panel score sets and per-voter indexes are named from ARGV[2]:
-- they share the event's hash tag, so they live in the same Cluster slot.
-- Returns the number of ballots removed, or -1 when the event is missing.
local ev = redis.call('HMGET', KEYS[1], 'panels', 'aseq', 'ahead')
local panels = ev[1]
if not panels then
  return -1
end
local c, prefix = ARGV[1], ARGV[2]
local removed = 0
for p in string.gmatch(panels, '%S+') do
  local scores = prefix .. 'scores:' .. c .. ':' .. p
  local voters = redis.call('ZRANGE', scores, 0, -1)
  for _, v in ipairs(voters) do
    redis.call('HDEL', KEYS[2], v .. '|' .. c .. '|' .. p)
    redis.call('SREM', prefix .. 'voter:' .. v, c .. '|' .. p)
  end
  removed = removed + #voters
  redis.call('DEL', scores)
end
redis.call('DEL', KEYS[4])
redis.call('ZREM', KEYS[3], c)
if removed > 0 then
  -- The audit entry of the reset, as in cast.lua.
  local seq = string.format('%d', (tonumber(ev[2]) or 0) + 1)
  local prev = ev[3] or ''
  local hash = redis.sha1hex(table.concat({ARGV[4], seq, ARGV[3], 'reset', '', '', c, '', '0', prev}, '|'))
  redis.call('XADD', prefix .. 'audit', seq .. '-0', 'at', ARGV[3], 'kind', 'reset', 'contestant', c,
    'prev', prev, 'hash', hash)
  redis.call('HSET', KEYS[1], 'aseq', seq, 'ahead', hash)
end
return removed
