import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { apiClientOf } from './api-client';

/**
 * The name of the API key that sent the request, for the `actor` of the events it causes: who
 * did it comes from the key alone, never from the body or a header the caller writes.
 */
export const ApiCaller = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const client = apiClientOf(context.switchToHttp().getRequest<object>());
  // ApiKeyGuard runs before every /api handler and attaches the caller or refuses the request.
  if (!client) throw new Error('no API client on an /api request: ApiKeyGuard did not run');
  return client.name;
});
