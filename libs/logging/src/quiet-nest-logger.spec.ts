import { LoggerService } from '@nestjs/common';
import { QuietNestLogger } from './quiet-nest-logger';

type Level = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

/** Records which level each line reached. */
function recorder(): { inner: LoggerService & { debug: NonNullable<LoggerService['debug']> }; lines: [Level, unknown, unknown[]][] } {
  const lines: [Level, unknown, unknown[]][] = [];
  const at =
    (level: Level) =>
    (message: unknown, ...rest: unknown[]) =>
      void lines.push([level, message, rest]);
  return { inner: { log: at('log'), error: at('error'), warn: at('warn'), debug: at('debug'), verbose: at('verbose'), fatal: at('fatal') }, lines };
}

describe('QuietNestLogger', () => {
  it.each([
    ['Mapped {/api/missions, POST} route', 'RouterExplorer'],
    ['MissionsController {/api/missions}:', 'RoutesResolver'],
    ['IntakeModule dependencies initialized', 'InstanceLoader'],
    ['Starting Nest application...', 'NestFactory'],
    ['Nest application successfully started', 'NestApplication'],
    ['Nest microservice successfully started', 'NestMicroservice'],
  ])('moves Nest start-up line "%s" (%s) to debug', (message, context) => {
    const { inner, lines } = recorder();
    new QuietNestLogger(inner).log(message, context);
    expect(lines).toEqual([['debug', message, [context]]]);
  });

  it("moves NestApplication's listen error to debug (runService reports it in one line)", () => {
    const { inner, lines } = recorder();
    new QuietNestLogger(inner).error('Error: listen EADDRINUSE: address already in use :::3000', 'NestApplication');
    expect(lines.map(([level]) => level)).toEqual(['debug']);
  });

  it("keeps the services' own lines and every other error at their level", () => {
    const { inner, lines } = recorder();
    const logger = new QuietNestLogger(inner);
    logger.log('intake listening on port 3000');
    logger.log('assigned mission', 'Dispatcher');
    logger.error('handler failed', 'stack', 'RedisStreamsServer');
    logger.warn('slow', 'NestApplication');
    expect(lines.map(([level, message]) => [level, message])).toEqual([
      ['log', 'intake listening on port 3000'],
      ['log', 'assigned mission'],
      ['error', 'handler failed'],
      ['warn', 'slow'],
    ]);
  });
});
