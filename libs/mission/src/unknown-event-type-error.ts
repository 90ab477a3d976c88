/** An event whose type no build of this system writes (a log changed by hand): no state can be folded from it. */
export class UnknownEventTypeError extends Error {
  constructor(readonly type: unknown) {
    super(`${JSON.stringify(type) ?? 'undefined'} is no mission event type`);
    this.name = 'UnknownEventTypeError';
  }
}
