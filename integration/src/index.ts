export {
  clientsOver,
  fetchResponseKey,
  generateKey,
  hasher,
  httpClients,
  pinnedKeys,
  type ClientFactory,
  type ClientFactoryOptions,
} from './clients.js'
export {
  ScenarioFailure,
  ScenarioFinding,
  scenarios,
  STRICT,
  type Scenario,
  type ScenarioContext,
} from './scenarios.js'
export { adversarialCases, type AdversarialCase } from './adversarial/cases.js'
export {
  runAdversarial,
  type AdversarialOptions,
  type CaseResult,
  type CaseStatus,
  type ServerLog,
} from './adversarial/run.js'
export { judge, type Judgement, type Verdict, type WireResponse } from './adversarial/wire.js'
export {
  ConfigError,
  loadConfig,
  parseConfig,
  type BuildSpec,
  type ClientSpec,
  type Expectation,
  type MatrixConfig,
  type ServerSpec,
} from './matrix/config.js'
export { renderMarkdown } from './matrix/markdown.js'
export { renderMatrix } from './matrix/render.js'
export { parseJunit, parseLibtest, type ClientRun, type TestResult } from './matrix/suites.js'
export {
  assess,
  runMatrix,
  runServer,
  type MatrixOptions,
  type MatrixReport,
  type ServerReport,
  type ServerVerdict,
} from './matrix/run.js'
export { runScenarios, type ScenarioResult } from './matrix/scenarios.js'
// Building and starting the reference servers, for the side-by-side benchmark (bench/src/across.ts).
export { buildReference, type BuildOutcome } from './matrix/builds.js'
export { openNamespace, type Namespace } from './matrix/netns.js'
export {
  startServer,
  UnavailableError,
  type Launcher,
  type Placeholders,
  type RunningServer,
} from './matrix/process.js'
export { cacheDir } from './matrix/run.js'
export { DEFAULT_CONFIG } from './matrix/main.js'
