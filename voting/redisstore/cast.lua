#!lua
-- cast.lua records one ballot atomically: idempotency, revision and stage
-- checks, the voter's score, the ballot itself and every aggregate.
--
-- THE ONE MIRROR OF THE SCORING RULE. Go's voting package is the rule
-- (voting.Tally, PanelResult with each panel's PanelRule, TrimDropped,
-- TrimmedAverage, SumPoints, FinalScore, RoundScore); step 7 below repeats
-- it (the tie-breaks are not mirrored: Rank applies them in Go), and no other script or Go file of
-- this store does, so that the contestant's final score and the ranking
-- sorted set change in the same atomic step as the ballot, on every
-- instance. Its guard is the random contract test (voting/storetest
-- random.go: random ballots on single Redis and Cluster, standings equal
-- to Tally bit for bit). Change the rule in Go and here together.
--
-- KEYS[1] event hash      KEYS[2] stage hash     KEYS[3] receipts hash
-- KEYS[4] ballots hash    KEYS[5] voter index    KEYS[6] panel scores zset
-- KEYS[7] contestant aggregates hash             KEYS[8] ranking zset
-- KEYS[9] ticket holders hash                     KEYS[10] audit stream
-- ARGV[1] ballot id   ARGV[2] fingerprint   ARGV[3] revision   ARGV[4] at (ms)
-- ARGV[5] voter       ARGV[6] contestant    ARGV[7] panel      ARGV[8] units
-- ARGV[9] ballot JSON ARGV[10] voter digest ARGV[11] event id
-- ARGV[12] device: for a judges' seat's ballot (voter 'seat.' .. code), the
-- device that casts it, which must hold that ticket; else ''.
--
-- Returns {'ok', replaced, code} | {'dup', replaced, at, code} | {'reused'}
-- | {'noevent'} | {'stale'} | {'notopen'} | {'ended'} | {'noticket'}.
-- Every check comes before the first write, so a refused ballot changes
-- nothing. Only what must be atomic with recording is checked here (the
-- ballot id, the revision, the stage, the ticket): the contestant, panel
-- and scores were checked in Go (voting.Event.Check) against the revision
-- that step 2 pins.

-- 1. A ballot id is recorded once; an honest retry gets its first receipt
-- whatever the stage is now.
local prior = redis.call('HGET', KEYS[3], ARGV[1])
if prior then
  local at, replaced, code, fp = string.match(prior, '^(-?%d+)|([01])|(%w*)|(.*)$')
  if fp == ARGV[2] then
    return {'dup', replaced, at, code}
  end
  return {'reused'}
end

-- 2. The ballot was validated against the revision it names.
local ev = redis.call('HMGET', KEYS[1], 'rev', 'scope', 'trim', 'decimals', 'panels', 'weights', 'ticketed', 'aseq', 'ahead',
  'trims', 'sums')
if not ev[1] then
  return {'noevent'}
end
if ev[1] ~= ARGV[3] then
  return {'stale'}
end

-- 3. Voting is open for this contestant in the stage as stored here.
local st = redis.call('HMGET', KEYS[2], 'phase', 'current', 'endsAt')
if st[1] ~= 'voting' or (ev[2] ~= 'all' and st[2] ~= ARGV[6]) then
  return {'notopen'}
end
local endsAt = tonumber(st[3] or '0') or 0
if endsAt ~= 0 and tonumber(ARGV[4]) >= endsAt then
  return {'ended'}
end

-- The event's panels in order and their weights; the ballot's panel is
-- one of them (checked in Go against this revision).
local voter, contestant, panel = ARGV[5], ARGV[6], ARGV[7]
local ids, weights, fields, mine = {}, {}, {}, nil
for id in string.gmatch(ev[5], '%S+') do
  ids[#ids + 1] = id
  if id == panel then
    mine = #ids
  end
  fields[#fields + 1] = 'n:' .. id
  fields[#fields + 1] = 's:' .. id
  fields[#fields + 1] = 'a:' .. id
end
if not mine then
  -- Not a refusal but a broken invariant: stop before any write.
  return redis.error_reply('cast.lua: panel ' .. panel .. ' is not in the event at revision ' .. ARGV[3])
end
for w in string.gmatch(ev[6], '%S+') do
  weights[#weights + 1] = tonumber(w)
end
-- This panel's voting.PanelRule: its trim and whether it sums. Events
-- stored before panels had modes have neither field: the rules' trim.
local trim, sums = tonumber(ev[3]), false
if ev[10] then
  local i = 0
  for t in string.gmatch(ev[10], '%S+') do
    i = i + 1
    if i == mine then
      trim = tonumber(t)
    end
  end
  i = 0
  for v in string.gmatch(ev[11] or '', '%S+') do
    i = i + 1
    if i == mine then
      sums = v == '1'
    end
  end
end

-- 4. In a panel that needs tickets, the voter holds one, not revoked (a
-- revoked holding is kept as '-' and the code).
-- A seat's ballot: the device holds the seat's ticket (voting.SeatVoter).
if ev[7] and string.find(' ' .. ev[7] .. ' ', ' ' .. panel .. ' ', 1, true) then
  local device = ARGV[12] or ''
  if device == '' then
    local held = redis.call('HGET', KEYS[9], voter .. '|' .. panel)
    if not held or string.sub(held, 1, 1) == '-' then
      return {'noticket'}
    end
  else
    local held = redis.call('HGET', KEYS[9], device .. '|' .. panel)
    if not held or 'seat.' .. held ~= voter then
      return {'noticket'}
    end
  end
end

-- 5. Record: the voter's score (in units), the ballot, the voter's index
-- entry and the ballot id with its fingerprint.
local old = redis.call('ZSCORE', KEYS[6], voter)
redis.call('ZADD', KEYS[6], ARGV[8], voter)
redis.call('HSET', KEYS[4], voter .. '|' .. contestant .. '|' .. panel, ARGV[9])
redis.call('SADD', KEYS[5], contestant .. '|' .. panel)
local replaced = '0'
if old then
  replaced = '1'
end

-- 6. The audit entry, chained to the one before by voting.AuditHash: the
-- same text, hashed with SHA-1. The stream id is the entry's number.
local seq = string.format('%d', (tonumber(ev[8]) or 0) + 1)
local prev = ev[9] or ''
local hash = redis.sha1hex(table.concat({ARGV[11], seq, ARGV[4], 'ballot', ARGV[1],
  ARGV[10], contestant, panel, ARGV[8], prev}, '|'))
redis.call('XADD', KEYS[10], seq .. '-0', 'at', ARGV[4], 'kind', 'ballot', 'ballot', ARGV[1],
  'voter', ARGV[10], 'contestant', contestant, 'panel', panel, 'units', ARGV[8],
  'prev', prev, 'hash', hash)
redis.call('HSET', KEYS[1], 'aseq', seq, 'ahead', hash)
local code = string.upper(string.sub(hash, 1, 8))
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4] .. '|' .. replaced .. '|' .. code .. '|' .. ARGV[2])

-- 7. Aggregates, read for every panel in one call and written in one.
-- Counts and unit sums are integers, exact in doubles below 2^53; the float
-- operations are those of voting.PanelResult and voting.FinalScore in the
-- same order, so the results are the same doubles as Tally's.
local vals = redis.call('HMGET', KEYS[7], unpack(fields))
local n = tonumber(vals[3 * mine - 2] or '0')
local sum = tonumber(vals[3 * mine - 1] or '0')
if old then
  sum = sum + tonumber(ARGV[8]) - tonumber(old)
else
  n = n + 1
  sum = sum + tonumber(ARGV[8])
end
local kept, keptSum = n, sum
if trim > 0 and n > 2 * trim then
  -- Only the extremes are read: the trimmed sum is the total less them.
  local low = redis.call('ZRANGE', KEYS[6], 0, trim - 1, 'WITHSCORES')
  local high = redis.call('ZRANGE', KEYS[6], -trim, -1, 'WITHSCORES')
  for i = 2, #low, 2 do
    keptSum = keptSum - tonumber(low[i])
  end
  for i = 2, #high, 2 do
    keptSum = keptSum - tonumber(high[i])
  end
  kept = n - 2 * trim
end
-- voting.TrimmedAverage: float64(sum) / float64(kept) / ScoreUnits; in the
-- sum mode voting.SumPoints: float64(sum) / ScoreUnits.
local avg
if sums then
  avg = keptSum / 10000
else
  avg = keptSum / kept / 10000
end

-- voting.FinalScore over the panels in event order, skipping empty ones.
local total, wsum = 0, 0
for i = 1, #ids do
  local count, a = tonumber(vals[3 * i - 2] or '0'), tonumber(vals[3 * i] or '0')
  if i == mine then
    count, a = n, avg
  end
  if count > 0 then
    total = total + weights[i] * a
    wsum = wsum + weights[i]
  end
end
local final = 0
if wsum ~= 0 then
  -- voting.RoundScore: math.Floor(x*p+0.5+1e-9) / p with p = 10^decimals,
  -- added left to right as Go does.
  local p = 10 ^ tonumber(ev[4])
  final = math.floor(total / wsum * p + 0.5 + 1e-9) / p
end
-- %.17g: the text parses back to the same double (tostring keeps only 14
-- digits); %d: integers as digits, never in exponent form.
local finalText = string.format('%.17g', final)
redis.call('HSET', KEYS[7],
  'n:' .. panel, string.format('%d', n),
  's:' .. panel, string.format('%d', sum),
  'a:' .. panel, string.format('%.17g', avg),
  'final', finalText)
redis.call('ZADD', KEYS[8], finalText, contestant)

return {'ok', replaced, code}
