// eslint-disable-next-line no-restricted-imports -- the one place that wraps Query, adding our mark.
import { Query, SetMetadata } from '@nestjs/common';

/** Set on a route handler whose query is a DTO; UnknownQueryInterceptor leaves such routes to the DTO's whitelist. */
export const TAKES_QUERY_DTO = 'brain:takes-query-dto';

/**
 * `@Query()` that also marks its route as one taking a query DTO, through metadata of our own:
 * Nest's record of a route's parameters is not part of its public API.
 */
export function QueryDto(): ParameterDecorator {
  return (target, key, index) => {
    Query()(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) SetMetadata(TAKES_QUERY_DTO, true)(target, key, descriptor);
  };
}
