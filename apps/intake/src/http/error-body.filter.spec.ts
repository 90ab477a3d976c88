import { Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { Response } from 'express';
import { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors';
import { UnreadableStoredDataError } from '@app/event-store';
import { GuestDataError, GuestDataErrorCode, SubjectKeyContendedError } from '@app/guest-data';
import { REDIS_OUT_OF_MEMORY_QUIET_MS, toErrorBody, writeErrorBody } from './error-body.filter';

describe('toErrorBody', () => {
  it('given stored guest data that fails its authentication check, then a 500 that says it was altered, naming neither subject nor field', () => {
    const altered = new GuestDataError(
      GuestDataErrorCode.Tampered,
      'the encrypted field fails authentication: it was altered, or belongs to another mission or field',
    );

    const body = toErrorBody(altered);

    // It was the "internal error" of any other failure: an auditor could not tell altered data from a bug.
    expect(body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: expect.stringMatching(/^stored guest data fails its authentication check: it was altered.*`replay verify` finds where$/),
      details: [],
    });
  });

  it("given a guest's data key erased each time it was made, then a 409 that says to try again, not a 500 internal error", () => {
    expect(toErrorBody(new SubjectKeyContendedError('guest:anna', 5))).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: "a data subject's key was erased each time it was made (5 times); try again",
      details: [],
    });
  });

  it('given any other failure, then a 500 that says nothing of its cause', () => {
    expect(toErrorBody(new Error('ECONNRESET at 10.0.0.7:6379'))).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error',
      details: [],
    });
  });

  it.each([
    ['ioredis gave up its retries while reconnecting', new MaxRetriesPerRequestError(20)],
    ['the connection was closed', new Error('Connection is closed.')],
    ['the socket was refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['a wrapped outage', new Error('the mission could not be loaded', { cause: new MaxRetriesPerRequestError(20) })],
  ])('given Redis unreachable (%s), then a 503 that says to retry, without the internal error', (_, outage) => {
    // It was a 500 "internal error", after ~30 s of ioredis's retries.
    expect(toErrorBody(outage)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the store (Redis) is unreachable; retry later',
      details: [],
    });
  });

  it('given a path no route matches, then the 404 names the method and says no route takes it there, quoting neither path nor query', () => {
    // Nest's own 404 for it; the answer read "no such route: GET", as if GET were the route.
    const notFound = new NotFoundException('Cannot GET /api/subjects/anna%40example.com/extra?email=anna@example.com');
    const message = 'no route takes GET at this path; the routes are listed at /docs';
    expect(toErrorBody(notFound)).toMatchObject({ statusCode: 404, message, details: [] });
  });

  // They read "request entity too large" and "unsupported charset": neither how much, nor what instead.
  it.each([
    [{ status: 413, type: 'entity.too.large', limit: 4_096 }, 'the request body is over BODY_LIMIT_BYTES (4096 bytes)'],
    [{ status: 415, type: 'charset.unsupported', charset: 'latin1' }, 'unsupported charset: send the body as UTF-8'],
  ])('given body-parser refusing a body (%j), then the message says what to send instead', (fields, message) => {
    expect(toErrorBody(Object.assign(new Error('from body-parser'), fields))).toMatchObject({ statusCode: fields.status, message });
  });

  it('given an object or array the parser failed on, then it is not valid JSON, even when JSON.parse alone reads it', () => {
    // The reviver overflowing the stack on deep nesting was read as a scalar body: "the body must be a JSON object".
    const failure = Object.assign(new RangeError('Maximum call stack size exceeded'), {
      status: 400,
      type: 'entity.parse.failed',
      body: ' {"payload":[[[]]]}',
    });
    expect(toErrorBody(failure)).toMatchObject({ statusCode: 400, message: 'the request body is not valid JSON' });
  });
});

describe('writeErrorBody', () => {
  /** A response to `GET /health/ready` whose request has been read whole, recording what is sent. */
  function readinessResponse(): { response: Response; json: jest.Mock } {
    const json = jest.fn();
    const response = {
      req: { method: 'GET', originalUrl: '/health/ready', headers: {}, complete: true },
      setHeader: jest.fn(),
      status: jest.fn().mockReturnThis(),
      json,
    };
    return { response: response as unknown as Response, json };
  }

  let logged: jest.SpyInstance;
  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  it.each([
    ['redis', { status: 'down', message: 'redis unreachable' }, 'not ready: redis unreachable'],
    ['consumer', { status: 'down', message: 'stream consumer not running' }, 'not ready: stream consumer not running'],
  ])('given a failed readiness probe (%s down), when it is answered, then a 503 that says why and no error line', (check, result, message) => {
    // As Terminus throws it for a check that is down.
    const failed = new ServiceUnavailableException({ status: 'error', info: {}, error: { [check]: result }, details: { [check]: result } });
    const { response, json } = readinessResponse();

    writeErrorBody(response, failed);

    expect(json).toHaveBeenCalledWith({ statusCode: 503, error: 'Service Unavailable', message, details: [] });
    // It logged "GET /health/ready: ServiceUnavailableException…" with a stack on every probe while Redis was down.
    expect(logged).not.toHaveBeenCalled();
  });

  it('given Redis out of memory, when every request meets it, then each is a 503 with Retry-After, and it is logged once per outage', () => {
    jest.useFakeTimers({ now: Date.parse('2030-01-01T00:00:00Z') });
    try {
      // As ioredis rejects the rate limiter's script while Redis is above its maxmemory.
      const refusal = () => new ReplyError("OOM command not allowed when used memory > 'maxmemory'. script: 872bc67, on @user_script:1.");
      const answer = () => {
        const { response, json } = readinessResponse();
        writeErrorBody(response, refusal());
        return { response, json };
      };

      const first = answer();
      expect(first.json).toHaveBeenCalledWith({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the store (Redis) is out of memory; retry later',
        details: [],
      });
      expect(first.response.setHeader).toHaveBeenCalledWith('Retry-After', '30');
      for (let request = 0; request < 5; request++) {
        jest.advanceTimersByTime(REDIS_OUT_OF_MEMORY_QUIET_MS);
        answer();
      }
      // It was a 500 "internal error" with a stack per request.
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^Redis refuses writes: its used memory is above 'maxmemory'/));

      // A refusal after a quiet spell is a new outage.
      jest.advanceTimersByTime(REDIS_OUT_OF_MEMORY_QUIET_MS + 1);
      answer();
      expect(logged).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it("given a 500 on a url with a query, then the error line names the query's parameters but none of their values", () => {
    const { response } = readinessResponse();
    response.req.originalUrl = '/api/stream?token=st_live.secret&from=start';

    writeErrorBody(response, new Error('boom'));

    // A stream token in the log opened the live stream to whoever read it.
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^GET \/api\/stream\?token=…&from=…: Error: boom\n/));
    expect(logged).not.toHaveBeenCalledWith(expect.stringContaining('st_live.secret'));
  });

  it("given stored data that cannot be read, when a request with a query meets it, then the warning names the query's parameters but none of their values", () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { response, json } = readinessResponse();
      response.req.originalUrl = '/api/missions/m-1?at=2026-12-01T10:00:00Z';

      writeErrorBody(response, new UnreadableStoredDataError('m-1', 'its stored state is not a mission'));

      expect(json).toHaveBeenCalledWith(expect.objectContaining({ statusCode: 409 }));
      expect(warned).toHaveBeenCalledWith(expect.stringMatching(/^GET \/api\/missions\/m-1\?at=…: mission m-1: its stored state is not a mission; /));
    } finally {
      warned.mockRestore();
    }
  });

  it('given any other 503, when it is answered, then its stack is logged', () => {
    const { response } = readinessResponse();

    writeErrorBody(response, new ServiceUnavailableException('the judge is not configured'));

    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^GET \/health\/ready: ServiceUnavailableException: the judge is not configured\n/));
  });
});
