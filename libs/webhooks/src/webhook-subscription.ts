/** A subscription's state: `disabled` ones get no deliveries (theirs are listed as dead) until enabled again. */
export const WEBHOOK_STATUSES = ['active', 'disabled'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** A subscription as folded from its events (its secrets are kept apart and never shown after they are made). */
export interface WebhookSubscription {
  id: string;
  url: string;
  eventTypes: string[];
  description: string;
  status: WebhookStatus;
  /** Why it is disabled (the dispatcher's reason, or the operator's); null while active. */
  disabledReason: string | null;
  /** Until when the secret before the last rotation still signs (ISO time); null when only one secret is in force. */
  previousSecretUntil: string | null;
  /**
   * Until when each previous secret still signs beside the current one, as the last rotation left
   * them (ISO times, that rotation's first): the one it replaced and any earlier one whose overlap
   * had not ended. A time past has ended.
   */
  previousSecretsUntil: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type WebhookEvent =
  | { type: 'WebhookSubscribed'; subscriptionId: string; at: string; actor: string; data: { url: string; eventTypes: string[]; description: string } }
  | { type: 'WebhookSecretRotated'; subscriptionId: string; at: string; actor: string; data: { previousSecretUntil: string; previousSecretsUntil: string[] } }
  | { type: 'WebhookDisabled'; subscriptionId: string; at: string; actor: string; data: { reason: string } }
  | { type: 'WebhookEnabled'; subscriptionId: string; at: string; actor: string; data: Record<string, never> }
  | { type: 'WebhookDeleted'; subscriptionId: string; at: string; actor: string; data: Record<string, never> };

/**
 * A signing secret in force as stored: sealed under the master key (`sealed`, `mk`), or in plain
 * (`secret`) when written before secrets were sealed; `until` (ms) for each previous secret, the
 * time its rotation promised it would sign until, null for the current one.
 */
export type StoredSecret = ({ sealed: string; mk: string } | { secret: string }) & { until: number | null };

/** A subscription record as stored; one written before `previousSecretsUntil` gets it from `previousSecretUntil`, all it kept. */
export function parseWebhookSubscription(json: string): WebhookSubscription {
  const record = JSON.parse(json) as Omit<WebhookSubscription, 'previousSecretsUntil'> & Partial<Pick<WebhookSubscription, 'previousSecretsUntil'>>;
  const previousSecretsUntil = record.previousSecretsUntil ?? (record.previousSecretUntil === null ? [] : [record.previousSecretUntil]);
  return { ...record, previousSecretsUntil };
}

/** Folds one event into the subscription; null once deleted. */
export function evolveWebhook(record: WebhookSubscription | null, event: WebhookEvent): WebhookSubscription | null {
  if (event.type === 'WebhookSubscribed') {
    return {
      id: event.subscriptionId,
      ...event.data,
      status: 'active',
      disabledReason: null,
      previousSecretUntil: null,
      previousSecretsUntil: [],
      version: 1,
      createdAt: event.at,
      updatedAt: event.at,
    };
  }
  if (!record) return null;
  const next = { ...record, version: record.version + 1, updatedAt: event.at };
  switch (event.type) {
    case 'WebhookSecretRotated':
      return { ...next, previousSecretUntil: event.data.previousSecretUntil, previousSecretsUntil: event.data.previousSecretsUntil };
    case 'WebhookDisabled':
      return { ...next, status: 'disabled', disabledReason: event.data.reason };
    case 'WebhookEnabled':
      return { ...next, status: 'active', disabledReason: null };
    case 'WebhookDeleted':
      return null;
  }
}
