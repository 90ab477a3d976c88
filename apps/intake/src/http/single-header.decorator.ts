import { IncomingMessage } from 'node:http';
import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { givenMoreThanOnce } from './request-validation.pipe';

/**
 * A request header that takes one value, named as the API writes it (`Idempotency-Key`): its
 * value, or undefined when it is not sent; a 400 `<name> may be given only once` when it comes on
 * more than one line. Node joins such lines with ", " in `headers` (what @Headers reads), so two
 * keys read as one key that is no key (`must be 1 to 200 visible ASCII characters`); which one the
 * client meant cannot be told, as with a query parameter given twice.
 */
export const SingleHeader = createParamDecorator((name: string, context: ExecutionContext): string | undefined => {
  const lines = context.switchToHttp().getRequest<IncomingMessage>().headersDistinct[name.toLowerCase()];
  if (lines !== undefined && lines.length > 1) throw new BadRequestException(givenMoreThanOnce(name));
  return lines?.[0];
});
