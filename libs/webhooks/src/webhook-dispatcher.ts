import { defaultMaxListeners, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind } from '@opentelemetry/api';
import { GuestDataError, GuestDataErrorCode, WrongMasterKeyError } from '@app/guest-data';
import { SERVICE_ACTORS } from '@app/mission';
import { nextStep, RetryPolicy } from '@app/runtime';
import { annotateSpan, currentTraceCarrier, KeptTraceContext, markSpanError, markSpanFailed, TraceCarrier } from '@app/tracing';
import { ClaimedDelivery, endpointFailed, requestPeriodFrom, Settlement, WebhookOutbox } from './webhook-outbox';
import { WebhookSender } from './webhook-sender';
import { WebhookSubscription } from './webhook-subscription';
import { WebhookSubscriptions } from './webhook-subscriptions';

/** Why a stored body can never be opened, so its delivery is dead rather than attempted for ever. */
const UNOPENABLE: readonly GuestDataErrorCode[] = [GuestDataErrorCode.Tampered, GuestDataErrorCode.UnknownFormat];

export type AttemptOutcome = Settlement['outcome'];

/**
 * Who answers a subscription's deliveries, for the share: its URL's origin (scheme, host and port),
 * so subscriptions to one endpoint, or to paths of one server, hold one share between them.
 */
function receiverOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** A claimed delivery with the trace context its mission keeps (tracing on). */
type TracedDelivery = ClaimedDelivery & TraceCarrier;

/**
 * A receiver's URL as a span may carry it (`url.full`): the value of every query parameter is
 * replaced by REDACTED (as the HTTP conventions do for known signature parameters), since receivers
 * often take a token there. Credentials in the URL are refused when subscribing.
 */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    for (const key of new Set(parsed.searchParams.keys())) parsed.searchParams.set(key, 'REDACTED');
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return '';
  }
}

export interface WebhookDispatcherOptions {
  retry: RetryPolicy;
  /** An endpoint that has failed for this long without a success is disabled. */
  disableAfterMs: number;
  /** How long one attempt may take; a claim lapses after twice this, for another dispatcher to take over. */
  timeoutMs: number;
  /** Attempts in flight at once. Default 16. */
  concurrency?: number;
  /**
   * Attempts to one receiver (a URL's scheme, host and port) in flight at once, at most, so a
   * receiver that hangs holds up only its own deliveries, however many subscriptions send to it.
   * Default a quarter of `concurrency` (4 of 16), at least 1.
   */
  perReceiver?: number;
  /** Wait before looking for due deliveries again when there were none. Default 200 ms. */
  pollMs?: number;
  /** Time between two sweeps of every subscription's delivery lists (see sweep). Default 10 s. */
  sweepEveryMs?: number;
  clock?: () => number;
  /**
   * The body as sent, from the body as stored: the outbox holds events with their personal fields
   * sealed, and they are opened (or read `[erased]`) only as they leave. Default: as stored.
   */
  openBody?: (body: string) => Promise<string>;
  /**
   * Each request settled (delivered, a failed one retry, dead), and each delivery that died or was
   * dropped without one. A try that sent nothing and is tried again (a master key this process
   * lacks, or stop() before its request), and a request cut short by stop() and due again at once,
   * are none: nothing was given up, and the receiver failed nothing.
   */
  onAttempt?: (outcome: AttemptOutcome) => void;
  onDisabled?: (subscriptionId: string, reason: string) => void;
  onError?: (error: unknown) => void;
  /** A sweep tick that failed; the next one makes up for it. */
  onSweepError?: (error: unknown) => void;
  /** With tracing on, each attempt is a client span in its mission's trace; absent or off, nothing is read for it. */
  tracing?: KeptTraceContext;
}

/** The actor of the events the dispatcher appends (an endpoint disabled for failing). */
export const DISPATCHER_ACTOR = SERVICE_ACTORS.webhookDispatcher;

/**
 * Sends due deliveries of the outbox: claims them (a claim lapses, so a dispatcher that dies
 * mid-attempt loses nothing: at least once), POSTs each signed with every secret in force, and
 * settles it: delivered on a 2xx, retried with backoff and jitter, or dead. Any number may run
 * side by side (one per intake instance); claims keep them from attempting the same delivery at
 * once. Each keeps to its share per receiver (perReceiver): the deliveries of subscriptions to a
 * receiver with that many attempts in flight in this dispatcher wait, and others are claimed.
 */
export class WebhookDispatcher {
  private readonly inFlight = new Set<Promise<void>>();
  /** Attempts in flight (of follow and runOnce alike) by receiver, for the claim's share. */
  private readonly inFlightByReceiver = new Map<string, number>();
  /**
   * The receiver of each subscription, read again every sweep interval (sweepEveryMs); one made
   * since is a receiver of its own until then, as every subscription was before.
   */
  private receivers = new Map<string, string>();
  private receiversReadAt = Number.NEGATIVE_INFINITY;
  private readonly clock: () => number;
  private loop: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  private stopping = false;
  private pause = new AbortController();
  private abort = new AbortController();

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly subscriptions: WebhookSubscriptions,
    private readonly sender: WebhookSender,
    private readonly options: WebhookDispatcherOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.pause = new AbortController();
    this.abort = new AbortController();
    // Every attempt in flight listens on this one signal: up to `concurrency` listeners, none leaked.
    setMaxListeners(Math.max(defaultMaxListeners, this.options.concurrency ?? 16), this.abort.signal);
    this.loop = this.follow();
    this.sweeping = this.sweepEvery();
  }

  /**
   * Takes no new deliveries and aborts the attempts in flight, which are settled as due again at
   * once (not as the endpoint's failure), so a shutdown neither waits for slow receivers nor leaves
   * deliveries to wait for their claims to lapse. One whose request was not sent yet counts no
   * attempt (stoppedBeforeRequest); one whose request was sent keeps the attempt it counted; one
   * whose answer had begun (the status in, the body still coming) is settled as that answer.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pause.abort();
    this.abort.abort();
    await Promise.all([this.loop, this.sweeping]);
    this.loop = undefined;
    this.sweeping = undefined;
  }

  /** One round: claims what is due now (up to the free slots) and attempts it; resolves when those attempts are settled. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    await Promise.all(claimed.map((delivery) => this.attemptInShare(delivery)));
    return claimed.length;
  }

  /**
   * The sweep tick: tidies every subscription's delivery lists (WebhookOutbox.sweep), a bounded
   * batch each. The outbox sweeps as it writes and a death prunes the long-dead, but after a peak,
   * or once a failing endpoint recovers, nothing is written and nothing dies, and the lists would
   * keep the ids of deliveries that expired. Every dispatcher runs it; a second one at the same
   * time finds less to do.
   */
  async sweep(): Promise<void> {
    const now = this.clock();
    const subscriptions = await this.subscriptions.list();
    this.knowReceivers(subscriptions, now);
    // One script call per subscription (its keys share one slot), sent in one round trip.
    await Promise.all(subscriptions.map((subscription) => this.outbox.sweep(subscription.id, now)));
  }

  private knowReceivers(subscriptions: readonly WebhookSubscription[], now: number): void {
    this.receivers = new Map(subscriptions.map((subscription) => [subscription.id, receiverOf(subscription.url)]));
    this.receiversReadAt = now;
  }

  private async sweepEvery(): Promise<void> {
    while (!this.stopping) {
      await sleep(this.options.sweepEveryMs ?? 10_000, undefined, { signal: this.pause.signal }).catch(() => undefined);
      if (this.stopping) break;
      // What a failed sweep left is still there for the next one to find.
      await this.sweep().catch((error: unknown) => this.options.onSweepError?.(error));
    }
  }

  private async claim(): Promise<TracedDelivery[]> {
    const concurrency = this.options.concurrency ?? 16;
    const free = concurrency - this.inFlight.size;
    if (free <= 0) return [];
    const now = this.clock();
    // Before the first claim too: with none known, subscriptions to one receiver took a share each.
    if (now - this.receiversReadAt >= (this.options.sweepEveryMs ?? 10_000)) this.knowReceivers(await this.subscriptions.list(), now);
    const share = {
      perReceiver: this.options.perReceiver ?? Math.max(1, Math.floor(concurrency / 4)),
      inFlight: this.inFlightByReceiver,
      receiverOf: this.receivers,
    };
    const claimed = await this.outbox.claim(now, now + 2 * this.options.timeoutMs, free, share);
    const tracing = this.options.tracing;
    if (!tracing?.tracer.enabled || claimed.length === 0) return claimed;
    // The missions' hashes are in their own partitions (not the outbox's slot), so this is a read of
    // its own; one that fails costs the attempts their parent, never the attempts themselves.
    const parents = await tracing.traceParents(claimed.map((delivery) => delivery.missionId)).catch(() => []);
    return claimed.map((delivery, i) => ({ ...delivery, traceparent: parents[i] ?? undefined }));
  }

  private async follow(): Promise<void> {
    while (!this.stopping) {
      try {
        const claimed = await this.claim();
        for (const delivery of claimed) {
          const attempt = this.attemptInShare(delivery).finally(() => this.inFlight.delete(attempt));
          this.inFlight.add(attempt);
        }
        if (this.inFlight.size >= (this.options.concurrency ?? 16)) await Promise.race(this.inFlight);
        else if (claimed.length === 0) await this.idle();
      } catch (error) {
        if (this.stopping) break;
        this.options.onError?.(error);
        await sleep(1_000, undefined, { signal: this.pause.signal }).catch(() => undefined);
      }
    }
    await Promise.all(this.inFlight);
  }

  /**
   * Waits pollMs, or until an attempt in flight settles (what is due may be waiting only for its
   * receiver's share, which that frees), or the dispatcher stops.
   */
  private async idle(): Promise<void> {
    if (this.pause.signal.aborted) return;
    const wake = new AbortController();
    const stop = () => wake.abort();
    this.pause.signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([sleep(this.options.pollMs ?? 200, undefined, { signal: wake.signal }).catch(() => undefined), ...this.inFlight]);
    } finally {
      // The poll's timer is cleared, and the stop signal keeps no listener of it.
      wake.abort();
      this.pause.signal.removeEventListener('abort', stop);
    }
  }

  /** One attempt, counted in its receiver's share while it is in flight (as the claim counted it). */
  private async attemptInShare(delivery: TracedDelivery): Promise<void> {
    const receiver = this.receivers.get(delivery.subscriptionId) ?? delivery.subscriptionId;
    this.inFlightByReceiver.set(receiver, (this.inFlightByReceiver.get(receiver) ?? 0) + 1);
    try {
      await this.attempt(delivery);
    } finally {
      const left = (this.inFlightByReceiver.get(receiver) ?? 1) - 1;
      if (left > 0) this.inFlightByReceiver.set(receiver, left);
      else this.inFlightByReceiver.delete(receiver);
    }
  }

  /**
   * One attempt, traced: a client span (HTTP conventions) continuing the trace its mission keeps, so
   * the mission's one trace reaches its deliveries; `brain.webhook.outcome` is what the attempt came to.
   */
  private attempt(delivery: TracedDelivery): Promise<void> {
    const tracer = this.options.tracing?.tracer;
    if (!tracer?.enabled) return this.attemptOnce(delivery);
    return tracer.inSpan(
      'deliver webhook',
      delivery,
      SpanKind.CLIENT,
      {
        'http.request.method': 'POST',
        // The conventions count resends only, and only from the first one on.
        ...(delivery.attempts > 1 ? { 'http.request.resend_count': delivery.attempts - 1 } : {}),
        'brain.mission.id': delivery.missionId,
        'brain.webhook.subscription.id': delivery.subscriptionId,
        'brain.webhook.delivery.id': delivery.id,
        'brain.webhook.attempt': delivery.attempts,
      },
      () => this.attemptOnce(delivery),
    );
  }

  private async attemptOnce(delivery: ClaimedDelivery): Promise<void> {
    try {
      const settlement = await this.send(delivery);
      // The claim lapsed before its request was made: the dispatcher that holds it now makes it.
      if (settlement === null) return;
      annotateSpan('brain.webhook.outcome', settlement.outcome);
      const now = this.clock();
      const settled = await this.outbox.settle(delivery, settlement, now);
      if (settled === null) return;
      // Deleted while the attempt was in flight: dropped, not a death (or a success) of a live subscription.
      if (settled.outcome !== settlement.outcome) annotateSpan('brain.webhook.outcome', settled.outcome);
      // A retry is a failed request; one that sent nothing, or was cut short by stop(), is none.
      if (settled.outcome !== 'retry' || endpointFailed(settlement)) this.options.onAttempt?.(settled.outcome);
      if (settled.outcome === 'drop') return;
      // Only a request that failed: the clock it reads may have been started by failures before the
      // endpoint recovered, and one that made no request cannot tell.
      const { failingSince } = settled;
      if (endpointFailed(settlement) && failingSince > 0 && now - failingSince >= this.options.disableAfterMs)
        await this.disable(delivery.subscriptionId, failingSince);
    } catch (error) {
      // The claim lapses and the delivery is attempted again.
      markSpanFailed(error);
      this.options.onError?.(error);
    }
  }

  /** How the attempt ended, or null when its claim lapsed before the request was made (nothing to settle). */
  private async send(delivery: ClaimedDelivery): Promise<Settlement | null> {
    const subscription = await this.subscriptions.get(delivery.subscriptionId);
    if (!subscription) return { outcome: 'drop' };
    if (subscription.status === 'disabled') {
      return { outcome: 'dead', error: `endpoint disabled: ${subscription.disabledReason ?? ''}`.trim(), notSent: true };
    }
    let secrets: string[];
    try {
      secrets = await this.subscriptions.secretsInForce(subscription.id);
    } catch (error) {
      if (error instanceof WrongMasterKeyError) return this.notSentForNow(delivery, error);
      // Altered where it is stored: it never opens, so dead with why, as an unopenable body.
      if (!(error instanceof GuestDataError && UNOPENABLE.includes(error.code))) throw error;
      return { outcome: 'dead', error: `not sent: the signing secret does not open (${error.code})`, notSent: true };
    }
    if (secrets.length === 0) {
      // Deleted between the two reads: nobody to send to. Still there (its secrets lost, say by a
      // partial restore): dead with why, listed, rather than sent unsigned.
      if (!(await this.subscriptions.get(subscription.id))) return { outcome: 'drop' };
      return { outcome: 'dead', error: 'not sent: the subscription has no signing secret in force', notSent: true };
    }
    let body = delivery.body;
    try {
      if (this.options.openBody) body = await this.options.openBody(delivery.body);
    } catch (error) {
      if (error instanceof WrongMasterKeyError) return this.notSentForNow(delivery, error);
      // A body that can never open (altered, or in a format this version cannot read) would be
      // claimed again every lapse for ever, holding up its mission's queue and never going dead.
      // Any other failure (Redis, say) may pass: the claim lapses.
      if (!(error instanceof GuestDataError && UNOPENABLE.includes(error.code))) throw error;
      return { outcome: 'dead', error: `not sent: the stored event does not open (${error.code})`, notSent: true };
    }
    annotateSpan('url.full', redactedUrl(subscription.url));
    // Stopped while the secrets were read or the body opened: no request is made, nor recorded.
    if (this.abort.signal.aborted) return this.stoppedBeforeRequest();
    // Every request is recorded before it is made (one extra round trip): a claim that lapses
    // unsettled is an attempt only if it made its request, and a first request whose settling is
    // lost leaves its claim to lapse, the one made again still judged from the first
    // (requestPeriodFrom). A claim that lapsed before is refused, its request left to the holder.
    if (!(await this.outbox.beginRequest(delivery))) return null;
    const result = await this.sender.send({ id: delivery.id, url: subscription.url, body, secrets, trace: currentTraceCarrier() }, this.abort.signal);
    // Stopped before the request could reach the receiver (as the host resolved, say): the first
    // request recorded just now is taken back with the claim.
    if ('aborted' in result) return this.stoppedBeforeRequest();
    if ('notSent' in result) {
      // Refused by the target policy before any request: dead with why, as an endpoint disabled is,
      // but no attempt counted and nothing said of the endpoint's failure clock. So too when the
      // dispatcher stopped while the host resolved: no request was made for the abort to cut short.
      annotateSpan('error.type', 'refused');
      markSpanError(result.error);
      return { outcome: 'dead', error: result.error, notSent: true };
    }
    // Cut short by stop() before the receiver answered: due again at once. An answer it gave
    // before the stop is settled as what it was: a 2xx is delivered, not sent again, and a 4xx dead.
    if (!('status' in result) && this.abort.signal.aborted)
      return { outcome: 'retry', at: this.clock(), responseCode: 0, error: 'attempt aborted: the dispatcher stopped', endpointFailed: false };
    // A redelivered delivery is retried as a new one: its backoff counts the attempts since the redelivery.
    const attempt = delivery.attempts - delivery.attemptsAtRedelivery;
    const step = nextStep(result, attempt, requestPeriodFrom(delivery), this.clock(), this.options.retry, delivery.id);
    const responseCode = 'status' in result ? result.status : 0;
    const error = 'error' in result ? result.error : `answered ${responseCode}`;
    if (responseCode > 0) annotateSpan('http.response.status_code', responseCode);
    if (step.kind !== 'delivered') {
      // Low cardinality, as the conventions ask: the status, or why there was none.
      annotateSpan('error.type', responseCode > 0 ? String(responseCode) : '_OTHER');
      markSpanError(error);
    }
    if (step.kind === 'delivered') return { outcome: 'delivered', responseCode };
    if (step.kind === 'retry') return { outcome: 'retry', at: step.at, responseCode, error, endpointFailed: true };
    return { outcome: 'dead', responseCode, error, endpointFailed: true };
  }

  /**
   * Not sent because this process lacks the master key its signing secret or its event's data key
   * is under, which a restart with the key mends. Settled as not sent (the claim's attempt taken
   * back, why in lastError: the error names key ids, never key material), not left to its claim's
   * lapse, which said nothing and waited twice the timeout, whatever its backoff. It is tried again
   * after the backoff of its tries so far, those that sent nothing included, so the wait grows as
   * for failed requests; once the retry period ends (from its first request if it made one, else from its
   * first try) it is dead with why, redeliverable when the key is back. The first request it makes
   * gets a whole retry period of its own (requestPeriodFrom).
   */
  private notSentForNow(delivery: ClaimedDelivery, error: WrongMasterKeyError): Settlement {
    const tries = delivery.attempts - delivery.attemptsAtRedelivery + delivery.unsentTries;
    const periodFrom = delivery.firstRequestAt ?? delivery.firstAttemptAt;
    const step = nextStep({ error: error.message, retryable: true }, tries, periodFrom, this.clock(), this.options.retry, delivery.id);
    markSpanFailed(error);
    const why = `not sent: ${error.message}`;
    return step.kind === 'retry' ? { outcome: 'retry', at: step.at, error: why, notSent: true } : { outcome: 'dead', error: why, notSent: true };
  }

  /**
   * Not sent because the dispatcher stopped first: the claim is taken back whole (no attempt, no
   * first try or first request, nothing in lastError or unsentTries), and the delivery is due again
   * at once. Recorded, a stop counted an attempt for nothing and started the retry period, so that
   * after the restart a single failed request could make the delivery dead.
   */
  private stoppedBeforeRequest(): Settlement {
    return { outcome: 'retry', at: this.clock(), notSent: true, stopped: true };
  }

  /**
   * Disables the endpoint for failing since `failingSince`, the clock its failed request's settling
   * returned, only if that clock still reads it (checked where the event is appended): a request
   * to it that succeeded, or an operator's enable, since then keeps it enabled. So does another
   * dispatcher (or an operator) that changed it at the same time: it is decided there.
   */
  private async disable(subscriptionId: string, failingSince: number): Promise<void> {
    const reason = `every attempt failed since ${new Date(failingSince).toISOString()}, longer than WEBHOOK_DISABLE_AFTER_SECONDS`;
    if (await this.subscriptions.disableFailing(subscriptionId, reason, DISPATCHER_ACTOR, failingSince)) this.options.onDisabled?.(subscriptionId, reason);
  }
}
