import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carried it, with its resource's `service.name`. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** The attributes of the span's resource, `service.name` among them. */
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiverOptions {
  /** The path it takes exports at. Default `/v1/traces`. */
  path?: string;
  /** False: it reads and keeps every export but never answers, as a collector that hangs. Default true. */
  answers?: boolean;
  /** The status it answers a readable export with, as a collector that fails (500). Default 200. */
  status?: number;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

/**
 * A trace collector on loopback that speaks OTLP/HTTP (POST /v1/traces): it keeps every span of a
 * JSON body, as the OpenTelemetry SDK's `http/json` exporter sends them, and the raw bodies of
 * protobuf ones (`http/protobuf`; a test looks for the strings they hold).
 */
export class OtlpReceiver {
  constructor(private readonly options: OtlpReceiverOptions = {}) {
    this.status = options.status ?? 200;
  }

  /** The status of its next answers (OtlpReceiverOptions.status); a test may change it while it runs. */
  status: number;

  readonly spans: ReceivedSpan[] = [];
  readonly protobufBodies: Buffer[] = [];
  /** Requests it could not read, with the reason: a test expects none. */
  readonly refused: string[] = [];
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.receive(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Exports it never answered hold their connections open.
    server.closeAllConnections();
    await closed;
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const type = String(request.headers['content-type']);
    if (
      request.method !== 'POST' ||
      request.url !== (this.options.path ?? '/v1/traces') ||
      !(type.startsWith('application/json') || type.startsWith('application/x-protobuf'))
    ) {
      this.refused.push(`${request.method} ${request.url} ${type}`);
      response.writeHead(404).end();
      return;
    }
    if (type.startsWith('application/x-protobuf')) {
      this.protobufBodies.push(Buffer.concat(chunks));
      if (this.options.answers === false) return;
      // An empty ExportTraceServiceResponse is zero bytes.
      response.writeHead(this.status, { 'content-type': 'application/x-protobuf' }).end();
      return;
    }
    try {
      this.collect(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
    } catch (error) {
      this.refused.push(`unreadable body: ${String(error)}`);
      response.writeHead(400).end();
      return;
    }
    if (this.options.answers === false) return;
    response.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
  }

  private collect(body: OtlpExport): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const resource = attributesOf(resourceSpans.resource?.attributes);
      const service = String(resource['service.name'] ?? '');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            resource,
          });
        }
      }
    }
  }
}

function attributesOf(attributes: OtlpAttribute[] = []): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    const scalar = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (scalar !== undefined) result[key] = scalar;
  }
  return result;
}
