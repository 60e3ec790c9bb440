import { InvalidMessageError } from '@better-auth/protocol'
import type { ClientValueStore } from '@better-auth/protocol'

/** Holds one string in memory; for tests and short-lived clients (lost on reload). */
export class MemoryValueStore implements ClientValueStore {
  #value: string | undefined

  store(value: string): Promise<void> {
    if (typeof value !== 'string') {
      return Promise.reject(new InvalidMessageError('value', 'expected a string'))
    }
    this.#value = value
    return Promise.resolve()
  }

  get(): Promise<string | undefined> {
    return Promise.resolve(this.#value)
  }

  clear(): Promise<void> {
    this.#value = undefined
    return Promise.resolve()
  }
}
