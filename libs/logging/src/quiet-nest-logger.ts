import { LoggerService } from '@nestjs/common';

/**
 * Nest's own start-up chatter: module wiring, one line per mapped route (~90 for the intake), and
 * "Nest application successfully started", which Nest writes before the HTTP server listens. The
 * services log their own line once they listen (runService).
 */
export const NEST_STARTUP_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestMicroservice',
]);

/**
 * The services' logger, with Nest's start-up lines moved to debug. NestApplication's errors too:
 * the only ones it writes are a failed listen, which runService reports itself in one line.
 */
export class QuietNestLogger implements LoggerService {
  constructor(private readonly inner: LoggerService & Required<Pick<LoggerService, 'debug'>>) {}

  log(message: unknown, ...rest: unknown[]): void {
    if (fromStartup(rest)) this.inner.debug(message, ...rest);
    else this.inner.log(message, ...rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    if (contextOf(rest) === 'NestApplication') this.inner.debug(message, ...rest);
    else this.inner.error(message, ...rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug(message, ...rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    if (this.inner.fatal) this.inner.fatal(message, ...rest);
    else this.inner.error(message, ...rest);
  }
}

/** Nest passes the context as the last argument. */
function contextOf(rest: unknown[]): unknown {
  return rest[rest.length - 1];
}

function fromStartup(rest: unknown[]): boolean {
  const context = contextOf(rest);
  return typeof context === 'string' && NEST_STARTUP_CONTEXTS.has(context);
}
