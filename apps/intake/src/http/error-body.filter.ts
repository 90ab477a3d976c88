import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { Response } from 'express';
import { IllegalTransitionError } from '@app/mission';

/** The one shape of every error the API returns. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details: unknown[];
}

/**
 * Turns every error into an ErrorBody: HTTP exceptions keep their status, an illegal mission
 * transition is a 409, body-parser failures (malformed JSON, too large) keep theirs, and anything
 * else is a 500 whose cause goes to the log, not to the client.
 */
@Catch()
export class ErrorBodyFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const raw = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : { message: response };
      const details = Array.isArray(raw.details) ? raw.details : Array.isArray(raw.message) ? raw.message : [];
      const message = typeof raw.message === 'string' ? raw.message : details.length ? 'request validation failed' : exception.message;
      return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, details };
    }
    if (exception instanceof IllegalTransitionError) {
      return { statusCode: HttpStatus.CONFLICT, error: 'Conflict', message: exception.message, details: [] };
    }
    const status = bodyParserStatus(exception);
    if (status) {
      const message = exception instanceof Error ? exception.message : 'bad request body';
      return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, details: [] };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'internal error', details: [] };
  }
}

/** body-parser errors carry `status` and `type` (e.g. entity.parse.failed, entity.too.large). */
function bodyParserStatus(exception: unknown): number | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { status, type } = exception as { status?: unknown; type?: unknown };
  return typeof status === 'number' && typeof type === 'string' && status >= 400 && status < 500 ? status : undefined;
}
