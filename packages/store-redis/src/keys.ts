/**
 * Groups of keys that one Lua script combines. On a Redis Cluster every key of a script must be in
 * one hash slot (the cluster refuses the script with CROSSSLOT otherwise), so each group carries a
 * hash tag: Redis hashes only the text between the first `{` and the next `}` of such a key.
 *
 * - `accounts`: the identity hashes and the account event log. Every key-store write that records
 *   its event also bumps the one sequence shared by every identity and adds to the one feed, so
 *   the whole group has to share a slot; a tag per identity would split a write across slots.
 * - `webhooks`: the webhook delivery state. Queueing moves a cursor and adds deliveries in one
 *   script, and a dead letter leaves the pending set in the script that records it.
 */
export type SlotGroup = 'accounts' | 'webhooks'

/**
 * Every key of the stores is named here: the prefix, then the group's hash tag if any, then the
 * parts joined by ':'. Keys outside a group have no tag and spread over the masters by their whole
 * name; they must be used only by single-key commands and scripts.
 */
export function storeKey(prefix: string, parts: readonly string[], group?: SlotGroup): string {
  const name = parts.join(':')
  return group === undefined ? `${prefix}${name}` : `${prefix}{${group}}:${name}`
}
