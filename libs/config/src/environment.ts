import 'reflect-metadata';
import { Expose, Type } from 'class-transformer';
import { IsIn, IsInt, IsIP, IsNumber, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { IsAllowedHostList } from './allowed-hosts';
import { IsClusterNodeList } from './cluster-nodes';
import { commaList } from './comma-list';
import { httpUrlParser } from './http-url';
import { odooSinceOf } from './odoo-since';
import { IsParsedBy } from './parsed-by';
import { parsePriceTable } from './price-table';
import { IsRedisUrl } from './redis-url';
import { parseResourceAttributes } from './resource-attributes';
import { IsRetentionDays } from './retention-days';

/**
 * Where an OpenAI-compatible request names its reply's token limit: OpenAI's current field, which its
 * reasoning models require, and the older one that some compatible servers still read instead.
 */
export const MAX_TOKENS_PARAMETERS = ['max_completion_tokens', 'max_tokens'] as const;
export type MaxTokensParameter = (typeof MAX_TOKENS_PARAMETERS)[number];

/**
 * A key prefix: letters, digits and `: _ . -`, ending with `:` (see Environment.KEY_PREFIX). The
 * replay CLI's purge holds its `--prefix` to it too.
 */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]*:$/;

/** REDIS_LIVENESS_TIMEOUT_MS when unset, and for a connection made without an Environment. */
export const DEFAULT_REDIS_LIVENESS_TIMEOUT_MS = 10_000;

/**
 * Every environment variable the services read, with its default. The README's configuration
 * table mirrors this class.
 */
export class Environment {
  /** `redis://host:port`, with a database number as its path when not 0 (redisUrlDatabase); the server must have it (waitForRedis). */
  @Expose()
  @IsString()
  @IsRedisUrl()
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Seed nodes of a Redis Cluster (`host:port`, comma-separated); when set, REDIS_URL is not used. */
  @Expose()
  @IsOptional()
  @IsString()
  @IsClusterNodeList()
  REDIS_CLUSTER_NODES?: string;

  /**
   * How long a service waits at start for Redis to answer before it exits (69): long enough for a
   * Redis started beside it, short enough that a wrong address is reported, not waited on. As long
   * for a start-up read's answer should Redis go away after it did answer (readAtStart).
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  REDIS_STARTUP_TIMEOUT_MS = 30_000;

  /**
   * How long a connection waits for any byte from Redis while a command awaits its reply before it
   * takes Redis for lost and reconnects (a blocking read's connection adds its block time). A silent
   * network loss closes no socket, and TCP alone notices only after minutes to hours.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  REDIS_LIVENESS_TIMEOUT_MS = DEFAULT_REDIS_LIVENESS_TIMEOUT_MS;

  @Expose()
  @IsString()
  // The trailing `:` keeps one prefix from being the start of another (`walk` would take the keys
  // of `walk-other:`), so a SCAN or purge of a prefix reaches its own deployment's keys only.
  @Matches(KEY_PREFIX_PATTERN, { message: 'KEY_PREFIX must end with ":" and hold only letters, digits and : _ . - (e.g. "brain:")' })
  KEY_PREFIX = 'brain:';

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  /**
   * The address the HTTP server binds to; unset, every interface. `127.0.0.1` keeps what needs no
   * key (/health, /metrics, /docs) off the network, behind a proxy on the same host.
   */
  @Expose()
  @IsOptional()
  @ValidateIf((env: { LISTEN_HOST?: string }) => env.LISTEN_HOST !== 'localhost')
  @IsIP(undefined, { message: 'LISTEN_HOST must be an IPv4 or IPv6 address or "localhost" (e.g. 127.0.0.1, ::1, 0.0.0.0)' })
  LISTEN_HOST?: string;

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  MAX_ATTEMPTS = 3;

  @Expose()
  @IsIn(['mock', 'openai'])
  LLM_PROVIDER: 'mock' | 'openai' = 'mock';

  /** OpenAI-compatible server, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama). */
  @Expose()
  @IsString()
  // No user-info: fetch refuses a URL with credentials and names it whole in its error, which would
  // land in every failed attempt's error in the log. The key goes in LLM_API_KEY. No query (Azure's
  // `?api-version=`): the SDK appends /chat/completions after it, and every call went to the wrong path.
  @IsParsedBy(
    'isHttpUrl',
    'LLM_BASE_URL',
    httpUrlParser('LLM_BASE_URL', { emptyAllowed: true, credentialsGoIn: 'LLM_API_KEY', pathAppended: '/chat/completions' }),
  )
  LLM_BASE_URL = '';

  @Expose()
  @IsString()
  // It goes into the Authorization header, which cannot carry a line break, another control character
  // or one beyond Latin-1: every call failed as "cannot reach … the response could not be read (TypeError)".
  @Matches(/^[\x20-\x7e\xa0-\xff]*$/, {
    message: 'LLM_API_KEY must not hold a line break, another control character or one beyond Latin-1 (it is sent in an HTTP header, which cannot carry them)',
  })
  LLM_API_KEY = '';

  @Expose()
  @IsString()
  LLM_MODEL = '';

  /** JSON price table, USD per million tokens: {"model":{"inputPerMillion":0.15,"outputPerMillion":0.6}}. */
  @Expose()
  @IsString()
  @IsParsedBy('isPriceTable', 'LLM_PRICES', (text) => (text === '' ? {} : parsePriceTable(text)))
  LLM_PRICES = '';

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10)
  LLM_MAX_RETRIES = 3;

  /** The most tokens one LLM reply may have, sent with each request (openai provider); 0 sends no limit. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  LLM_MAX_OUTPUT_TOKENS = 0;

  /** The request field LLM_MAX_OUTPUT_TOKENS goes in: OpenAI's current one, or the older one some compatible servers read. */
  @Expose()
  @IsIn(MAX_TOKENS_PARAMETERS)
  LLM_MAX_TOKENS_PARAMETER: MaxTokensParameter = 'max_completion_tokens';

  /** Who judges results: the rubric's rules, or an LLM (through LLM_PROVIDER) scoring the same rubric. */
  @Expose()
  @IsIn(['rules', 'llm'])
  JUDGE: 'rules' | 'llm' = 'rules';

  /**
   * JUDGE=llm with the mock provider would pass every result the mock is told to pass, which is no
   * judgement at all; it is refused unless this is 'true' (tests and demos of the judge's wiring).
   */
  @Expose()
  @IsIn(['true', 'false'])
  JUDGE_ALLOW_MOCK: 'true' | 'false' = 'false';

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  MOCK_LLM_LATENCY_MS = 0;

  @Expose()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  MOCK_LLM_FAILURE_RATE = 0;

  @Expose()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  MOCK_LLM_MALFORMED_RATE = 0;

  /** Share of first drafts that miss a rubric point, to exercise evaluate → retry → feedback. */
  @Expose()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  MOCK_LLM_FLAW_RATE = 0;

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXECUTION_TIMEOUT_MS = 120_000;

  /** Per mission type; unset → EXECUTION_TIMEOUT_MS. */
  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXECUTION_TIMEOUT_MS_GUEST_SUPPORT?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXECUTION_TIMEOUT_MS_PRICING?: number;

  @Expose()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXECUTION_TIMEOUT_MS_MAINTENANCE?: number;

  /** name:secret:role entries, comma-separated; empty → a local operator key kept in .data/api-key. */
  @Expose()
  @IsString()
  API_KEYS = '';

  /**
   * The master key (32+ characters) that wraps the guests' data keys. Set it or DATA_KEY_FILE; with
   * neither, a local run generates one into .data/data-key (for a key prefix without data keys:
   * checkLocalMasterKey), and NODE_ENV=production refuses to start.
   */
  @Expose()
  @IsString()
  // Used as written (loadMasterKeys trims nothing), so 32 blanks would be a key: refused.
  @Matches(/^$|^(?=.*\S).{32,}$/, { message: 'DATA_KEY_SECRET needs at least 32 characters, not only blanks' })
  DATA_KEY_SECRET = '';

  /** A file holding the master key (its trimmed text, 32+ characters), instead of DATA_KEY_SECRET. */
  @Expose()
  @IsString()
  // Blanks around the path were passed over by the check and kept by the read at start: a stack trace, not exit 78.
  @Matches(/^(?:\S(?:.*\S)?)?$/, { message: 'DATA_KEY_FILE must be a file path without blanks before or after it, or empty' })
  DATA_KEY_FILE = '';

  /**
   * Former master keys (comma-separated, each 32+ characters), accepted only to unwrap data keys
   * (and open webhook signing secrets) during a rotation, until `npm run replay -- rewrap-keys` has
   * moved every key and secret to the current one.
   */
  @Expose()
  @IsString()
  // Checked on the entries loadMasterKeys uses (trimmed, empty ones dropped): padding let a short one pass.
  @IsParsedBy('isSecretList', 'DATA_KEY_PREVIOUS_SECRETS', (text) => {
    if (commaList(text).some((secret) => secret.length < 32))
      throw new Error('DATA_KEY_PREVIOUS_SECRETS must be comma-separated secrets of 32+ characters each');
  })
  DATA_KEY_PREVIOUS_SECRETS = '';

  /** Files holding former master keys (comma-separated paths), like DATA_KEY_PREVIOUS_SECRETS. */
  @Expose()
  @IsString()
  DATA_KEY_PREVIOUS_FILES = '';

  /**
   * How long a process keeps an unwrapped data key in memory. The process that erases a subject
   * drops its key at once; other processes may still decrypt that subject's fields for up to this
   * long. 0: no cache (one Redis read per mission that is encrypted or decrypted).
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  DATA_KEY_CACHE_TTL_MS = 30_000;

  /** Unwrapped data keys a process keeps at most (the least recently stored go first). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  DATA_KEY_CACHE_SIZE = 10_000;

  /** Requests per minute per API key over all of /api, shared by every intake instance. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  RATE_LIMIT_PER_MINUTE = 6_000;

  /**
   * Requests of one API key to the list routes that walk the log partitions (GET /api/missions,
   * GET /api/reviews) in flight at once on one intake instance; past it a 429 with Retry-After: 1.
   * A page with a rare filter reads up to 5,000 records, which the request rate limit does not see.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000)
  LIST_SCANS_PER_KEY = 2;

  /**
   * Failed or absent authentications per client address per minute on /api; beyond it that
   * address gets 429 on /api without a valid key until the minute is over. Shared by every intake.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  AUTH_FAILURES_PER_MINUTE = 30;

  /** Time a client has to send a request's headers (slowloris). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Time a client has to send a whole request, headers and body. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** How long an idle keep-alive connection stays open. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000;

  /** Open connections per process; more are closed at once. Keep it below the open-file limit. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  HTTP_MAX_CONNECTIONS = 900;

  /** Largest accepted JSON body. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  @Max(10_485_760)
  BODY_LIMIT_BYTES = 262_144;

  /**
   * How long an idempotency record (Idempotency-Key, or the ERP source record) lives, in seconds.
   * Within it a repeated create answers the first mission (or 422 for another body); after it the
   * key is spent: a create with it is a 422, as its mission id is taken.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  IDEMPOTENCY_TTL_SECONDS = 604_800;

  /**
   * Largest mission text in bytes (UTF-8) that goes into a prompt: title + description + the
   * payload as JSON. A bigger create is a 422 (REST) or a rejected submission (stream), since
   * the executor and the judge would send all of it with every attempt.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1_024)
  @Max(10_485_760)
  MAX_MISSION_TEXT_BYTES = 32_768;

  /** How often the live event stream (`GET /api/stream`) sends a `ping` event, so proxies and clients see it alive (STREAM_HEARTBEAT_MS is this default). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300_000)
  SSE_HEARTBEAT_MS = 15_000;

  /**
   * How long a live-stream client may leave written data unread before it is dropped: its events
   * are never buffered beyond one batch, so a client that stops reading costs no memory, only this wait.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  SSE_SLOW_CLIENT_MS = 10_000;

  /** Live-stream clients per intake process; one more gets a 429. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  SSE_MAX_CLIENTS = 100;

  /**
   * Live-stream clients of one API key per intake process; one more of that key gets a 429, so one
   * client cannot take every slot of SSE_MAX_CLIENTS from the others.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  SSE_MAX_CLIENTS_PER_KEY = 10;

  /**
   * Webhook targets that may be private or loopback addresses (comma-separated host names as in the
   * URL, IP addresses or CIDR ranges); any other target must resolve to public addresses only. An
   * entry that is none of these is refused at start (parseAllowedHosts).
   */
  @Expose()
  @IsString()
  @IsAllowedHostList()
  WEBHOOK_ALLOWED_HOSTS = '';

  /**
   * 'true': webhook targets must be listed in WEBHOOK_ALLOWED_HOSTS, public ones too (a closed
   * deployment, or tests, which must call nothing but loopback).
   */
  @Expose()
  @IsIn(['true', 'false'])
  WEBHOOK_ONLY_ALLOWED_HOSTS: 'true' | 'false' = 'false';

  /** How long one webhook attempt may take before it counts as a timeout (and is retried). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /** Delay before the first retry of a failed webhook delivery; it doubles per attempt (with jitter). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  WEBHOOK_BACKOFF_MS = 5_000;

  /** The longest delay between two attempts of a webhook delivery. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  WEBHOOK_BACKOFF_MAX_MS = 3_600_000;

  /** A webhook delivery is retried for this long after its first attempt (request), then it is dead (listed, redeliverable). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  WEBHOOK_RETRY_PERIOD_SECONDS = 86_400;

  /** A webhook endpoint whose every attempt has failed for this long is disabled, at its next failed request. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(31_536_000)
  WEBHOOK_DISABLE_AFTER_SECONDS = 432_000;

  /** After a secret rotation, how long the previous secret keeps signing beside the new one. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2_592_000)
  WEBHOOK_SECRET_OVERLAP_SECONDS = 86_400;

  /** How long a delivered webhook delivery stays listed. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  WEBHOOK_DELIVERY_RETENTION_SECONDS = 604_800;

  /** How long a dead webhook delivery stays listed and redeliverable. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  WEBHOOK_DEAD_RETENTION_SECONDS = 2_592_000;

  /** Odoo's base URL for the connector (apps/connector-odoo); empty: no connector runs. */
  @Expose()
  @IsString()
  // No user-info, as LLM_BASE_URL: fetch would name the URL whole, password and all, in every poll's error.
  // No query either: the client resolves `jsonrpc` against the URL, which drops it without a word.
  @IsParsedBy('isHttpUrl', 'ODOO_URL', httpUrlParser('ODOO_URL', { emptyAllowed: true, credentialsGoIn: 'ODOO_API_KEY', pathAppended: '/jsonrpc' }))
  ODOO_URL = '';

  /** The Odoo database the connector logs in to. */
  @Expose()
  @IsString()
  ODOO_DB = '';

  /** The Odoo user the connector logs in as (its login, usually an e-mail address). */
  @Expose()
  @IsString()
  ODOO_LOGIN = '';

  /** An API key of that user, sent as the password of Odoo's external API. */
  @Expose()
  @IsString()
  ODOO_API_KEY = '';

  /** How often the connector looks for new or changed Odoo records. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  ODOO_POLL_MS = 30_000;

  /**
   * How far before its cursor each poll reads a rule's records again: Odoo stamps write_date when a
   * transaction begins, so a record made in a long one commits after records written later.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  ODOO_LOOKBACK_MS = 300_000;

  /** How long one call to Odoo may take. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300_000)
  ODOO_TIMEOUT_MS = 15_000;

  /** Delay before a failed write-back is tried again; it doubles per attempt up to 5 minutes. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(300_000)
  ODOO_BACKOFF_MS = 5_000;

  /** How a result is posted to the record's chatter: an internal note (staff only) or a message to followers. */
  @Expose()
  @IsIn(['note', 'comment'])
  ODOO_POST_AS: 'note' | 'comment' = 'note';

  /**
   * Where a rule with no cursor yet (the first start, a rule added since) begins reading: records
   * written from this instant on. Empty: from the start of the connector that first polls the rule; every record
   * older than that is history, not a mission.
   */
  @Expose()
  @IsString()
  @IsParsedBy('isIsoInstant', 'ODOO_SINCE', odooSinceOf)
  ODOO_SINCE = '';

  /** The connector's mapping rules (JSON); empty: the shipped apps/connector-odoo/src/odoo-mapping.json. */
  @Expose()
  @IsString()
  ODOO_MAPPING_FILE = '';

  /**
   * Missions are spread over this many log partitions (each with its own log stream, ready queue
   * and service streams, under its own hash tag), so a Redis Cluster can spread them over its
   * nodes. Every process of a deployment must use the same value.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  LOG_PARTITIONS = 1;

  /**
   * On SIGTERM, how long the executor lets its LLM calls in progress finish before it aborts them
   * (as failed attempts), and how long any service's HTTP responses in progress may take before
   * their connections are cut (HttpDrain). Kept below 9 s, so that a service always exits within 10 s.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(8_000)
  SHUTDOWN_GRACE_MS = 5_000;

  /**
   * The review policy (YAML or JSON): which passing results a reviewer approves before they count.
   * Empty: none; fixtures/review-policy.yaml is a policy for a hotel. Checked at start.
   */
  @Expose()
  @IsString()
  REVIEW_POLICY_FILE = '';

  /** A review waiting this long is overdue: one MissionReviewOverdue event, and counted in /metrics. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(2_592_000_000)
  REVIEW_TIMEOUT_MS = 14_400_000;

  /** Rejections by reviewers after which the mission is dead-lettered (the last one dead-letters it). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  MAX_REVIEW_ROUNDS = 3;

  /** How long the orchestrator may hold a leased mission before it goes back to ready. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  LEASE_MS = 15_000;

  /** Aging: each priority point is this many ms of head start in the ready queue. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  PRIORITY_HEADSTART_MS_PER_POINT = 3_000;

  /** A mission with a deadline counts as queued this long before it, when that is earlier than it was queued. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3_600_000)
  DEADLINE_LEAD_MS = 3_600_000;

  /** How often the intake looks for unfinished missions past their deadline (MissionOverdue). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DEADLINE_CHECK_MS = 5_000;

  /** How often the intake queues scheduled missions whose time came (a later start, a retry's backoff). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  SCHEDULE_CHECK_MS = 500;

  /**
   * A recurring schedule's firings missed (the intake was down) by no more than this are still
   * created, one mission each; older ones are skipped and counted (ScheduleSkipped). A schedule
   * may set its own catchUpMs.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3_600_000)
  SCHEDULE_CATCH_UP_MS = 3_600_000;

  /**
   * Days the personal data of a finished mission is kept, per type (`type:days`, comma-separated;
   * a type not named keeps DEFAULT_RETENTION_DAYS). A data subject is erased once every one of
   * its missions has finished and is past its own type's days.
   */
  @Expose()
  @IsString()
  @IsRetentionDays()
  RETENTION_DAYS = '';

  /** How often the intake looks for data subjects past their retention (one intake per period does the round). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(86_400_000)
  RETENTION_CHECK_MS = 3_600_000;

  /**
   * How often each intake finishes the erasures a crash left pending (the subject's key destroyed,
   * SubjectErased not yet on every mission); their missions run without data until then.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  ERASURE_SWEEP_MS = 30_000;

  /** A failed attempt's next one waits RETRY_BASE_MS × 2^(failures − 1), at most RETRY_MAX_MS, half of it jitter; 0 retries at once. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  RETRY_BASE_MS = 1_000;

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  RETRY_MAX_MS = 60_000;

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  STREAM_BATCH_SIZE = 200;

  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  STREAM_BLOCK_MS = 1_000;

  /** A message unacked for this long is taken over by another consumer and retried. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  STREAM_CLAIM_IDLE_MS = 30_000;

  /**
   * Keep messages on the service streams after they are acked ('true'), e.g. to inspect the
   * traffic; by default they are deleted with the ack, so the streams hold only unfinished work.
   */
  @Expose()
  @IsIn(['true', 'false'])
  STREAM_KEEP_ACKED: 'true' | 'false' = 'false';

  /** After this many deliveries a failing message moves to the poison stream. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  STREAM_MAX_DELIVERIES = 5;

  /**
   * Entries each poison stream and each rejected-submission stream keeps, the newest: nothing
   * consumes them, so a sender that keeps failing would otherwise fill Redis. 0 keeps every entry.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  FAILED_STREAM_MAX_LEN = 100_000;

  /**
   * V8's heap growing factor, fixed at 1 + n/100: a full collection comes once the heap has grown
   * by n % over what the last one kept (at least 8 MB). 0 leaves the factor to V8, which moves it
   * between 1.1 and 4 and let a busy service's heap grow to several times its live objects
   * (docs/performance.md § 3.7). At most 300, V8's own largest factor.
   */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(300)
  HEAP_GROWING_PERCENT = 100;

  @Expose()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Expose()
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  /**
   * OTLP/HTTP collector (base URL; traces go to `<url>/v1/traces`). Unset: no tracing at all, and
   * nothing on the message path pays for it.
   */
  @Expose()
  @IsOptional()
  @IsString()
  @IsParsedBy('isHttpUrl', 'OTEL_EXPORTER_OTLP_ENDPOINT', httpUrlParser('OTEL_EXPORTER_OTLP_ENDPOINT', { emptyAllowed: false, pathAppended: '/v1/traces' }))
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** OTLP/HTTP traces URL, used as it is (nothing appended); set, it wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  @Expose()
  @IsOptional()
  @IsString()
  @IsParsedBy('isHttpUrl', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', httpUrlParser('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { emptyAllowed: false }))
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  @Expose()
  @IsIn(['http/protobuf', 'http/json'])
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' | 'http/json' = 'http/protobuf';

  /** The spans' `service.name`; unset, each service names itself (intake, orchestrator, …). */
  @Expose()
  @IsOptional()
  @IsString()
  @Matches(/^\S+$/, { message: 'OTEL_SERVICE_NAME must be one word' })
  OTEL_SERVICE_NAME?: string;

  @Expose()
  @IsIn(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
  OTEL_TRACES_SAMPLER: 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio' =
    'parentbased_always_on';

  /** The ratio of the `*traceidratio` samplers. */
  @Expose()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  OTEL_TRACES_SAMPLER_ARG = 1;

  /** More attributes of every span's resource (`key=value,…`, values percent-encoded). */
  @Expose()
  @IsOptional()
  @IsString()
  @IsParsedBy('isResourceAttributes', 'OTEL_RESOURCE_ATTRIBUTES', parseResourceAttributes)
  OTEL_RESOURCE_ATTRIBUTES?: string;

  /** How long ended spans wait before they are exported in a batch (ms). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  OTEL_BSP_SCHEDULE_DELAY = 5_000;

  /** How long one batch's export may take before it is given up (ms). */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  OTEL_BSP_EXPORT_TIMEOUT = 30_000;

  /** Ended spans kept while waiting for export; beyond it new spans are dropped. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  OTEL_BSP_MAX_QUEUE_SIZE = 2_048;

  /** Spans per export at most; not more than OTEL_BSP_MAX_QUEUE_SIZE. */
  @Expose()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE = 512;
}
