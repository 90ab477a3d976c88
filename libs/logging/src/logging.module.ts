import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Environment } from '@app/config';
import { traceLogFields, tracingConfigured } from '@app/tracing';
import { loggedRequest } from './logged-url';

/** Never written to a log, wherever they appear in a request or an object. */
export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', '*.apiKey', '*.secret'];

/** Levels at which a log line inside a request is worth the request's id, method and url. */
const REQUEST_CONTEXT_LEVELS: ReadonlySet<string> = new Set(['debug', 'trace']);

/**
 * nestjs-pino keeps one root logger per process, so services sharing a process share its `service`
 * label; the one-process runner names the process instead of letting the first service's name
 * stand for all four (each line's `context`, the class that logged it, still tells them apart).
 */
let processLabel: string | undefined;

export function labelProcessLogs(label: string): void {
  processLabel = label;
}

/**
 * JSON lines (one object per line, `service` on each) for machines; pino-pretty when a person
 * watches a terminal. LOG_FORMAT overrides the guess.
 *
 * pino-http's middleware, which binds a child logger with the request to every log line written
 * while the request runs, is installed only at debug and trace: it costs ~8 % of the intake's CPU
 * per request (a child logger and a redaction setup each time, even with autoLogging off), and
 * from info up hardly anything is logged inside a request. The error filter names the method and
 * url of a 5xx itself.
 */
@Module({})
export class LoggingModule {
  static forRoot(env: Environment, service: string): DynamicModule {
    const pretty = env.LOG_FORMAT ? env.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY);
    const requestContext = REQUEST_CONTEXT_LEVELS.has(env.LOG_LEVEL);
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: env.LOG_LEVEL,
            base: { service: processLabel ?? service },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            serializers: { req: loggedRequest },
            // One line per HTTP request would sit on the hot path; errors are logged by the filter.
            autoLogging: false,
            // With tracing on, every line written inside a trace names it (trace_id, span_id).
            ...(tracingConfigured(env) ? { mixin: traceLogFields } : {}),
            ...(pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
          },
          ...(requestContext ? {} : { forRoutes: [] }),
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
