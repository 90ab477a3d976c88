import { STATUS_CODES } from 'node:http';

/** The one shape of every error the API returns, the answers to what Node's HTTP parser refuses included. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details: unknown[];
}

/** An ErrorBody whose `error` is the status's reason phrase. */
export function errorBody(statusCode: number, message: string, details: unknown[] = []): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, details };
}
