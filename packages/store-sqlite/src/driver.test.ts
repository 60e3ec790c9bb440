import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from './driver.js'

let db: Database
afterEach(() => db.close())

function table(): Database {
  db = openDatabase(':memory:')
  db.exec('CREATE TABLE t (v TEXT PRIMARY KEY) STRICT')
  return db
}

function values(): unknown {
  return db
    .prepare<[], { v: string }>(
      "SELECT group_concat(v, ',') AS v FROM (SELECT v FROM t ORDER BY v)",
    )
    .get()?.v
}

describe('SQLite driver transactions', () => {
  it('commits, and rolls everything back when the operation throws', () => {
    const insert = table().prepare<[string]>('INSERT INTO t (v) VALUES (?)')
    const write = db.transaction((...vs: string[]) => {
      for (const v of vs) insert.run(v)
      if (vs.includes('boom')) throw new Error('refused')
      return vs.length
    })
    expect(write.immediate('a', 'b')).toBe(2)
    expect(() => write('c', 'boom')).toThrow('refused')
    expect(() => write.immediate('d', 'boom')).toThrow('refused')
    expect(values()).toBe('a,b')
    // The connection is usable afterwards: no transaction was left open.
    expect(write('e')).toBe(1)
    expect(values()).toBe('a,b,e')
  })

  it('runs a nested transaction in a savepoint: an inner failure undoes only its own writes', () => {
    const insert = table().prepare<[string]>('INSERT INTO t (v) VALUES (?)')
    const inner = db.transaction((v: string) => {
      insert.run(v)
      if (v === 'inner-boom') throw new Error('inner refused')
    })
    const outer = db.transaction((v: string) => {
      insert.run(v)
      try {
        inner('inner-boom')
      } catch {
        // The outer operation decides to go on without the inner write.
      }
      inner(`${v}-inner`)
      if (v === 'boom') throw new Error('outer refused')
    })
    outer.immediate('a')
    expect(values()).toBe('a,a-inner')
    expect(() => outer.immediate('boom')).toThrow('outer refused')
    expect(values()).toBe('a,a-inner')
  })

  it('reports changes, returns undefined for no row, and closes idempotently', () => {
    const insert = table().prepare<[string]>('INSERT INTO t (v) VALUES (?) ON CONFLICT DO NOTHING')
    expect(insert.run('a').changes).toBe(1)
    expect(insert.run('a').changes).toBe(0)
    expect(db.prepare<[string]>('SELECT v FROM t WHERE v = ?').get('zz')).toBeUndefined()
    expect(db.pragma('user_version')).toBe(0)
    expect(db.open).toBe(true)
    db.close()
    expect(db.open).toBe(false)
    expect(() => insert.run('b')).toThrow()
  })
})
