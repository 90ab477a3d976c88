/**
 * A rotation refused because the subscription has as many secrets signing as are kept: one more
 * would mean dropping a previous secret before the time it was promised to sign until.
 */
export class TooManyWebhookSecretsError extends Error {
  constructor(
    readonly subscriptionId: string,
    readonly inForce: number,
    /** When the first previous secret's overlap ends (ISO time): a rotation fits again from then on. */
    readonly firstEnds: string,
  ) {
    super(
      `webhook subscription ${subscriptionId} has ${inForce} secrets signing, the most kept; ` +
        `rotating again would drop a previous secret before its overlap ends: the first one ends at ${firstEnds}, rotate after that`,
    );
    this.name = 'TooManyWebhookSecretsError';
  }
}
