import { httpClients } from '../clients.js'
import { scenarios, type Scenario } from '../scenarios.js'
import { withTimeout } from '../timeout.js'

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  readonly status: 'pass' | 'FAIL'
  /** Why it failed: the step's message, with the error code when there is one. */
  readonly detail?: string
  readonly ms: number
}

export interface ScenarioOptions {
  readonly scenarios?: readonly Scenario[]
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
    let result: ScenarioResult
    try {
      await withTimeout(
        httpClients(baseUrl).then((clients) => scenario.run(clients)),
        options.timeoutMs ?? 60_000,
        scenario.id,
      )
      result = { id: scenario.id, title: scenario.title, status: 'pass', ms: Date.now() - started }
    } catch (error) {
      result = {
        id: scenario.id,
        title: scenario.title,
        status: 'FAIL',
        detail: describeError(error),
        ms: Date.now() - started,
      }
    }
    results.push(result)
    options.onResult?.(result)
  }
  return results
}
