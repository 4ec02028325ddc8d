#!lua
-- series.lua creates or replaces a series by compare-and-set on its revision.
--
-- KEYS[1] series hash (json, rev)
-- ARGV[1] the revision the caller read (0: create)   ARGV[2] the series JSON
-- Returns the new revision, or -1 when the series exists (create), -2 when
-- it is missing (update), or -(3 + stored revision) when the revision
-- differs.
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
local want = tonumber(ARGV[1])
if want == 0 then
  if rev ~= 0 then return -1 end
elseif rev == 0 then
  return -2
elseif rev ~= want then
  return -(3 + rev)
end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'rev', tostring(want + 1))
return want + 1
