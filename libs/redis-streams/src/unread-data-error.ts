import { MalformedMessageError } from './malformed-message-error';
import type { StreamMessage } from './stream-message';

/**
 * A message whose data the transport refuses to parse (too deep: DataTooDeepError; too large:
 * DataTooLargeError). It keeps the rest of the message, so a handler that answers its senders'
 * refusals itself (TAKES_REFUSED_DATA) can still be given it, as RefusedData with this message.
 */
export abstract class UnreadDataError extends MalformedMessageError {
  constructor(
    readonly envelope: Omit<StreamMessage, 'data'>,
    message: string,
  ) {
    super(message);
  }
}

/** The most bytes a message's data may hold where the transport checks it, and the setting that says so (its name is in the refusal). */
export interface DataLimit {
  bytes: number;
  setting: string;
}

/** A message whose data is larger than its DataLimit: refused before it is scanned or parsed. */
export class DataTooLargeError extends UnreadDataError {
  constructor(envelope: Omit<StreamMessage, 'data'>, size: number, limit: DataLimit) {
    super(envelope, `data is ${size} bytes, over ${limit.setting} ${limit.bytes}`);
    this.name = 'DataTooLargeError';
  }
}
