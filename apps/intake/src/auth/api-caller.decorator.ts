import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiClient, apiClientOf } from './api-client';

function callerOf(context: ExecutionContext): ApiClient {
  const client = apiClientOf(context.switchToHttp().getRequest<object>());
  // ApiKeyGuard runs before every /api handler and attaches the caller or refuses the request.
  if (!client) throw new Error('no API client on an /api request: ApiKeyGuard did not run');
  return client;
}

/**
 * The name of the API key that sent the request, for the `actor` of the events it causes: who
 * did it comes from the key alone, never from the body or a header the caller writes.
 */
export const ApiCaller = createParamDecorator((_data: unknown, context: ExecutionContext): string => callerOf(context).name);

/** The API key that sent the request, name and role: for what a role scopes (seesMission). */
export const ApiCallerClient = createParamDecorator((_data: unknown, context: ExecutionContext): ApiClient => callerOf(context));
