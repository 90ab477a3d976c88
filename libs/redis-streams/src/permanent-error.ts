import { BadRequestException } from '@nestjs/common';
import { MalformedMessageError } from './stream-message';

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

export function describeError(error: unknown): string {
  if (error instanceof BadRequestException) {
    const response = error.getResponse();
    const detail = typeof response === 'object' && response !== null && 'message' in response ? response.message : response;
    return `validation failed: ${JSON.stringify(detail)}`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
