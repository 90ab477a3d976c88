import type { StreamMessage } from './stream-message';
import { UnreadDataError } from './unread-data-error';

/**
 * A message whose data nests deeper than the transport parses (MAX_MESSAGE_DEPTH). It keeps the
 * rest of the message, so a handler that answers its senders' refusals itself (TAKES_REFUSED_DATA)
 * can still be given it.
 */
export class DataTooDeepError extends UnreadDataError {
  constructor(envelope: Omit<StreamMessage, 'data'>, maxDepth: number) {
    super(envelope, `data nests deeper than ${maxDepth} levels`);
    this.name = 'DataTooDeepError';
  }
}
