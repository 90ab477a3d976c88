import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LookupFunction } from 'node:net';
import { TLSSocket } from 'node:tls';
import ipaddr from 'ipaddr.js';
import { AttemptResult } from '@app/runtime';
import { TraceCarrier } from '@app/tracing';
import { TargetUrlPolicy } from './target-url-policy';
import { webhookSignatureHeader } from './webhook-signature';

export interface OutgoingWebhook {
  /** `webhook-id`: the delivery's id, the same on every attempt. */
  id: string;
  url: string;
  body: string;
  /** Every secret in force (two during a rotation): one signature each. */
  secrets: readonly string[];
  /** The attempt's trace context, sent as `traceparent` (and `tracestate`) so a traced receiver continues it. */
  trace?: TraceCarrier;
}

/**
 * How an attempt ended: the receiver's status, or why there was none. `notSent`: the target policy
 * refused the URL, so no request was made (and none was counted as an attempt). `aborted`: the
 * signal aborted it before its request could reach the receiver (before its connection was made).
 */
export type SendResult = AttemptResult | { error: string; retryable: false; notSent: true } | { error: string; aborted: true };

/** Aborted before the request could reach the receiver: it got nothing. */
const ABORTED_BEFORE_SENDING = { error: 'aborted before the request was sent', aborted: true } as const;

/** What a receiver's answer body may be at most; the rest is not read (it carries no meaning). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A lookup that answers with addresses checked beforehand, so the connection goes where the check looked. */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }));
  return (_hostname, options, callback) => {
    if (options.all) callback(null, entries);
    else callback(null, entries[0].address, entries[0].family);
  };
}

/**
 * POSTs one signed delivery: headers `webhook-id`, `webhook-timestamp` (Unix seconds, taken now, so
 * each attempt is signed afresh) and `webhook-signature`. The URL is checked against the policy
 * first and the connection goes to the addresses checked; redirects are not followed. The host's
 * resolution and the request share the attempt's `timeoutMs`: a claim lapses after twice that, and
 * an attempt still running then would be made a second time, at once, by another dispatcher.
 */
export class WebhookSender {
  constructor(
    private readonly policy: TargetUrlPolicy,
    private readonly timeoutMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * `signal` aborts the attempt (shutdown): it then ends at once, `aborted` if its request cannot
   * have reached the receiver yet, with the receiver's status if its answer had begun (only the
   * rest of its body is not read), else with a retryable error (the receiver may have it).
   */
  async send(webhook: OutgoingWebhook, signal?: AbortSignal): Promise<SendResult> {
    const startedAt = performance.now();
    const target = await this.policy.check(webhook.url, this.timeoutMs);
    if (!target.ok && !target.unresolved) return { error: `refused: ${target.problem}`, retryable: false, notSent: true };
    // Aborted while the host resolved: no request is made, so none can be said to have failed.
    if (signal?.aborted) return ABORTED_BEFORE_SENDING;
    // A host that does not resolve now is retried like a connection failure (a resolver's hiccup
    // would otherwise kill every delivery due meanwhile); only the policy's refusal is final.
    if (!target.ok) return { error: target.problem, retryable: true };
    const leftMs = Math.floor(this.timeoutMs - (performance.now() - startedAt));
    if (leftMs <= 0) return { error: `no answer within ${this.timeoutMs} ms (resolving the host took it all)`, retryable: true };
    const timestamp = Math.floor(this.clock() / 1000);
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(webhook.body)),
      'user-agent': 'brain-webhooks/1',
      'webhook-id': webhook.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': webhookSignatureHeader(webhook.secrets, webhook.id, timestamp, webhook.body),
      ...(webhook.trace?.traceparent ? { traceparent: webhook.trace.traceparent } : {}),
      ...(webhook.trace?.traceparent && webhook.trace.tracestate ? { tracestate: webhook.trace.tracestate } : {}),
    };
    const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<SendResult>((resolve) => {
      /** The receiver's status, once its answer began (its body may still be coming). */
      let status: number | undefined;
      /** Whether the request may have reached the receiver: its bytes go out once the connection is made. */
      let connected = false;
      const failed = (error: string): SendResult => {
        if (!signal?.aborted) return { error, retryable: true };
        // Aborted while the body of an answer was read: the receiver has answered, and that stands.
        if (status !== undefined) return { status };
        return connected ? { error, retryable: true } : ABORTED_BEFORE_SENDING;
      };
      const request = send(
        target.url,
        { method: 'POST', headers, lookup: pinnedLookup(target.addresses), timeout: leftMs, signal },
        (response: IncomingMessage) => {
          status = response.statusCode ?? 0;
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) response.destroy();
          });
          response.on('close', () => resolve({ status: response.statusCode ?? 0 }));
          response.on('error', () => undefined);
        },
      );
      const deadline = setTimeout(() => request.destroy(new Error(`no complete answer within ${this.timeoutMs} ms`)), leftMs);
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('socket', (socket) => {
        // A kept-alive connection is made already; a new one may still be aborted before it is. Over
        // TLS no byte of the request leaves before the handshake ends, which `connect` (TCP's) precedes.
        if (socket.connecting) socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => (connected = true));
        else connected = true;
      });
      request.on('error', (error) => resolve(failed(error.message)));
      // A 101 Switching Protocols: Node hands the socket to an `upgrade` listener, and without one
      // ends the request with neither a response nor an error. It is an answer, and no delivery.
      request.on('upgrade', (response: IncomingMessage, socket) => {
        status = response.statusCode ?? 0;
        socket.destroy();
        resolve({ status });
      });
      request.on('close', () => {
        clearTimeout(deadline);
        // Whatever else ends a request without an answer or an error settles the attempt too: one
        // left pending held its dispatcher's slot for good, and its shutdown with it.
        if (status === undefined) resolve(failed('the connection closed without an answer'));
      });
      request.end(webhook.body);
    });
  }
}
