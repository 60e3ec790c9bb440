export {
  MemoryWebhookDeliveryStore,
  type DeadLetter,
  type PendingDelivery,
  type WebhookDeliveryStore,
} from './delivery-store.js'
export {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEndpoint,
  type WebhookPass,
} from './dispatcher.js'
export {
  DEFAULT_WEBHOOK_TOLERANCE_S,
  WEBHOOK_HEADERS,
  signWebhook,
  verifyWebhook,
} from './signature.js'
