// Prometheus durations ("30m", "6h", "1h30m") read once from config.libsonnet
// and written three ways: as given (a `for:` or a range), in seconds (to
// compare with a timestamp difference) and in words (in descriptions).
// Units y, w, d, h, m and s, as Prometheus' model.ParseDuration reads them;
// milliseconds are not needed by any threshold here and are refused.
local unitSeconds = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1 };
local unitNames = { y: 'year', w: 'week', d: 'day', h: 'hour', m: 'minute', s: 'second' };
local digits = std.stringChars('0123456789');

// [[count, unit], ...]; when the value is no duration, an error naming the
// setting it came from and the value.
local parts(duration, setting) =
  local invalid = '_config.%s: not a Prometheus duration: "%s" (expected e.g. "30m", "6h", "1h30m")'
                  % [setting, duration];
  local step(state, char) =
    if std.member(digits, char) then state { pending+: char }
    else if std.objectHas(unitSeconds, char) && state.pending != '' then
      state { parts+: [[std.parseInt(state.pending), char]], pending: '' }
    else error invalid;
  local parsed =
    if std.type(duration) != 'string' then error invalid
    else std.foldl(step, std.stringChars(duration), { parts: [], pending: '' });
  if parsed.pending != '' || parsed.parts == [] then error invalid else parsed.parts;

// Each function takes the duration and the name of the _config field it came
// from (for the error message).
{
  // checked('5m', ...) == '5m'; for a `for` or a range as written.
  checked(duration, setting)::
    if parts(duration, setting) != [] then duration,

  // seconds('30m', ...) == 1800
  seconds(duration, setting)::
    std.foldl(function(sum, part) sum + part[0] * unitSeconds[part[1]], parts(duration, setting), 0),

  // words('15m', ...) == '15 minutes', words('1h30m', ...) == '1 hour 30 minutes'
  words(duration, setting)::
    std.join(' ', [
      '%d %s%s' % [part[0], unitNames[part[1]], if part[0] == 1 then '' else 's']
      for part in parts(duration, setting)
    ]),
}
