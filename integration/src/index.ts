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
export { ScenarioFailure, scenarios, type Scenario } from './scenarios.js'
