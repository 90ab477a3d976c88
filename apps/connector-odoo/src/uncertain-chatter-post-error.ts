/**
 * A chatter post that may have been made: `sent` when this call sent it and no answer said it
 * failed (a timeout, a connection lost), so Odoo may commit it yet; not `sent` when an earlier such
 * post is not found and it is too early to post again (see postToChatterOnce).
 */
export class UncertainChatterPostError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
    this.name = 'UncertainChatterPostError';
  }
}
