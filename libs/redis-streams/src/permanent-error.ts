import { BadRequestException } from '@nestjs/common';
import { MalformedMessageError } from './malformed-message-error';

/** A handler error that retrying cannot fix: the message goes to the poison stream at once. */
export class PermanentMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentMessageError';
  }
}

export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentMessageError || error instanceof MalformedMessageError || error instanceof BadRequestException;
}

/** Never throws: the transport describes a failure while it poisons the message, where a throw stopped the process. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof BadRequestException) {
      const response = error.getResponse();
      const detail = typeof response === 'object' && response !== null && 'message' in response ? response.message : response;
      return `validation failed: ${JSON.stringify(detail)}`;
    }
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    // A detail nested too deep for JSON.stringify, or a thrown value whose toString throws.
    return 'an error that could not be described';
  }
}
