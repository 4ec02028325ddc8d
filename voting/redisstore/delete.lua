#!lua
-- delete.lua removes an event with every key under its hash tag.
--
-- KEYS[1] event hash   KEYS[2] stage hash   KEYS[3] ballots hash
-- KEYS[4] receipts hash   KEYS[5] ranking zset   KEYS[6..] audit stream,
-- tickets and ticket holders (every key in KEYS goes)
-- ARGV[1] the event's key prefix ('leitai:{event}:')
-- The per-panel score sets, per-contestant aggregates and per-voter indexes
-- exist only while they hold a live ballot, so they are named from the
-- ballots hash (field voter|contestant|panel); they share the hash tag.
-- Returns 1 when deleted, 0 when the event is missing.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local prefix = ARGV[1]
local seen, batch = {}, {}
local function drop(key)
  if not seen[key] then
    seen[key] = true
    batch[#batch + 1] = key
    if #batch >= 500 then
      redis.call('UNLINK', unpack(batch))
      batch = {}
    end
  end
end
for _, f in ipairs(redis.call('HKEYS', KEYS[3])) do
  -- Voter ids contain no '|', nor do contestant and panel ids.
  local v, c, p = string.match(f, '^([^|]*)|([^|]*)|([^|]*)$')
  if v then
    drop(prefix .. 'voter:' .. v)
    drop(prefix .. 'scores:' .. c .. ':' .. p)
    drop(prefix .. 'agg:' .. c)
  end
end
for i = 1, #KEYS do
  drop(KEYS[i])
end
if #batch > 0 then
  redis.call('UNLINK', unpack(batch))
end
return 1
