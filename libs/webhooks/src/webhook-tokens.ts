/** The WebhookSettings of the service (from its Environment). */
export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');
