/** Some rules of a poll failed (the others were polled): each one's reason, and what the poll submitted. */
export class OdooPollError extends Error {
  constructor(
    readonly failures: readonly string[],
    readonly submitted: number,
  ) {
    super(failures.join('; '));
    this.name = 'OdooPollError';
  }
}
