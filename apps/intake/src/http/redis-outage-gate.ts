import { NextFunction, Request, Response } from 'express';
import { RedisConnection, redisReachable, RedisUnreachableError } from '@app/redis';
import { isApiRequest } from '../auth';
import { writeErrorBody } from './error-body.filter';

/**
 * What an /api request gets while the connection to Redis is down: the same 503 with Retry-After,
 * whether it arrives during the outage or was under way when it began.
 *
 * Every API route reads or writes Redis (the rate limit counts there too), and so does a failed
 * authentication (AuthFailureThrottle). A request that arrives while the connection is down is
 * refused at once, with or without a valid key, before anything was sent or written. A key is not
 * checked meanwhile: an uncounted 401 would let guesses go unthrottled for the outage, and the same
 * 503 for every key tells a guesser nothing.
 *
 * A request under way when the connection drops (or sent into a silent network before the
 * connection's liveness bound noticed) would wait out ioredis's reconnects: about 30 s while Redis
 * refuses connections, minutes while the network drops packets, as each attempt then waits its
 * connect timeout. The connection itself must keep waiting, as the stream consumers share it and
 * carry on once Redis is back; the request instead gets the 503 once the outage has lasted
 * `waitMs`, and a restart quicker than that goes unnoticed. Its commands are not withdrawn: queued
 * or sent, they may still run once Redis is back, so a create answered so may be recorded, and its
 * retry with the same Idempotency-Key answers with that mission.
 */
export class RedisOutageGate {
  /** The API responses not yet finished: those the outage's 503 is for. */
  private readonly underWay = new Set<Response>();
  private outageTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly waitMs: number,
  ) {
    // `close` comes again at every failed reconnect: the first of an outage starts its wait.
    redis.on('close', () => (this.outageTimer ??= setTimeout(() => this.answerUnderWay(), waitMs).unref()));
    redis.on('ready', () => {
      clearTimeout(this.outageTimer);
      this.outageTimer = undefined;
    });
  }

  middleware(): (request: Request, response: Response, next: NextFunction) => void {
    return (request, response, next) => {
      if (!isApiRequest(request)) return next();
      if (!redisReachable(this.redis)) return next(new RedisUnreachableError());
      this.underWay.add(response);
      response.once('close', () => this.underWay.delete(response));
      next();
    };
  }

  private answerUnderWay(): void {
    // Left to the next `close`: requests that arrive meanwhile are refused at once, so none is under way long.
    this.outageTimer = undefined;
    // One already streaming (the live stream) has its own answer to an outage.
    for (const response of this.underWay) if (!response.headersSent) writeErrorBody(response, new RedisUnreachableError());
  }
}
