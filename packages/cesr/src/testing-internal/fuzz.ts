// Test-only fuzzing harness (excluded from the build), shared by the `*.fuzz.test.ts` files of
// cesr, protocol and crypto. Inputs are published spec messages mutated at random (byte edits,
// splices, JSON subtree replacements), so runs reach past the first syntax check into every
// validator. In the ordinary test run each target makes a short fixed number of runs; `make fuzz`
// sets FUZZ_SECONDS and each target runs for that long.
import fc from 'fast-check'
import examples from '../../../../spec/vectors/spec-examples.json' with { type: 'json' }

interface SpecVector {
  readonly id: string
  readonly message?: string
  readonly json?: unknown
}

const vectors = (examples as unknown as { vectors: readonly SpecVector[] }).vectors

/** The seed corpus: every published message, by id. */
export const seedMessages: ReadonlyMap<string, string> = new Map(
  vectors.flatMap((v) => (v.message === undefined ? [] : [[v.id, v.message] as const])),
)

export function seedMessage(id: string): string {
  const message = seedMessages.get(id)
  if (message === undefined) throw new Error(`no spec vector ${id}`)
  return message
}

/** Every string value anywhere in the published messages and decoded token bodies. */
export function seedStrings(): readonly string[] {
  const found = new Set<string>()
  const walk = (value: unknown): void => {
    if (typeof value === 'string') found.add(value)
    else if (Array.isArray(value)) value.forEach(walk)
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk)
  }
  for (const vector of vectors) {
    if (vector.message !== undefined) walk(JSON.parse(vector.message))
    walk(vector.json)
  }
  return [...found]
}

/** Seconds each target runs for under `make fuzz`; 0 in the ordinary test run. */
export const fuzzSeconds = Number(process.env.FUZZ_SECONDS ?? 0)

/** Runs per target in the ordinary test run: a smoke run that keeps the targets working. */
const SMOKE_RUNS = 150

/** fast-check parameters of a fuzz target: a time budget under `make fuzz`, a short fixed run otherwise. */
export function fuzzRuns<Ts extends unknown[]>(): fc.Parameters<Ts> {
  if (fuzzSeconds === 0) return { numRuns: SMOKE_RUNS }
  return {
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: fuzzSeconds * 1000,
    markInterruptAsFailure: false,
    // How far a timed run got is worth seeing; failures are reported as fc.assert would.
    reporter: (details) => {
      if (details.failed) throw new Error(fc.defaultReportMessage(details))
      console.log(`fuzz: ${details.numRuns} runs in ${fuzzSeconds} s`)
    },
  }
}

/**
 * fuzzRuns of a one-argument property, with the seeds run first, unmutated, so that a regression
 * in accepting valid input shows at once.
 */
export function fuzzParameters<T>(seeds: readonly T[] = []): fc.Parameters<[T]> {
  return { ...fuzzRuns<[T]>(), examples: seeds.map((seed): [T] => [seed]) }
}

/** The vitest timeout of a fuzz target: its budget plus room for shrinking a failure. */
export function fuzzTimeout(): number {
  return fuzzSeconds > 0 ? fuzzSeconds * 1000 + 120_000 : 60_000
}

type Edit<T> = (items: readonly T[], donor: readonly T[]) => T[]

/** A position in `items` (or one past its end) picked by a random fraction. */
function at(length: number, fraction: number): number {
  return Math.min(length, Math.floor(fraction * (length + 1)))
}

function edits<T>(unit: fc.Arbitrary<T>): fc.Arbitrary<Edit<T>> {
  const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
  return fc.oneof(
    // Delete a run.
    fc.tuple(fraction, fc.nat({ max: 16 })).map(([f, n]) => (items: readonly T[]) => {
      const i = at(items.length, f)
      return [...items.slice(0, i), ...items.slice(i + n)]
    }),
    // Insert random units.
    fc
      .tuple(fraction, fc.array(unit, { minLength: 1, maxLength: 8 }))
      .map(([f, inserted]) => (items: readonly T[]) => {
        const i = at(items.length, f)
        return [...items.slice(0, i), ...inserted, ...items.slice(i)]
      }),
    // Overwrite one unit.
    fc.tuple(fraction, unit).map(([f, u]) => (items: readonly T[]) => {
      const i = at(items.length - 1, f)
      return [...items.slice(0, i), u, ...items.slice(i + 1)]
    }),
    // Duplicate a run in place (repeated keys, doubled members).
    fc.tuple(fraction, fc.integer({ min: 1, max: 64 })).map(([f, n]) => (items: readonly T[]) => {
      const i = at(items.length, f)
      return [...items.slice(0, i + n), ...items.slice(i, i + n), ...items.slice(i + n)]
    }),
    // Splice in a run of another seed.
    fc
      .tuple(fraction, fraction, fc.integer({ min: 1, max: 128 }))
      .map(([f, g, n]) => (items: readonly T[], donor: readonly T[]) => {
        const i = at(items.length, f)
        const j = at(donor.length, g)
        return [...items.slice(0, i), ...donor.slice(j, j + n), ...items.slice(i)]
      }),
    // Truncate.
    fraction.map((f) => (items: readonly T[]) => items.slice(0, at(items.length, f))),
  )
}

function mutatedSequences<T>(
  seeds: readonly (readonly T[])[],
  unit: fc.Arbitrary<T>,
): fc.Arbitrary<T[]> {
  const seed = fc.constantFrom(...seeds)
  return fc
    .tuple(seed, seed, fc.array(edits(unit), { minLength: 1, maxLength: 6 }))
    .map(([start, donor, steps]) =>
      steps.reduce<T[]>((items, edit) => edit(items, donor), [...start]),
    )
}

/** Characters that matter to JSON, CESR and timestamps, with a tail of arbitrary UTF-16. */
const interestingChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'{}[]":,\\ \t\n0123456789-+.eEZT_ABIaz'.split('')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\u0000', '\u007f', '\u00e9', '\ud800', '\udc00', '\ufeff'),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)

/** Seeds edited character by character (UTF-16 code units, so lone surrogates happen). */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<string> {
  return mutatedSequences(
    seeds.map((seed) => seed.split('')),
    interestingChar,
  ).map((chars) => chars.join(''))
}

/** Seeds edited byte by byte. */
export function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return mutatedSequences(
    seeds.map((seed) => [...seed]),
    fc.nat({ max: 255 }),
  ).map((bytes) => Uint8Array.from(bytes))
}

/** JSON values that stress validators: wrong types, CESR-looking strings, huge and odd numbers. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(...seedStrings()),
  mutatedText(seedStrings()),
  fc.constantFrom(1e308, -0, 2 ** 53 + 1, 0.1, '', null, [], {}, true),
)

type Path = readonly (string | number)[]

function paths(value: unknown, path: Path = []): Path[] {
  const found: Path[] = [path]
  if (Array.isArray(value)) value.forEach((item, i) => found.push(...paths(item, [...path, i])))
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...path, key]))
  }
  return found
}

function replaced(value: unknown, path: Path, make: (old: unknown) => unknown): unknown {
  if (path.length === 0) return make(value)
  const [head, ...rest] = path
  if (Array.isArray(value)) {
    return (value as unknown[]).map((item, i) => (i === head ? replaced(item, rest, make) : item))
  }
  const object = value as Record<string, unknown>
  return Object.fromEntries(
    Object.entries(object).flatMap(([key, item]) => {
      if (key !== head) return [[key, item]]
      const next = replaced(item, rest, make)
      return next === undefined ? [] : [[key, next]]
    }),
  )
}

/**
 * Seeds parsed and re-serialized with one subtree replaced, removed or given an extra member:
 * still JSON, so these reach the validators behind the syntax checks.
 */
export function mutatedJson(seeds: readonly string[]): fc.Arbitrary<string> {
  const parsed = seeds.map((seed) => JSON.parse(seed) as unknown)
  return fc
    .tuple(
      fc.constantFrom(...parsed),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.constantFrom('replace', 'remove', 'add'),
      hostileJson,
      fc.string({ maxLength: 12 }),
    )
    .map(([value, f, kind, replacement, key]) => {
      const all = paths(value)
      const path = all[Math.floor(f * all.length)] ?? []
      const edited = replaced(value, path, (old) => {
        if (kind === 'remove') return undefined
        if (kind === 'add' && typeof old === 'object' && old !== null && !Array.isArray(old)) {
          return { ...old, [key]: replacement }
        }
        return replacement
      })
      return JSON.stringify(edited) ?? ''
    })
}

/**
 * What a parser is allowed to throw: the typed errors of this library. Anything else (TypeError,
 * RangeError, a stack overflow) is a crash: a parser reached a state its checks did not foresee.
 */
export function expectOnly(allowed: (error: unknown) => boolean, run: () => unknown): void {
  try {
    run()
  } catch (error) {
    if (!allowed(error)) throw crash(error)
  }
}

export async function expectOnlyAsync(
  allowed: (error: unknown) => boolean,
  run: () => Promise<unknown>,
): Promise<void> {
  try {
    await run()
  } catch (error) {
    if (!allowed(error)) throw crash(error)
  }
}

function crash(error: unknown): Error {
  const name = error instanceof Error ? error.name : typeof error
  return new Error(`parser crashed with ${name}; keep the input as a regression test`, {
    cause: error,
  })
}
