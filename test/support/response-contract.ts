import { IncomingMessage, Server, ServerResponse } from 'node:http';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type JsonObject = { [key: string]: unknown };

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const ERROR_BODY = '#/components/schemas/ErrorBodyView';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A copy of an OpenAPI schema for Ajv: `$ref`s point into the document registered as "openapi",
 * and objects that list their properties are closed (additionalProperties: false, unless they say
 * otherwise), so a field the document does not name is drift too.
 */
function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (!isObject(schema)) return schema;
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) copy[key] = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, forAjv(property)]));
    else if (key === '$ref' && typeof value === 'string') copy[key] = `openapi${value}`;
    // Examples, defaults and enums are data, not schemas.
    else copy[key] = key === 'example' || key === 'default' || key === 'enum' ? value : forAjv(value);
  }
  if (isObject(copy.properties) && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

/**
 * Checks every response of the intake's API against its OpenAPI document (`/docs-json`): the
 * status must be one the operation documents, and a JSON body must match that status' schema.
 * A request to an /api path the document does not know must get an ErrorBodyView.
 */
export class ResponseContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  readonly violations: string[] = [];

  constructor(document: JsonObject) {
    addFormats(this.ajv);
    this.ajv.addSchema(forAjv({ components: document.components }) as JsonObject, 'openapi');
    const paths = isObject(document.paths) ? document.paths : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      for (const method of METHODS) {
        const operation = item[method];
        if (!isObject(operation) || !isObject(operation.responses)) continue;
        const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`, 'i');
        this.operations.push({ method, template, pattern, responses: operation.responses as Operation['responses'] });
      }
    }
    // A literal segment wins over a parameter (`queue/stats` is not an `{id}`).
    this.operations.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  }

  /** The violation in one response, if any. */
  check(method: string, url: string, status: number, contentType: string | undefined, body: string): string | undefined {
    const path = url.split('?')[0];
    if (!/^\/api(\/|$)/i.test(path.replace(/\/{2,}/g, '/')) || method === 'HEAD' || method === 'OPTIONS') return undefined;
    const where = `${method} ${url} → ${status}`;
    // Matched on the path as sent: Express 5 matches no route across `//` (`/api//stream` is the route-not-found 404).
    const operation = this.operations.find((candidate) => candidate.method === method.toLowerCase() && candidate.pattern.test(path));
    const schema = operation ? operation.responses[String(status)]?.content?.['application/json']?.schema : status >= 400 ? { $ref: ERROR_BODY } : undefined;
    if (operation && !(String(status) in operation.responses)) return `${where}: status not documented for ${method} ${operation.template}`;
    if (!schema) return operation ? undefined : `${where}: no operation documents this path`;
    if (!/^application\/json\b/.test(contentType ?? '')) return `${where}: content-type ${contentType ?? 'none'}, documented JSON`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return `${where}: body is not JSON`;
    }
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(forAjv(schema) as JsonObject);
      this.validators.set(key, validate);
    }
    if (validate(parsed)) return undefined;
    const errors = (validate.errors ?? []).map(
      (error) => `${error.instancePath || '/'} ${error.message}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`,
    );
    return `${where}: ${errors.join('; ')} — body ${body.slice(0, 300)}`;
  }

  /** Records the violations of every response `server` sends from now on. */
  watch(server: Server): void {
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      const capture = (chunk: unknown, encoding?: unknown) => {
        if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
        else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      };
      const write = response.write.bind(response) as (...args: unknown[]) => boolean;
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      response.write = ((...args: unknown[]) => {
        capture(args[0], args[1]);
        return write(...args);
      }) as ServerResponse['write'];
      response.end = ((...args: unknown[]) => {
        capture(args[0], args[1]);
        return end(...args);
      }) as ServerResponse['end'];
      response.on('finish', () => {
        const header = response.getHeader('content-type');
        const violation = this.check(
          request.method ?? 'GET',
          request.url ?? '/',
          response.statusCode,
          typeof header === 'string' ? header : undefined,
          Buffer.concat(chunks).toString('utf8'),
        );
        if (violation) this.violations.push(violation);
      });
    });
  }
}
