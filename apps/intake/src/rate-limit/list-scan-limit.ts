import { CallHandler, ExecutionContext, HttpException, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import { Response } from 'express';
import { finalize, Observable } from 'rxjs';
import { apiClientOf } from '../auth/api-client';

/**
 * How many requests of one API key walk the log partitions at a time, on this intake instance.
 * A list page with a rare filter (`GET /api/missions?limit=1&title=zzz`) reads up to
 * MAX_SCANNED_PER_PAGE records; a key's rate limit counts requests, not records, so 20 of them at
 * once made every request of every client slow. Past the bound a request is a 429 with
 * `Retry-After: 1` at once, before it reads anything.
 */
export class ListScanSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(readonly perKey: number) {}

  /** Takes a slot for the key; false when its slots are all taken. */
  take(key: string): boolean {
    const taken = this.inFlight.get(key) ?? 0;
    if (taken >= this.perKey) return false;
    this.inFlight.set(key, taken + 1);
    return true;
  }

  release(key: string): void {
    const taken = (this.inFlight.get(key) ?? 1) - 1;
    if (taken > 0) this.inFlight.set(key, taken);
    else this.inFlight.delete(key);
  }
}

/**
 * On the list routes that walk the partitions (`GET /api/missions`, `GET /api/reviews`): holds one
 * of the key's ListScanSlots while the page is read, or refuses the request with 429. After the
 * guards, so the key is known and the request counted against its rate limit.
 */
@Injectable()
export class ListScanInterceptor implements NestInterceptor {
  constructor(private readonly slots: ListScanSlots) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const key = apiClientOf(http.getRequest<object>())?.name ?? '';
    if (!this.slots.take(key)) {
      http.getResponse<Response>().setHeader('Retry-After', '1');
      throw new HttpException(
        `too many list requests of this API key at once (at most ${this.slots.perKey} of GET /api/missions and GET /api/reviews in flight, LIST_SCANS_PER_KEY); retry when one has answered`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    return next.handle().pipe(finalize(() => this.slots.release(key)));
  }
}
