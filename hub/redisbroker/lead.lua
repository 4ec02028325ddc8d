-- Take or keep an event's standings lease for one period. The instance that
-- holds it keeps it by calling again; another takes it only once it has
-- expired, that is a whole period after the holder's last call.
-- KEYS[1] the event's lease; ARGV[1] this instance; ARGV[2] period (ms)
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
