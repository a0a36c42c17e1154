import Redis

/// The store's Lua scripts: each runs atomically in Redis. They never parse JSON (the values are
/// written by Swift, and cjson would re-format numbers); they only move strings between keys.
extension RedisRoomStateStore {
    /// KEYS: seats, locked, muted, version. ARGV: invite key prefix, seat count.
    /// → {version, HGETALL seats, locked, muted, invite values}
    static let loadSeatsScript = RedisScript(
        """
        local invites = {}
        for i = 0, tonumber(ARGV[2]) - 1 do
          local v = redis.call('GET', ARGV[1] .. i)
          if v then invites[#invites + 1] = v end
        end
        return {redis.call('GET', KEYS[4]) or '0', redis.call('HGETALL', KEYS[1]), redis.call('SMEMBERS', KEYS[2]),
                redis.call('SMEMBERS', KEYS[3]), invites}
        """)

    /// The compare-and-set. KEYS: seats, locked, muted, version, store-wide counter.
    /// ARGV: expected version, invite prefix, seat count, then counted lists: seats (field, json),
    /// locked, muted, invites (index, json, ttl ms). → the new version, or nil when it moved.
    static let writeSeatsScript = RedisScript(
        """
        if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[1] then return false end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        local i = 4
        local n = tonumber(ARGV[i]); i = i + 1
        for _ = 1, n do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
        n = tonumber(ARGV[i]); i = i + 1
        for _ = 1, n do redis.call('SADD', KEYS[2], ARGV[i]); i = i + 1 end
        n = tonumber(ARGV[i]); i = i + 1
        for _ = 1, n do redis.call('SADD', KEYS[3], ARGV[i]); i = i + 1 end
        for s = 0, tonumber(ARGV[3]) - 1 do redis.call('DEL', ARGV[2] .. s) end
        n = tonumber(ARGV[i]); i = i + 1
        for _ = 1, n do redis.call('SET', ARGV[2] .. ARGV[i], ARGV[i + 1], 'PX', ARGV[i + 2]); i = i + 3 end
        local v = redis.call('INCR', KEYS[5])
        redis.call('SET', KEYS[4], v)
        return v
        """)

    /// KEYS: members, users, room state, activity, rooms index. ARGV: socket, member json, user id,
    /// room id, room id as a JSON string, now ms, inactivity timeout ms. → {first socket of the user, count}
    static let addMemberScript = RedisScript(
        """
        local first = 0
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
          if redis.call('HINCRBY', KEYS[2], ARGV[3], 1) == 1 then first = 1 end
        end
        local count = redis.call('HLEN', KEYS[2])
        redis.call('SADD', KEYS[5], ARGV[4])
        redis.call('SET', KEYS[4], ARGV[6], 'PX', ARGV[7])
        redis.call('SET', KEYS[3], '{"id":' .. ARGV[5] .. ',"status":"ACTIVE","participantCount":' .. count ..
          ',"createdAt":' .. ARGV[6] .. ',"lastActivityAt":' .. ARGV[6] .. ',"speakers":[]}', 'EX', 86400)
        return {first, count}
        """)

    /// KEYS: members, users, room state, rooms index, producers. ARGV: socket, user id, room id,
    /// room id as a JSON string, now ms. → {last socket of the user, count}, or nil when the socket
    /// was not a member (another node removed it first).
    static let removeMemberScript = RedisScript(
        """
        if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return false end
        redis.call('HDEL', KEYS[5], ARGV[1])
        local last = 0
        if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
          redis.call('HDEL', KEYS[2], ARGV[2])
          last = 1
        end
        local count = redis.call('HLEN', KEYS[2])
        if count == 0 then redis.call('SREM', KEYS[4], ARGV[3]) end
        if redis.call('EXISTS', KEYS[3]) == 1 then
          redis.call('SET', KEYS[3], '{"id":' .. ARGV[4] .. ',"status":"ACTIVE","participantCount":' .. count ..
            ',"createdAt":' .. ARGV[5] .. ',"lastActivityAt":' .. ARGV[5] .. ',"speakers":[]}', 'EX', 86400)
        end
        return {last, count}
        """)

    /// KEYS: members, producers. ARGV: socket, producer id. Only for a current member.
    static let setProducerScript = RedisScript(
        """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
        return 1
        """)

    /// KEYS: seats, locked, muted, version, counter, members, producers, users, room state, rooms
    /// index. ARGV: invite prefix, max seats, room id, then the closing node's own sockets.
    /// → 1 when the room was closed, 0 when members on other nodes keep it open.
    static let closeRoomScript = RedisScript(
        """
        local mine = {}
        for i = 4, #ARGV do mine[ARGV[i]] = true end
        for _, sid in ipairs(redis.call('HKEYS', KEYS[6])) do
          if not mine[sid] then return 0 end
        end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
        for s = 0, tonumber(ARGV[2]) - 1 do redis.call('DEL', ARGV[1] .. s) end
        redis.call('SET', KEYS[4], redis.call('INCR', KEYS[5]), 'EX', 86400)
        redis.call('SREM', KEYS[10], ARGV[3])
        return 1
        """)

    /// KEYS: key. ARGV: expected value. Deletes the key only while it holds that value.
    static let compareAndDeleteScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// The reference's fixed window (INCR, then EXPIRE on the first hit), in one atomic step.
    /// KEYS: counter. ARGV: window ms. → the count.
    static let rateLimitScript = RedisScript(
        """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """)
}
