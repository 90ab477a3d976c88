import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { isPlainObject } from '@app/mission';
import { invalid } from './request-validation.pipe';

/** The problem of a body sent to a route that takes none. */
export const NO_BODY_PROBLEM = 'this route takes no body: send none, or {}';

/**
 * Refuses a request that sends a body to a route that takes none (an empty body or `{}` passes):
 * the route would act and ignore it, and a client that meant something by it (`{"dryRun": true}`
 * to a retention run) would find out only afterwards. Runs after the global guards (key, role,
 * rate limit, the body read). Every route whose `ApiErrorResponses` does not say `jsonBody` takes
 * it, and documents the 400 too.
 */
@Injectable()
export class NoBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ body?: unknown }>();
    const body = request.body;
    if (body === undefined || (isPlainObject(body) && Object.keys(body).length === 0)) return true;
    // Not the names it holds: they are the client's text, and the message goes to logs too.
    throw invalid([{ field: 'body', problems: [NO_BODY_PROBLEM] }]);
  }
}
