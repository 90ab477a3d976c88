/**
 * Thrown by a handler that did not fail at its message but cannot take it now (its process is
 * shutting down): the message stays pending for another consumer, and it is never moved to the
 * poison stream for this, however often it was delivered.
 */
export class HandBackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandBackError';
  }
}
