import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Environment } from '@app/config';

/** Never written to a log, wherever they appear in a request or an object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.apiKey',
  '*.secret',
];

/**
 * JSON lines (one object per line, `service` on each) for machines; pino-pretty when a person
 * watches a terminal. LOG_FORMAT overrides the guess.
 */
@Module({})
export class LoggingModule {
  static forRoot(env: Environment, service: string): DynamicModule {
    const pretty = env.LOG_FORMAT ? env.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY);
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: env.LOG_LEVEL,
            base: { service },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // One line per HTTP request would sit on the hot path; errors are logged by the filter.
            autoLogging: false,
            ...(pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
