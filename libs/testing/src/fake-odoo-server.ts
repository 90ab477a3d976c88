import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * One record of a model: `id`, `write_date` and its fields. As in Odoo, `write_date` is kept to the
 * microsecond ('YYYY-MM-DD HH:MM:SS.ffffff', UTC): domains and `order` compare the whole value,
 * while `search_read` returns it cut to the second.
 */
export type OdooRecord = Record<string, unknown> & { id: number; write_date: string };

/** A chatter message as the fake stored it: a post (`message_post`) or a mail received (receiveMail). */
export interface PostedMessage {
  id: number;
  model: string;
  res_id: number;
  body: string;
  message_type: string;
  subtype_xmlid: string;
  /** The author's partner as Odoo returns a many2one: `[id, name]`. */
  author_id: [number, string];
}

type Domain = unknown[];

/**
 * A fake Odoo speaking the documented JSON-RPC external API (`POST /jsonrpc`, `common.authenticate`,
 * `object.execute_kw`) over a small in-memory database: `search_read` with domains (`&`, `|`, `!`,
 * the usual operators, `field.name` on many2one pairs), `order`, `limit`; `write`; `message_post`;
 * `search_read` on `mail.message`; `read` of the login's own `res.users` (its `partner_id`). Errors take Odoo's shape: wrong credentials make
 * `authenticate` answer `false`, an unknown model or a denied one an `AccessError`, and `outage`
 * makes it answer 503 (or never, with `hang`).
 */
export class FakeOdooServer {
  readonly db = 'hotel';
  readonly login = 'brain@hotel.example';
  readonly apiKey = 'odoo-api-key-0001';
  readonly uid = 7;
  /** The partner of the login's user (`res.users` `partner_id`): the author of its posts. */
  readonly partnerId = 31;
  readonly records = new Map<string, OdooRecord[]>();
  readonly messages: PostedMessage[] = [];
  /** Models whose calls answer an AccessError. */
  readonly denied = new Set<string>();
  /**
   * The Odoo version it plays (`common.version`'s server_version_info[0]). From 17 on, message_post
   * escapes a body given as plain text unless `body_is_html` is true, as Odoo does since it wants
   * Markup (which RPC cannot send); before 17 the body is taken as HTML and `body_is_html` is an
   * unexpected keyword argument.
   */
  majorVersion = 17;
  /**
   * The minor release of an Odoo Online (SaaS) build it plays, or null for a numbered release. Odoo
   * Online reports `saas~<major>` as server_version_info[0] (`["saas~18", 1, 0, "final", 0, ""]`,
   * server_version `saas~18.1+e`), not a number.
   */
  saasMinor: number | null = null;
  /** 'down': every request is answered 503; 'hang': never answered. */
  outage: 'down' | 'hang' | null = null;
  /** Answers every request with this status and body instead of Odoo's, as a server that is no Odoo would (a wrong ODOO_URL). */
  foreignReply: { status: number; body: string; headers?: Record<string, string> } | null = null;
  /** Answers search_read with the model's records whatever the domain, as a server that drops it would. */
  ignoresDomains = false;
  /**
   * Calls (`model.method`, or `service.method` outside execute_kw) that take this long (ms): the
   * call is made, and answered, only then, as a slow Odoo commits a post just before it answers; a
   * client that gave up meanwhile gets nothing. Infinity: never made, never answered.
   */
  readonly slowCalls = new Map<string, number>();
  /**
   * Calls (`model.method`) answered with this Odoo error instead of being made: `name` is the
   * exception, as `odoo.exceptions.MissingError`; `debug` the Python traceback Odoo sends with it.
   */
  readonly failingCalls = new Map<string, { name: string; message: string; debug?: string }>();
  /** Answers send their status and headers at once and their body only this long (ms) after, as a slow link or proxy does; null: at once. */
  bodyDelayMs: number | null = null;
  /** The calls slowCalls held, as they came in (`calls` has them once made). */
  readonly heldCalls: string[] = [];
  /** Every call, as `service.method` or `model.method`. */
  readonly calls: string[] = [];
  /** Every request that reached this server, answered as Odoo or not (foreignReply, an outage). */
  requests = 0;
  /**
   * The fields of a model, where a test declares them: a search_read naming another is refused as
   * Odoo refuses it (ValueError "Invalid field"). Undeclared models take any field.
   */
  private readonly declaredFields = new Map<string, ReadonlySet<string>>();
  /** `<model>:<id>` of the records deleted (unlink). */
  private readonly unlinked = new Set<string>();
  private readonly server: Server;
  /** The slow calls still to be made (slowCalls): dropped at close. */
  private readonly pending = new Set<NodeJS.Timeout>();
  /** The last write's time (ms): now, as Odoo stamps write_date, or a second after the last write if that is later. */
  private clock = 0;
  private writes = 0;
  /** The last id given out per model: a transaction takes its id before it commits. */
  private readonly lastIds = new Map<string, number>();

  /** `basePath`: where Odoo is served below the host (behind a proxy, `/odoo`), '' at its root. */
  private constructor(private readonly basePath: string) {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests += 1;
        if (this.outage === 'hang') return;
        if (this.foreignReply) {
          return void response
            .writeHead(this.foreignReply.status, { 'content-type': 'application/json', ...this.foreignReply.headers })
            .end(this.foreignReply.body);
        }
        if (this.outage === 'down' || request.url !== `${this.basePath}/jsonrpc`) return void response.writeHead(this.outage ? 503 : 404).end('unavailable');
        const { id, params } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          id: number;
          params: { service: string; method: string; args: unknown[] };
        };
        const call = params.method === 'execute_kw' ? `${String(params.args[3])}.${String(params.args[4])}` : `${params.service}.${params.method}`;
        const delay = this.slowCalls.get(call);
        if (delay !== undefined) this.heldCalls.push(call);
        if (delay === Infinity) return;
        if (delay !== undefined) {
          const timer = setTimeout(() => {
            this.pending.delete(timer);
            this.answer(response, id, params);
          }, delay);
          return void this.pending.add(timer);
        }
        this.answer(response, id, params);
      });
    });
  }

  /** Makes the call and answers it as Odoo does: its result, or its error, with 200. */
  private answer(response: ServerResponse, id: number, params: { service: string; method: string; args: unknown[] }): void {
    let body: object;
    try {
      body = { jsonrpc: '2.0', id, result: this.dispatch(params.service, params.method, params.args) };
    } catch (error) {
      const [name, message] = error instanceof Error ? [error.name, error.message] : ['Exception', String(error)];
      const debug = error instanceof Error && 'debug' in error ? String(error.debug) : '';
      body = { jsonrpc: '2.0', id, error: { code: 200, message: 'Odoo Server Error', data: { name, message, debug, arguments: [message] } } };
    }
    if (response.destroyed) return;
    response.writeHead(200, { 'content-type': 'application/json' });
    if (this.bodyDelayMs === null) return void response.end(JSON.stringify(body));
    response.flushHeaders();
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (!response.destroyed) response.end(JSON.stringify(body));
    }, this.bodyDelayMs);
    this.pending.add(timer);
  }

  static async start(basePath = ''): Promise<FakeOdooServer> {
    const fake = new FakeOdooServer(basePath);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.basePath}`;
  }

  /** The connector's settings that reach this Odoo: ODOO_URL, ODOO_DB, ODOO_LOGIN, ODOO_API_KEY. */
  get connection(): Record<string, string> {
    return { ODOO_URL: this.url, ODOO_DB: this.db, ODOO_LOGIN: this.login, ODOO_API_KEY: this.apiKey };
  }

  /** What the connector's OdooClient needs to reach this Odoo, calls taking at most `timeoutMs`. */
  clientConnection(timeoutMs: number): { url: string; db: string; login: string; apiKey: string; timeoutMs: number } {
    return { url: this.url, db: this.db, login: this.login, apiKey: this.apiKey, timeoutMs };
  }

  /** Declares the fields `model` has (beside `id`), as a standard Odoo's: see declaredFields. */
  declareFields(model: string, fields: readonly string[]): void {
    this.declaredFields.set(model, new Set(['id', ...fields]));
  }

  /** Creates a record as a user in Odoo would; its write_date is now, and at least a second after the last one. */
  create(model: string, fields: Record<string, unknown>): OdooRecord {
    return this.createInOneWrite(model, [fields])[0];
  }

  /** Creates records in one transaction, as an import or a multi-edit does: all with the same write_date. */
  createInOneWrite(model: string, fieldsOfEach: readonly Record<string, unknown>[]): OdooRecord[] {
    const writeDate = this.tick();
    return fieldsOfEach.map((fields) => this.insert(model, { ...fields, id: this.nextId(model), write_date: writeDate }));
  }

  /**
   * Creates a record in a transaction that commits only when `commit` is called, as Odoo's mail
   * gateway does: the record's id and write_date (the transaction's start) are taken now, so records
   * created meanwhile have later ones, and searches find it only after the commit.
   */
  createInLongTransaction(model: string, fields: Record<string, unknown>): { record: OdooRecord; commit: () => void } {
    const record = { ...fields, id: this.nextId(model), write_date: this.tick() } as OdooRecord;
    return { record, commit: () => void this.insert(model, record) };
  }

  /** Edits a record as a user in Odoo would: its fields change, and its write_date is now, at least a second after the last one. */
  update(model: string, id: number, fields: Record<string, unknown>): OdooRecord {
    const record = this.records.get(model)?.find((candidate) => candidate.id === id);
    if (!record) throw new Error(`no ${model} ${id} in the fake Odoo`);
    return Object.assign(record, fields, { write_date: this.tick() });
  }

  /** Deletes a record as a user in Odoo would (unlink): searches no longer find it, and a post or write to it is a MissingError. */
  unlink(model: string, id: number): void {
    this.unlinked.add(`${model}:${id}`);
  }

  /** A mail the gateway delivered to the record's chatter, as a guest's reply lands there: authored by their partner. */
  receiveMail(model: string, id: number, body: string, authorId: number): PostedMessage {
    const message: PostedMessage = {
      id: this.messages.length + 1,
      model,
      res_id: id,
      body,
      message_type: 'email',
      subtype_xmlid: 'mail.mt_comment',
      author_id: [authorId, 'Guest'],
    };
    this.messages.push(message);
    return message;
  }

  messagesOf(model: string, id: number): PostedMessage[] {
    return this.messages.filter((message) => message.model === model && message.res_id === id);
  }

  async close(): Promise<void> {
    for (const timer of this.pending) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextId(model: string): number {
    const id = (this.lastIds.get(model) ?? 0) + 1;
    this.lastIds.set(model, id);
    return id;
  }

  private insert(model: string, record: OdooRecord): OdooRecord {
    const table = this.records.get(model) ?? [];
    this.records.set(model, table);
    table.push(record);
    return record;
  }

  /**
   * Now, at least a second after the last write, with a part of a second as a transaction's `now()`
   * has. Odoo's clock, not a fixed one: the connector reads only what was written after it started.
   */
  private tick(): string {
    this.clock = Math.max(this.clock + 1000, Date.now());
    this.writes += 1;
    return `${new Date(this.clock).toISOString().replace('T', ' ').slice(0, 19)}.${String(123_456 + this.writes).padStart(6, '0')}`;
  }

  private dispatch(service: string, method: string, args: unknown[]): unknown {
    if (service === 'common' && method === 'version') {
      this.calls.push('common.version');
      if (this.saasMinor !== null) {
        const saas = `saas~${this.majorVersion}`;
        return { server_version: `${saas}.${this.saasMinor}+e`, server_version_info: [saas, this.saasMinor, 0, 'final', 0, ''], protocol_version: 1 };
      }
      return { server_version: `${this.majorVersion}.0`, server_version_info: [this.majorVersion, 0, 0, 'final', 0, ''], protocol_version: 1 };
    }
    if (service === 'common' && method === 'authenticate') {
      this.calls.push('common.authenticate');
      const [db, login, key] = args;
      return db === this.db && login === this.login && key === this.apiKey ? this.uid : false;
    }
    if (service !== 'object' || method !== 'execute_kw')
      throw Object.assign(new Error(`unknown ${service}.${method}`), { name: 'werkzeug.exceptions.NotFound' });
    const [db, uid, key, model, call, callArgs = [], kwargs = {}] = args as [string, number, string, string, string, unknown[], Record<string, unknown>];
    this.calls.push(`${model}.${call}`);
    if (db !== this.db || uid !== this.uid || key !== this.apiKey) throw Object.assign(new Error('Access Denied'), { name: 'odoo.exceptions.AccessDenied' });
    if (this.denied.has(model)) {
      throw Object.assign(new Error(`You are not allowed to access '${model}' records.`), { name: 'odoo.exceptions.AccessError' });
    }
    if (model === 'mail.message' && call === 'search_read') return this.search(this.messages as unknown as OdooRecord[], callArgs[0] as Domain, kwargs);
    if (model === 'res.users' && call === 'read') {
      const [ids] = callArgs as [number[]];
      return ids.filter((id) => id === this.uid).map((id) => ({ id, partner_id: [this.partnerId, 'BRAIN'] }));
    }
    const table = this.records.get(model);
    if (!table) throw Object.assign(new Error(`Object ${model} doesn't exist`), { name: 'builtins.KeyError' });
    const live = table.filter((record) => !this.unlinked.has(`${model}:${record.id}`));
    const declared = this.declaredFields.get(model);
    const unknown =
      call === 'search_read' && declared && Array.isArray(kwargs.fields) ? kwargs.fields.find((field) => !declared.has(String(field))) : undefined;
    if (unknown !== undefined) throw Object.assign(new Error(`Invalid field '${String(unknown)}' on model '${model}'`), { name: 'builtins.ValueError' });
    const failure = this.failingCalls.get(`${model}.${call}`);
    if (failure) throw Object.assign(new Error(failure.message), { name: failure.name, debug: failure.debug ?? '' });
    if (call === 'search_read') return this.search(live, callArgs[0] as Domain, kwargs);
    if (call === 'search_count') return this.search(live, callArgs[0] as Domain, {}).length;
    const [ids] = callArgs as [number[]];
    const missing = (ids ?? []).filter((id) => !live.some((record) => record.id === id));
    if ((call === 'write' || call === 'message_post') && missing.length > 0) {
      throw Object.assign(new Error(`Record does not exist or has been deleted.\n(Record: ${model}(${missing.join(', ')},), User: ${this.uid})`), {
        name: 'odoo.exceptions.MissingError',
      });
    }
    if (call === 'write') {
      const [, values] = callArgs as [number[], Record<string, unknown>];
      for (const record of table.filter((r) => ids.includes(r.id))) Object.assign(record, values, { write_date: this.tick() });
      return true;
    }
    if (call === 'message_post') {
      const [[resId]] = callArgs as [number[]];
      if (this.majorVersion < 17 && 'body_is_html' in kwargs) {
        throw Object.assign(new Error("MailThread.message_post() got an unexpected keyword argument 'body_is_html'"), { name: 'builtins.TypeError' });
      }
      const body = String(kwargs.body ?? '');
      const message: PostedMessage = {
        id: this.messages.length + 1,
        model,
        res_id: resId,
        body: this.majorVersion >= 17 && kwargs.body_is_html !== true ? escapeHtml(body) : body,
        message_type: String(kwargs.message_type ?? 'notification'),
        subtype_xmlid: String(kwargs.subtype_xmlid ?? ''),
        author_id: [this.partnerId, 'BRAIN'],
      };
      this.messages.push(message);
      return message.id;
    }
    throw Object.assign(new Error(`The method '${call}' does not exist on the model '${model}'`), { name: 'builtins.AttributeError' });
  }

  private search(table: OdooRecord[], domain: Domain, kwargs: Record<string, unknown>): Record<string, unknown>[] {
    let found = table.filter((record) => this.ignoresDomains || this.matches(record, domain ?? []));
    const order = typeof kwargs.order === 'string' ? kwargs.order : 'id';
    const keys = order.split(',').map((part) => part.trim().split(/\s+/) as [string, string?]);
    found = [...found].sort((a, b) => {
      for (const [field, direction] of keys) {
        const [x, y] = [a[field] as string | number, b[field] as string | number];
        if (x !== y) return (x < y ? -1 : 1) * (direction?.toLowerCase() === 'desc' ? -1 : 1);
      }
      return 0;
    });
    if (typeof kwargs.limit === 'number') found = found.slice(0, kwargs.limit);
    const fields = Array.isArray(kwargs.fields) ? (kwargs.fields as string[]) : undefined;
    const shown = (record: OdooRecord): Record<string, unknown> =>
      typeof record.write_date === 'string' ? { ...record, write_date: record.write_date.slice(0, 19) } : record;
    return found.map((record) => (fields ? Object.fromEntries(['id', ...fields].map((field) => [field, shown(record)[field] ?? false])) : shown(record)));
  }

  /** Odoo's prefix (Polish) notation: `&` and `|` take the next two terms, `!` one; terms side by side are and-ed. */
  private matches(record: OdooRecord, domain: Domain): boolean {
    let position = 0;
    const term = (): boolean => {
      const item = domain[position++];
      if (item === '&') return [term(), term()].every(Boolean);
      if (item === '|') return [term(), term()].some(Boolean);
      if (item === '!') return !term();
      const [path, operator, value] = item as [string, string, unknown];
      const [field, sub] = path.split('.');
      // An empty field reads as false, as Odoo returns it.
      let actual = record[field] ?? false;
      // A path through an empty many2one matches nothing, whatever the operator: Odoo searches the
      // related records (`team_id.name != 'X'` is "team_id in the teams not named X").
      if (sub && !Array.isArray(actual)) return false;
      if (sub && Array.isArray(actual)) actual = sub === 'id' ? actual[0] : actual[1];
      if (Array.isArray(actual) && !sub) actual = actual[0];
      switch (operator) {
        case '=':
          return actual === value;
        case '!=':
          return actual !== value;
        case '>':
          return (actual as string) > (value as string);
        case '>=':
          return (actual as string) >= (value as string);
        case '<':
          return (actual as string) < (value as string);
        case '<=':
          return (actual as string) <= (value as string);
        case 'in':
          return (value as unknown[]).includes(actual);
        case 'not in':
          return !(value as unknown[]).includes(actual);
        case 'ilike':
          return String(actual ?? '')
            .toLowerCase()
            .includes(String(value).toLowerCase());
        default:
          throw Object.assign(new Error(`Invalid operator ${operator}`), { name: 'ValueError' });
      }
    };
    const results: boolean[] = [];
    while (position < domain.length) results.push(term());
    return results.every(Boolean);
  }
}

/** How Odoo's markupsafe.escape turns a plain-text body into HTML text. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}
