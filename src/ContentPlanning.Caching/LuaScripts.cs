namespace ContentPlanning.Caching;

/// <summary>Server-side steps that must be one round trip or atomic. Times are fixed-width (19 digit) tick strings.</summary>
internal static class LuaScripts
{
    /// <summary>
    /// KEYS: entry, clear marker. ARGV: tag marker prefix.
    /// Returns nil, or { envelope, clear marker, one marker per tag of the envelope } ('' for an absent marker).
    /// </summary>
    public const string Read = """
        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        local res = { v, redis.call('GET', KEYS[2]) or '' }
        local ok, env = pcall(cjson.decode, v)
        if ok and type(env) == 'table' and type(env.tags) == 'table' then
          for _, t in ipairs(env.tags) do
            res[#res + 1] = redis.call('GET', ARGV[1] .. tostring(t)) or ''
          end
        end
        return res
        """;

    /// <summary>
    /// KEYS: entry. ARGV: envelope, ttl ms, header, created position, tag set prefix, tag set ttl ms, tags...
    /// Never replaces a newer entry (a write replayed after an outage may be older than what is there now).
    /// </summary>
    public const string Write = """
        local cur = redis.call('GET', KEYS[1])
        if cur and string.sub(cur, 1, #ARGV[3]) == ARGV[3] then
          local p = tonumber(ARGV[4])
          if string.sub(cur, p, p + 18) > string.sub(ARGV[1], p, p + 18) then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        local ttl = tonumber(ARGV[6])
        for i = 7, #ARGV do
          local ts = ARGV[5] .. ARGV[i]
          redis.call('SADD', ts, KEYS[1])
          if redis.call('PTTL', ts) < ttl then redis.call('PEXPIRE', ts, ttl) end
        end
        return 1
        """;

    /// <summary>
    /// KEYS: entry. ARGV: header, expiry position, new expiry (the time of the expire), created position.
    /// Rewrites the logical expiry in place, keeping the TTL; an entry written after the expire (a replayed expire
    /// arriving late) is left alone.
    /// </summary>
    public const string Expire = """
        local v = redis.call('GET', KEYS[1])
        if not v or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
        local c = tonumber(ARGV[4])
        if string.sub(v, c, c + 18) > ARGV[3] then return 0 end
        local p = tonumber(ARGV[2])
        if string.sub(v, p, p + 18) <= ARGV[3] then return 0 end
        local ttl = redis.call('PTTL', KEYS[1])
        v = string.sub(v, 1, p - 1) .. ARGV[3] .. string.sub(v, p + 19)
        if ttl > 0 then redis.call('SET', KEYS[1], v, 'PX', ttl) else redis.call('SET', KEYS[1], v) end
        return 1
        """;

    /// <summary>KEYS: marker, tag set (may be absent for a clear). ARGV: time, marker ttl ms. Marker keeps the newest time.</summary>
    public const string Invalidate = """
        local cur = redis.call('GET', KEYS[1])
        if not cur or cur < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
        if #KEYS < 2 then return 0 end
        local members = redis.call('SMEMBERS', KEYS[2])
        for i = 1, #members, 500 do
          redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
        end
        redis.call('DEL', KEYS[2])
        return #members
        """;
}
