/** A stream entry that is no message (no pattern, data that is no JSON): retrying cannot fix it. */
export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessageError';
  }
}
