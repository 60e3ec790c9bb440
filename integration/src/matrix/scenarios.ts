import type { WireResponse } from '../adversarial/wire.js'
import { httpClients } from '../clients.js'
import { ScenarioFinding, scenarios, type Scenario } from '../scenarios.js'
import { withTimeout } from '../timeout.js'

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  /** `finding`: a foreign server's defect made a step unjudgeable (see ScenarioFinding). */
  readonly status: 'pass' | 'FAIL' | 'finding'
  /** Why it failed: the step's message, with the error code when there is one. */
  readonly detail?: string
  /** What a foreign server answered where its exact code was not judged. */
  readonly observed?: readonly string[]
  readonly ms: number
}

export interface ScenarioOptions {
  readonly scenarios?: readonly Scenario[]
  /** Exact error codes (our servers, the default) or any refusal (foreign servers). */
  readonly strict?: boolean
  /** Per scenario. Default 60 s. */
  readonly timeoutMs?: number
  readonly onResult?: (result: ScenarioResult) => void
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const text = typeof code === 'string' ? `${code} ${error.message}` : error.message
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

/** The reference scenarios with this project's client, over HTTP, each with fresh clients. */
export async function runScenarios(
  baseUrl: string,
  options: ScenarioOptions = {},
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const scenario of options.scenarios ?? scenarios) {
    const started = Date.now()
    let last: WireResponse | undefined
    const observed: string[] = []
    const context = {
      strict: options.strict ?? true,
      lastAnswer: () => last,
      observe: (note: string) => observed.push(note),
    }
    const seen = () => (observed.length === 0 ? {} : { observed: [...observed] })
    let result: ScenarioResult
    try {
      await withTimeout(
        httpClients(baseUrl, { onAnswer: (answer) => (last = answer) }).then((clients) =>
          scenario.run(clients, context),
        ),
        options.timeoutMs ?? 60_000,
        scenario.id,
      )
      result = {
        id: scenario.id,
        title: scenario.title,
        status: 'pass',
        ...seen(),
        ms: Date.now() - started,
      }
    } catch (error) {
      result = {
        id: scenario.id,
        title: scenario.title,
        status: error instanceof ScenarioFinding ? 'finding' : 'FAIL',
        detail: describeError(error),
        ...seen(),
        ms: Date.now() - started,
      }
    }
    results.push(result)
    options.onResult?.(result)
  }
  return results
}
