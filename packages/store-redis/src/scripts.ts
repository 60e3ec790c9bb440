import type { RedisClient } from './connection.js'
import { unexpectedReply } from './errors.js'

/**
 * The check-and-write operations, each a Lua script that Redis runs atomically: no other command
 * runs between its reads and its writes, on this connection or any other. ioredis sends them
 * with EVALSHA and falls back to EVAL once when the server does not have the script cached yet.
 *
 * The key store keeps one hash per identity: field `identity` marks that the identity exists
 * (also once all of its devices are revoked), and each device has three fields, `s:<device>`
 * ('1' active, '0' revoked), `k:<device>` (public key) and `h:<device>` (rotation hash). Revoked
 * devices keep their fields so that a device id is never reused in the identity.
 *
 * The account event log: `events:sequence` counts events, and each event is a member
 * `<sequence>:<event JSON>` scored by its sequence in two sorted sets, `events` (every identity:
 * the feed) and `events:of:<identity>` (its history). The scripts that change an identity take
 * those three keys after the identity's hash and the event JSON as their last argument ('' for
 * none), and record it after every check has passed: the change and its event are one script.
 */
const RECORD_EVENT = `
    local function record(event)
      if event == '' then return end
      local sequence = redis.call('INCR', KEYS[2])
      local member = string.format('%d', sequence) .. ':' .. event
      redis.call('ZADD', KEYS[3], sequence, member)
      redis.call('ZADD', KEYS[4], sequence, member)
    end
    local event = ARGV[#ARGV]`

/** Scripts that change an identity: its hash, then the three event log keys. */
const withEvent = (lua: string) => ({ keys: 4, lua: RECORD_EVENT + lua })
const oneKey = (lua: string) => ({ keys: 1, lua })

const SCRIPTS = {
  // KEYS[1] identity hash; ARGV device, public key, rotation hash
  betterAuthRegisterIdentity: withEvent(`
    if redis.call('EXISTS', KEYS[1]) == 1 then return 'identity-exists' end
    redis.call('HSET', KEYS[1], 'identity', '1', 's:' .. ARGV[1], '1',
      'k:' .. ARGV[1], ARGV[2], 'h:' .. ARGV[1], ARGV[3])
    record(event)
    return 'ok'`),
  // KEYS[1] identity hash; ARGV device, public key, rotation hash
  betterAuthRegisterDevice: withEvent(`
    if redis.call('HEXISTS', KEYS[1], 'identity') == 0 then return 'no-identity' end
    if redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[1]) == 1 then return 'device-exists' end
    redis.call('HSET', KEYS[1], 's:' .. ARGV[1], '1', 'k:' .. ARGV[1], ARGV[2],
      'h:' .. ARGV[1], ARGV[3])
    record(event)
    return 'ok'`),
  // KEYS[1] identity hash; ARGV device, new public key, new rotation hash, revealed hash, then
  // the change the rotation authorises: '' (none), 'register-device' with the new device, its
  // public key and rotation hash, 'revoke-device' with the device, or 'delete-identity'. An
  // unknown or revoked device gets the answer of a wrong key ('invalid-hash'), and every check
  // comes before the first write, so a refused change leaves the commitment unspent.
  betterAuthRotate: withEvent(`
    if redis.call('HGET', KEYS[1], 's:' .. ARGV[1]) ~= '1'
      or redis.call('HGET', KEYS[1], 'h:' .. ARGV[1]) ~= ARGV[4] then
      return 'invalid-hash'
    end
    local change = ARGV[5]
    if change == 'register-device' then
      if redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[6]) == 1 then return 'device-exists' end
    elseif change == 'revoke-device' then
      if redis.call('HGET', KEYS[1], 's:' .. ARGV[6]) ~= '1' then return 'invalid-device' end
    elseif change ~= '' and change ~= 'delete-identity' then
      return 'unknown-change'
    end
    redis.call('HSET', KEYS[1], 'k:' .. ARGV[1], ARGV[2], 'h:' .. ARGV[1], ARGV[3])
    if change == 'register-device' then
      redis.call('HSET', KEYS[1], 's:' .. ARGV[6], '1', 'k:' .. ARGV[6], ARGV[7],
        'h:' .. ARGV[6], ARGV[8])
    elseif change == 'revoke-device' then
      redis.call('HSET', KEYS[1], 's:' .. ARGV[6], '0')
    elseif change == 'delete-identity' then
      redis.call('DEL', KEYS[1])
    end
    record(event)
    return 'ok'`),
  // KEYS[1] identity hash; ARGV device
  betterAuthRevoke: withEvent(`
    if redis.call('HGET', KEYS[1], 's:' .. ARGV[1]) ~= '1' then return 'invalid-device' end
    redis.call('HSET', KEYS[1], 's:' .. ARGV[1], '0')
    record(event)
    return 'ok'`),
  // KEYS[1] identity hash; ARGV device, public key, rotation hash. Every check comes before
  // the first write, so a refusal changes nothing.
  betterAuthReplaceAll: withEvent(`
    if redis.call('HEXISTS', KEYS[1], 'identity') == 0 then return 'no-identity' end
    if redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[1]) == 1 then return 'device-exists' end
    for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
      if string.sub(field, 1, 2) == 's:' then redis.call('HSET', KEYS[1], field, '0') end
    end
    redis.call('HSET', KEYS[1], 's:' .. ARGV[1], '1', 'k:' .. ARGV[1], ARGV[2],
      'h:' .. ARGV[1], ARGV[3])
    record(event)
    return 'ok'`),
  // KEYS[1] recovery key; ARGV expected hash, next hash
  betterAuthRotateRecovery: oneKey(`
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'invalid-hash' end
    redis.call('SET', KEYS[1], ARGV[2])
    return 'ok'`),
  // KEYS[1] time-lock key; ARGV expiresAt, now, ttl in ms. The stored value is the expiry, so
  // a reservation lapses by the caller's clock (`now`), exactly when the contract says, even
  // though Redis may keep the key a little longer. A reservation that has lapsed at `now`
  // already blocks nothing, so it is not stored (and a lapsed one is cleared).
  betterAuthReserve: oneKey(`
    local current = redis.call('GET', KEYS[1])
    if current and tonumber(current) > tonumber(ARGV[2]) then return 'taken' end
    if tonumber(ARGV[3]) > 0 then
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
    else
      redis.call('DEL', KEYS[1])
    end
    return 'ok'`),
  // KEYS[1] identity hash, then the event log keys; ARGV the event (deleting with its event)
  betterAuthDeleteIdentity: withEvent(`
    if redis.call('DEL', KEYS[1]) == 0 then return 'no-identity' end
    record(event)
    return 'ok'`),
  // KEYS[1] unused (the identity hash), then the event log keys; ARGV the event: an event whose
  // change another store made.
  betterAuthAppendEvent: withEvent(`
    record(event)
    return 'ok'`),
  // KEYS[1] the identity's history, KEYS[2] the feed: erases the identity's events from both.
  betterAuthEraseEvents: {
    keys: 2,
    lua: `
    local members = redis.call('ZRANGE', KEYS[1], 0, -1)
    for i = 1, #members, 500 do
      redis.call('ZREM', KEYS[2], unpack(members, i, math.min(i + 499, #members)))
    end
    redis.call('DEL', KEYS[1])
    return tostring(#members)`,
  },
  // Webhook delivery state (see webhook-delivery-store.ts). KEYS[1] cursors hash, KEYS[2] due
  // sorted set, KEYS[3] events hash, KEYS[4] attempts hash; ARGV endpoint, now, then sequence and
  // event JSON per event. Events at or below the stored cursor are skipped.
  betterAuthWebhookEnqueue: {
    keys: 4,
    lua: `
    local cursor = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
    local last = cursor
    for i = 3, #ARGV, 2 do
      local sequence = tonumber(ARGV[i])
      if sequence > last then
        local member = string.format('%016d', sequence) .. ':' .. ARGV[1]
        redis.call('ZADD', KEYS[2], ARGV[2], member)
        redis.call('HSET', KEYS[3], member, ARGV[i + 1])
        redis.call('HSET', KEYS[4], member, '0')
        last = sequence
      end
    end
    if last > cursor then redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', last)) end
    return 'ok'`,
  },
  // KEYS[1] due, KEYS[2] attempts; ARGV member, next attempt time
  betterAuthWebhookRetry: {
    keys: 2,
    lua: `
    if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 'gone' end
    redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    return 'ok'`,
  },
  // KEYS[1] due, KEYS[2] events, KEYS[3] attempts; ARGV member
  betterAuthWebhookDelivered: {
    keys: 3,
    lua: `
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[3], ARGV[1])
    return 'ok'`,
  },
  // KEYS[1] due, KEYS[2] events, KEYS[3] attempts, KEYS[4] dead letters list; ARGV member,
  // endpoint, last error, now. Times go through as strings: cjson would round a number this big.
  betterAuthWebhookDeadLetter: {
    keys: 4,
    lua: `
    if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 'gone' end
    local event = redis.call('HGET', KEYS[2], ARGV[1])
    local attempts = tonumber(redis.call('HGET', KEYS[3], ARGV[1])) + 1
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[3], ARGV[1])
    redis.call('RPUSH', KEYS[4], cjson.encode({ endpoint = ARGV[2], event = event,
      attempts = attempts, lastError = ARGV[3], deadAt = ARGV[4] }))
    return 'ok'`,
  },
} as const

export type ScriptName = keyof typeof SCRIPTS

/** Registers the scripts on a client (ioredis' defineCommand; names unlikely to clash). */
export function defineScripts(client: RedisClient): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { numberOfKeys: lua.keys, lua: lua.lua })
  }
}

type ScriptCommand = (...keysAndArgs: string[]) => Promise<unknown>

/** Runs a defined script with its keys and returns its status word. */
export async function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: string | readonly string[],
  ...args: string[]
): Promise<string> {
  // defineCommand adds the method at run time; ioredis' types cannot know of it.
  const command: unknown = Reflect.get(client, name)
  if (typeof command !== 'function') throw unexpectedReply(command)
  const reply: unknown = await (command as ScriptCommand).call(
    client,
    ...(typeof keys === 'string' ? [keys] : keys),
    ...args,
  )
  if (typeof reply !== 'string') throw unexpectedReply(reply)
  return reply
}
