import { MalformedMessageError } from './malformed-message-error';
import type { StreamMessage } from './stream-message';

/**
 * A message whose data nests deeper than the transport parses (MAX_MESSAGE_DEPTH). It keeps the
 * rest of the message, so a handler that answers its senders' refusals itself (TAKES_REFUSED_DATA)
 * can still be given it.
 */
export class DataTooDeepError extends MalformedMessageError {
  constructor(
    readonly envelope: Omit<StreamMessage, 'data'>,
    maxDepth: number,
  ) {
    super(`data nests deeper than ${maxDepth} levels`);
    this.name = 'DataTooDeepError';
  }
}
