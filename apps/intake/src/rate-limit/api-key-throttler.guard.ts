import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { Request } from 'express';
import { apiClientOf } from '../auth/api-client';
import { isApiRequest } from '../auth/api-path';

/**
 * Rate limits the API per API key rather than per IP (clients behind one NAT or proxy would share
 * a budget, and one key used from many hosts would multiply its own), over the whole API rather
 * than per route. Needs ApiKeyGuard to have run first (register it as APP_GUARD before this one);
 * a request it has not identified is counted by IP.
 */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    // Stream handlers share the global guards but have no HTTP request to count.
    if (context.getType() !== 'http') return true;
    return !isApiRequest(context.switchToHttp().getRequest<Request>());
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const client = apiClientOf(request);
    // Distinct prefixes, so a key named like an address can never share an address's budget.
    return client ? `key:${client.name}` : `ip:${await super.getTracker(request)}`;
  }

  /** The default key is per controller and handler; one budget per caller covers the whole API. */
  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }
}
