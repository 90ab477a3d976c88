// eslint-disable-next-line no-restricted-imports -- Nest has no public accessor for the guards a decorator sets, which this spec checks.
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { ApiErrorResponses } from './api-responses';
import { NoBodyGuard } from './no-body.guard';

class Routes {
  @ApiErrorResponses({ role: 'operator', noBody: true })
  takesNone(): void {}

  @ApiErrorResponses({ role: 'operator', jsonBody: true })
  takesJson(): void {}

  @ApiErrorResponses({ role: 'reader' })
  saysNothing(): void {}
}

const guardsOf = (handler: () => void): unknown[] => (Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? [];
/** The documented 400, from @nestjs/swagger's response metadata (its key is not exported). */
const responsesOf = (handler: () => void): Record<string, { description?: string }> => {
  const key = Reflect.getMetadataKeys(handler).find((candidate) => String(candidate).endsWith('apiResponse'));
  return Reflect.getMetadata(key, handler) as Record<string, { description?: string }>;
};
const badRequestOf = (handler: () => void): string => responsesOf(handler)['400']?.description ?? '';

describe('ApiErrorResponses noBody: one declaration for the behaviour and its documentation', () => {
  it('given noBody, then the route refuses a body (NoBodyGuard) and documents that 400', () => {
    expect(guardsOf(Routes.prototype.takesNone)).toEqual([NoBodyGuard]);
    expect(badRequestOf(Routes.prototype.takesNone)).toMatch(/the route takes none/);
  });

  it('given a route with a JSON body, then neither', () => {
    expect(guardsOf(Routes.prototype.takesJson)).toEqual([]);
    expect(badRequestOf(Routes.prototype.takesJson)).not.toMatch(/the route takes none/);
  });

  it('given a route that does not say jsonBody, then it takes no body: it refuses one and documents that 400', () => {
    expect(guardsOf(Routes.prototype.saysNothing)).toEqual([NoBodyGuard]);
    expect(badRequestOf(Routes.prototype.saysNothing)).toMatch(/the route takes none/);
  });

  it('given any route, then 413 and 415 are documented: JsonBodyGuard reads a body sent to any route', () => {
    for (const handler of [Routes.prototype.takesNone, Routes.prototype.takesJson, Routes.prototype.saysNothing]) {
      expect(Object.keys(responsesOf(handler))).toEqual(expect.arrayContaining(['413', '415']));
    }
  });
});
