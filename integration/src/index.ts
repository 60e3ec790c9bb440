export {
  clientsOver,
  fetchResponseKey,
  generateKey,
  hasher,
  httpClients,
  type ClientFactory,
  type ClientFactoryOptions,
} from './clients.js'
export { ScenarioFailure, scenarios, type Scenario } from './scenarios.js'
