import { HttpException, HttpStatus } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import ipaddr from 'ipaddr.js';
import { AuthFailureThrottle } from '../rate-limit/auth-failure-throttle';
import { AuthenticatedRequest } from './api-client';
import { ApiKeyStore } from './api-key-store';
import { Authentication, authenticate, MISSING_KEY, unauthorized } from './api-key.guard';
import { isApiRequest } from './api-path';

/**
 * The leading bits of an IPv6 peer's address that name one client: a host commonly holds a whole
 * /64 and could take a new address from it for every attempt.
 */
const IPV6_CLIENT_PREFIX = 64;

/**
 * What failures are counted by: the peer's address as Express sees it (no proxy is trusted), an
 * IPv4 address as it is (also when it comes IPv4-mapped), an IPv6 address as its /64.
 */
export function failureAddress(request: Pick<Request, 'ip' | 'socket'>): string {
  const address = request.ip ?? request.socket.remoteAddress ?? 'unknown';
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${IPV6_CLIENT_PREFIX}`).toString()}/${IPV6_CLIENT_PREFIX}`;
}

function tooManyFailures(response: Response, retryAfter: number): HttpException {
  response.setHeader('Retry-After', String(retryAfter));
  return new HttpException('too many failed authentications from this address; retry later', HttpStatus.TOO_MANY_REQUESTS);
}

/**
 * What another means of authentication answers besides an Authentication: a request it refuses
 * as malformed before anything is looked up (a stream token given twice), answered as it is and
 * not counted as a failed authentication, since no credential was tried.
 */
export type OtherAuthentication = Authentication | { refusal: HttpException };

/**
 * Authenticates /api requests before anything reads their bodies, so a request without a valid
 * key costs a hash and a Redis counter, not the parsing of up to BODY_LIMIT_BYTES of JSON.
 * A request with a valid key passes also from an address blocked for its failed authentications.
 * The caller it finds is attached for ApiKeyGuard (which checks the role) and the rate limiter;
 * the body is read after both (JsonBodyGuard). A refusal is written by writeErrorBody, which
 * closes the connection of a body not yet read.
 * `otherwise` may authenticate a request that carries no key by other means (a stream token), or
 * refuse it as malformed; it answers undefined for requests it does not cover.
 */
export function authenticateBeforeBody(store: ApiKeyStore, throttle: AuthFailureThrottle, otherwise?: (request: Request) => OtherAuthentication | undefined) {
  return (request: AuthenticatedRequest, response: Response, next: NextFunction): void => {
    if (!isApiRequest(request)) return next();
    const byKey = authenticate(store, request);
    const authentication = 'failure' in byKey && byKey.failure === MISSING_KEY ? (otherwise?.(request) ?? byKey) : byKey;
    if ('refusal' in authentication) return next(authentication.refusal);
    // A valid key passes even from a blocked address: otherwise anyone sharing the address (a NAT,
    // a proxy) could lock every key out with a few keyless requests. A right guess showing by its
    // answer is no risk: a secret of MIN_SECRET_LENGTH or more characters cannot be guessed within
    // AUTH_FAILURES_PER_MINUTE tries a minute; the block bounds the work and log noise of failures.
    if ('client' in authentication) {
      request.apiClient = authentication.client;
      return next();
    }
    const address = failureAddress(request);
    const blocked = throttle.retryAfter(address);
    if (blocked > 0) return next(tooManyFailures(response, blocked));
    // The count waits on Redis: an outage that outlasts it has been answered its 503 meanwhile
    // (RedisOutageGate), and a 401's header set on that finished response would throw, unhandled.
    const refuse = (refusal: () => HttpException) => (response.headersSent ? undefined : next(refusal()));
    throttle.fail(address).then(
      (retryAfter) => refuse(() => (retryAfter > 0 ? tooManyFailures(response, retryAfter) : unauthorized(response, authentication.failure))),
      // The failure could not be counted (Redis unreachable): the request is still unauthenticated, a 401, not a 500.
      () => refuse(() => unauthorized(response, authentication.failure)),
    );
  };
}
