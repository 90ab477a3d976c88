import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientRequest, createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** Node's channel of an HTTP client's answers, published as their status and headers come in. */
const ANSWER_CHANNEL = 'http.client.response.finish';

/** One request the receiver got, with whether its signature verified against the secrets it knows. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body, `{type, timestamp, data}`. */
  message: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Which of the receiver's secrets verified it (by the reference library); empty when none did. */
  verifiedBy: string[];
  /** The status the receiver answered. */
  answered: number;
  /** The request's `traceparent` header (tracing on), else ''. */
  traceparent: string;
}

/**
 * A webhook receiver on loopback, as a customer would run one: it verifies every request with the
 * Standard Webhooks reference library (`standardwebhooks`), records it, and answers what `respond`
 * says (200 by default), so tests can make it fail for a while.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The secrets to verify with; a test sets them once it has created its subscription. */
  secrets: string[] = [];
  /** What to answer a request (its status), given the request; 200 by default. A promise that never settles hangs the request. */
  respond: (webhook: Omit<ReceivedWebhook, 'answered'>) => number | Promise<number> = () => 200;
  /** Requests that arrived, answered or not yet. */
  arrived = 0;
  /**
   * When true, each answer is its status, its headers and a first part of its body, whose rest
   * never comes: a receiver still writing its answer when the intake stops.
   */
  holdsBodyOpen = false;
  private readonly server: Server;

  private constructor() {
    this.server = createServer(
      (request, response) =>
        void this.handle(request).then((status) => (this.holdsBodyOpen ? response.writeHead(status).write('{"ok":') : response.writeHead(status).end())),
    );
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /**
   * Resolves once this process's HTTP client has the status and headers of an answer from this
   * receiver, and the client's handlers of that answer have run: its body may still be coming.
   */
  answerBegun(): Promise<void> {
    const { port } = this.server.address() as AddressInfo;
    return new Promise((resolve) => {
      const onAnswer = (message: unknown) => {
        if ((message as { request: ClientRequest }).request.socket?.remotePort !== port) return;
        unsubscribe(ANSWER_CHANNEL, onAnswer);
        // Published before the client's own response handlers run, in the same tick.
        setImmediate(resolve);
      };
      subscribe(ANSWER_CHANNEL, onAnswer);
    });
  }

  /** The requests with a verified signature, one per webhook-id (the first), in the order they came. */
  unique(): ReceivedWebhook[] {
    const seen = new Set<string>();
    return this.received.filter((webhook) => webhook.verifiedBy.length > 0 && webhook.answered < 300 && !seen.has(webhook.id) && seen.add(webhook.id));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage): Promise<number> {
    this.arrived++;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    const verifiedBy = this.secrets.filter((secret) => {
      try {
        new Webhook(secret).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    const webhook = {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      body,
      message: JSON.parse(body) as ReceivedWebhook['message'],
      verifiedBy,
      traceparent: String(request.headers.traceparent ?? ''),
    };
    const answered = await this.respond(webhook);
    this.received.push({ ...webhook, answered });
    return answered;
  }
}
