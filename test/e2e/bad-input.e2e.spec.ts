import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { DAILY_REPORT, projectionLag } from '@app/projections';
import { waitFor } from '@app/testing';
import { WEBHOOK_OUTBOX } from '@app/webhooks';
import { FORGED_CURSORS } from '../support/forged-cursors';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';
import { stateKeys } from '../support/state-snapshot';
import { expectWrongMethod } from '../support/wrong-method';

const valid = {
  type: 'guest_support',
  title: 'Booking change for Herr Maier',
  description: 'Guest wants to move his stay by one day.',
  priority: 'normal',
  payload: { language: 'de', guest: { name: 'Herr Maier' } },
  source: { system: 'odoo', model: 'helpdesk.ticket', recordId: 501 },
};
const without = (field: string) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== field));
const deep = (levels: number): Record<string, unknown> => (levels === 0 ? { leaf: true } : { next: deep(levels - 1) });
const wide = (keys: number) => Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, i]));

/** A create whose title holds these bytes (hex) between "x" and "y". */
const notUtf8Title = (hex: string) =>
  Buffer.concat([Buffer.from('{"type":"pricing","title":"x'), Buffer.from(hex, 'hex'), Buffer.from('y","description":"","priority":"low","payload":{}}')]);

/** A serializer that has superagent send a Buffer's bytes as they are (its type says a string, but it writes either). */
const asSent = (bytes: Buffer) => bytes as unknown as string;

interface BadRequestCase {
  name: string;
  status: number;
  method?: 'get' | 'post' | 'patch' | 'delete';
  path?: string;
  /** An object is sent as JSON; a string or a Buffer is sent as the raw body. */
  body?: unknown;
  /** A list is sent as one header line per value. */
  headers?: Record<string, string | string[]>;
}

const UNKNOWN_ID = '00000000-0000-7000-8000-000000000000';

const auth = { Authorization: `Bearer ${TEST_KEYS.operator}` };
const json = { ...auth, 'Content-Type': 'application/json' };

const CORPUS: BadRequestCase[] = [
  { name: 'type is a number', status: 400, body: { ...valid, type: 3 } },
  { name: 'type is unknown', status: 400, body: { ...valid, type: 'spa' } },
  { name: 'title missing', status: 400, body: without('title') },
  { name: 'title empty', status: 400, body: { ...valid, title: '' } },
  { name: 'title 10,000 characters', status: 400, body: { ...valid, title: 'x'.repeat(10_000) } },
  { name: 'title only zero-width spaces', status: 400, body: { ...valid, title: '\u200b\u200b\u200b' } },
  // Each of these, drawn as nothing, was a 201 (without a source record, whose other body would be a 422).
  { name: 'title only a Hangul filler', status: 400, body: { ...valid, source: undefined, title: '\u3164' } },
  { name: 'title only blank Braille', status: 400, body: { ...valid, source: undefined, title: '\u2800\u2800' } },
  { name: 'title only a soft hyphen, a variation selector and a tag', status: 400, body: { ...valid, source: undefined, title: '\u00ad\ufe0f\u{e0020}' } },
  { name: 'title only a combining accent', status: 400, body: { ...valid, source: undefined, title: '\u0301' } },
  { name: 'title with a NUL character', status: 400, body: { ...valid, title: 'Room\u0000 204' } },
  {
    name: 'title with a lone surrogate',
    status: 400,
    body: `{"type":"guest_support","title":"bad \\ud800 text","description":"","priority":"low","payload":{}}`,
  },
  // Decoded with U+FFFD and stored as "x\uFFFD\uFFFDy": a 201 for text the client never sent.
  { name: 'title as bytes that are not UTF-8', status: 400, body: notUtf8Title('fffe') },
  { name: 'title with an overlong UTF-8 sequence', status: 400, body: notUtf8Title('c0af') },
  { name: 'title with a surrogate encoded as UTF-8', status: 400, body: notUtf8Title('eda080') },
  { name: 'list title filter not UTF-8', status: 400, method: 'get', path: '/api/missions?title=%FF' },
  { name: 'title with CR LF (a forged second line)', status: 400, body: { ...valid, title: 'Booking change\r\nPriority: critical' } },
  { name: 'title with a right-to-left override', status: 400, body: { ...valid, title: 'Invoice \u202Efdp.exe' } },
  { name: 'title with a terminal escape', status: 400, body: { ...valid, title: '\u001b[2J\u001b[31mRoom 204' } },
  { name: 'description with a carriage return', status: 400, body: { ...valid, description: 'line\roverwritten' } },
  { name: 'description with a bidi isolate', status: 400, body: { ...valid, description: 'a \u2066b\u2069' } },
  { name: 'description missing', status: 400, body: without('description') },
  { name: 'description 20,000 characters', status: 400, body: { ...valid, description: 'y'.repeat(20_000) } },
  { name: 'priority unknown', status: 400, body: { ...valid, priority: 'urgent' } },
  { name: 'priority null', status: 400, body: { ...valid, priority: null } },
  { name: 'requiredSkills a string', status: 400, body: { ...valid, requiredSkills: 'german' } },
  { name: 'requiredSkills holds a number', status: 400, body: { ...valid, requiredSkills: ['german', 7] } },
  { name: 'requiredSkills not snake_case', status: 400, body: { ...valid, requiredSkills: ['Bad Skill!'] } },
  { name: 'requiredSkills 21 entries', status: 400, body: { ...valid, requiredSkills: Array.from({ length: 21 }, (_, i) => `s${i}`) } },
  { name: 'payload missing', status: 400, body: without('payload') },
  { name: 'payload an array', status: 400, body: { ...valid, payload: [1, 2] } },
  { name: 'payload a string', status: 400, body: { ...valid, payload: 'hello' } },
  {
    name: 'payload with __proto__',
    status: 400,
    body: `{"type":"guest_support","title":"t","description":"","priority":"low","payload":{"__proto__":{"isAdmin":true}}}`,
  },
  { name: 'payload with constructor', status: 400, body: { ...valid, payload: { constructor: { prototype: { polluted: true } } } } },
  { name: 'payload nested 20 deep', status: 400, body: { ...valid, payload: deep(20) } },
  // It used to name no subject: the address stayed in plain in the log, and no erasure reached it.
  { name: 'payload guest id an e-mail address', status: 400, body: { ...valid, payload: { guest: { id: 'anna.schmidt@example.com', name: 'Anna' } } } },
  { name: 'payload guest id an object', status: 400, body: { ...valid, payload: { guest: { id: { email: 'a@b.c' } } } } },
  // Neither is the object PERSONAL_FIELDS reads: the name and address were kept in plain, shown to readers and never erased.
  { name: 'payload guest a string', status: 400, body: { ...valid, payload: { guest: 'Nina Koalova', message: 'm' } } },
  { name: 'payload guest a list', status: 400, body: { ...valid, type: 'pricing', payload: { guest: [{ name: 'Olga', email: 'olga@x.org' }] } } },
  // It read 98765432109876540000, as …211 does: two guests were one data subject.
  {
    name: 'payload guest id above 2^53 (not exact)',
    status: 400,
    body: `{"type":"maintenance","title":"t","description":"","priority":"low","payload":{"guest":{"id":98765432109876543210}}}`,
  },
  { name: 'payload guest id negative', status: 400, body: { ...valid, payload: { guest: { id: -4711 } } } },
  // Valid only after the "guest:" prefix, where the pattern used to be tested.
  { name: 'payload guest id "-"', status: 400, body: { ...valid, payload: { guest: { id: '-' } } } },
  { name: 'payload guest id "_x"', status: 400, body: { ...valid, payload: { guest: { id: '_x' } } } },

  // A known payload key of the wrong kind (KNOWN_PAYLOAD_KEYS): each was a 201 whose value every reader then ignored. With a key, none is recorded either.
  ...(
    [
      ['safetyIssue the string "true"', 'maintenance', { safetyIssue: 'true' }],
      ['minRate the string "200"', 'pricing', { currentRate: 120, minRate: '200' }],
      ['vip "yes"', 'guest_support', { vip: 'yes' }],
      ['guest.vip 1', 'guest_support', { guest: { name: 'Anna', vip: 1 } }],
      ['revenueAtStake "5000"', 'pricing', { revenueAtStake: '5000' }],
      ['language a list', 'guest_support', { language: ['de'] }],
    ] as const
  ).map(([what, type, payload], i) => ({
    name: `payload ${what}`,
    status: 400,
    body: { ...valid, source: undefined, type, payload },
    headers: { ...json, 'Idempotency-Key': `payload-kind-${i}` },
  })),

  { name: 'payload with 600 keys', status: 400, body: { ...valid, payload: wide(600) } },
  { name: 'payload value with a terminal escape and a carriage return', status: 400, body: { ...valid, payload: { room: '1\u001b[31mRED\rFAKE' } } },
  { name: 'payload key with a terminal escape', status: 400, body: { ...valid, payload: { 'note\u001b[1mkey': 'x' } } },
  { name: 'payload nested value with a right-to-left override', status: 400, body: { ...valid, payload: { guest: { name: 'Anna \u202eFAKE' } } } },
  { name: 'payload array item with a NUL character', status: 400, body: { ...valid, payload: { notes: ['ok', 'bad\u0000'] } } },
  { name: 'payload key with a line feed', status: 400, body: { ...valid, payload: { 'a\nb': 1 } } },
  {
    name: 'payload value with a lone surrogate',
    status: 400,
    body: `{"type":"pricing","title":"t","description":"","priority":"low","payload":{"x":"bad \\ud800"}}`,
  },
  { name: 'deadline not a date', status: 400, body: { ...valid, deadline: 'tomorrow' } },
  { name: 'deadline impossible date', status: 400, body: { ...valid, deadline: '2026-13-45T00:00:00Z' } },
  { name: 'deadline a number', status: 400, body: { ...valid, deadline: 1767225600000 } },
  { name: 'deadline without UTC offset', status: 400, body: { ...valid, deadline: '2030-01-01T18:00:00' } },
  { name: 'notBefore a bare date', status: 400, body: { ...valid, notBefore: '2030-01-01' } },
  { name: 'deadline before notBefore', status: 400, body: { ...valid, notBefore: '2030-01-02T08:00:00Z', deadline: '2030-01-01T18:00:00Z' } },

  { name: 'source without recordId', status: 400, body: { ...valid, source: { system: 'odoo', model: 'helpdesk.ticket' } } },
  { name: 'source recordId negative', status: 400, body: { ...valid, source: { ...valid.source, recordId: -1 } } },
  { name: 'source recordId "NaN"', status: 400, body: { ...valid, source: { ...valid.source, recordId: 'NaN' } } },
  { name: 'source recordId fractional', status: 400, body: { ...valid, source: { ...valid.source, recordId: 1.5 } } },
  {
    name: 'source recordId 1e400 (Infinity)',
    status: 400,
    body: `{"type":"pricing","title":"t","description":"","priority":"low","payload":{},"source":{"system":"odoo","model":"m","recordId":1e400}}`,
  },
  { name: 'source system empty', status: 400, body: { ...valid, source: { ...valid.source, system: '' } } },
  { name: 'source system with a line feed', status: 400, body: { ...valid, source: { ...valid.source, system: 'odoo\nx' } } },
  { name: 'source model with a bidi override', status: 400, body: { ...valid, source: { ...valid.source, model: 'helpdesk\u202e.ticket' } } },
  {
    name: 'source recordId above 2^53 (not exact)',
    status: 400,
    body: `{"type":"pricing","title":"t","description":"","priority":"low","payload":{},"source":{"system":"odoo","model":"m","recordId":9007199254740993}}`,
  },
  { name: 'same source record, another body', status: 422, body: { ...valid, title: 'Something else entirely' } },
  { name: 'mission text over MAX_MISSION_TEXT_BYTES', status: 422, body: { ...valid, source: undefined, payload: { blob: 'z'.repeat(40_000) } } },
  { name: 'unknown top-level field', status: 400, body: { ...valid, isAdmin: true } },
  { name: 'unknown field in source', status: 400, body: { ...valid, source: { ...valid.source, db: 'prod' } } },
  { name: 'body an array', status: 400, body: '[]' },
  { name: 'body a JSON string', status: 400, body: '"hello"' },
  { name: 'body null', status: 400, body: 'null' },
  { name: 'malformed JSON', status: 400, body: '{"type": "pricing",' },
  { name: 'trailing garbage after JSON', status: 400, body: '{"type":"pricing"} extra' },
  { name: 'body over 256 KB', status: 413, body: { ...valid, payload: { blob: 'z'.repeat(300_000) } } },
  { name: 'text/plain body', status: 415, body: JSON.stringify(valid), headers: { ...auth, 'Content-Type': 'text/plain' } },
  { name: 'form-encoded body', status: 415, body: 'type=pricing&title=x', headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' } },
  { name: 'Idempotency-Key with a space', status: 400, body: valid, headers: { ...json, 'Idempotency-Key': 'has space' } },
  { name: 'Idempotency-Key 300 characters', status: 400, body: valid, headers: { ...json, 'Idempotency-Key': 'k'.repeat(300) } },
  { name: 'Idempotency-Key on two header lines', status: 400, body: valid, headers: { ...json, 'Idempotency-Key': ['two-lines-1', 'two-lines-2'] } },
  { name: 'no API key', status: 401, body: valid, headers: { 'Content-Type': 'application/json' } },
  // Authentication comes before the body is read: none of these bodies is looked at.
  { name: 'no API key, malformed JSON', status: 401, body: '{"type": "pricing",', headers: { 'Content-Type': 'application/json' } },
  {
    name: 'no API key, body over 256 KB',
    status: 401,
    body: { ...valid, payload: { blob: 'z'.repeat(300_000) } },
    headers: { 'Content-Type': 'application/json' },
  },
  { name: 'no API key, __proto__ body', status: 401, body: '{"__proto__":{"isAdmin":true}}', headers: { 'Content-Type': 'application/json' } },
  { name: 'no API key, text/plain body', status: 401, body: 'hello', headers: { 'Content-Type': 'text/plain' } },
  { name: 'wrong API key', status: 401, body: valid, headers: { 'Content-Type': 'application/json', 'X-API-Key': 'not-a-key-at-all-xx' } },
  { name: 'valid secret without a scheme', status: 401, body: valid, headers: { 'Content-Type': 'application/json', Authorization: TEST_KEYS.operator } },
  { name: 'Basic instead of Bearer', status: 401, body: valid, headers: { 'Content-Type': 'application/json', Authorization: 'Basic dXNlcjpwYXNz' } },
  { name: 'reader key creating', status: 403, body: valid, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_KEYS.reader}` } },
  // The role is checked before the body is read: none of these bodies is looked at either.
  { name: 'reader key creating, malformed JSON', status: 403, body: '{"type": "pricing",', headers: { ...json, Authorization: `Bearer ${TEST_KEYS.reader}` } },
  {
    name: 'reader key creating, body over 256 KB',
    status: 403,
    body: { ...valid, payload: { blob: 'z'.repeat(300_000) } },
    headers: { ...json, Authorization: `Bearer ${TEST_KEYS.reader}` },
  },
  {
    name: 'reader key creating, text/plain body',
    status: 403,
    body: 'hello',
    headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${TEST_KEYS.reader}` },
  },
  {
    name: 'submitter key on the DLQ, malformed JSON',
    status: 403,
    method: 'post',
    path: '/api/dlq/requeue',
    body: '{"limit":',
    headers: { ...json, Authorization: `Bearer ${TEST_KEYS.submitter}` },
  },
  {
    name: 'submitter key on the DLQ',
    status: 403,
    method: 'post',
    path: '/api/dlq/requeue',
    body: {},
    headers: { ...json, Authorization: `Bearer ${TEST_KEYS.submitter}` },
  },
  { name: 'unknown mission id', status: 404, method: 'get', path: '/api/missions/00000000-0000-7000-8000-000000000000' },
  { name: 'events of an unknown mission', status: 404, method: 'get', path: `/api/missions/${UNKNOWN_ID}/events` },
  { name: 'cancel an unknown mission', status: 404, method: 'post', path: `/api/missions/${UNKNOWN_ID}/cancel`, body: {} },
  { name: 'requeue a mission not in the DLQ', status: 404, method: 'post', path: `/api/dlq/${UNKNOWN_ID}/requeue` },
  { name: 'mission id not a UUID', status: 400, method: 'get', path: '/api/missions/nope' },
  { name: 'mission id in upper case', status: 400, method: 'get', path: '/api/missions/01964F3A-7C2E-7B1A-9D4E-2F6A8B0C1D2E' },
  { name: 'events of a mission id not a UUID', status: 400, method: 'get', path: '/api/missions/nope/events' },
  { name: 'cancel a mission id not a UUID', status: 400, method: 'post', path: '/api/missions/nope/cancel', body: {} },
  { name: 'requeue a mission id not a UUID', status: 400, method: 'post', path: '/api/dlq/nope/requeue' },
  { name: 'agent id with a space', status: 400, method: 'get', path: '/api/agents/agent%20lena' },
  { name: 'agent id with a colon', status: 400, method: 'get', path: '/api/agents/agent-lena:log' },
  { name: 'change an agent by a bad id', status: 400, method: 'patch', path: '/api/agents/Agent!', body: { status: 'paused' } },
  { name: 'agent skills set to null', status: 400, method: 'patch', path: '/api/agents/agent-lena', body: { skills: null } },
  { name: 'agent status set to null', status: 400, method: 'patch', path: '/api/agents/agent-lena', body: { status: null } },
  { name: 'unknown agent', status: 404, method: 'get', path: '/api/agents/agent-nobody' },
  { name: 'createdFrom a week date', status: 400, method: 'get', path: '/api/missions?createdFrom=2009-W53-7' },
  { name: 'createdTo an ordinal date', status: 400, method: 'get', path: '/api/missions?createdTo=2026-100' },
  { name: 'createdFrom with a decimal comma', status: 400, method: 'get', path: '/api/missions?createdFrom=2026-05-01T10:00:00,5Z' },
  { name: 'at with a decimal comma', status: 400, method: 'get', path: `/api/missions/${UNKNOWN_ID}?at=2026-05-01T10:00:00,5Z` },
  { name: 'events from a week date', status: 400, method: 'get', path: `/api/missions/${UNKNOWN_ID}/events?from=2009-W53-7` },
  { name: 'deadline a week date', status: 400, body: { ...valid, deadline: '2009-W53-7' } },
  { name: 'requeue filter before a week date', status: 400, method: 'post', path: '/api/dlq/requeue', body: { deadLetteredBefore: '2009-W53-7' } },
  ...Object.entries(FORGED_CURSORS).map(([what, cursor]): BadRequestCase => ({
    name: `cursor with ${what}`,
    status: 400,
    method: 'get',
    path: `/api/missions?cursor=${cursor}`,
  })),
  { name: 'gzip body', status: 415, body: gzipSync(JSON.stringify(valid)), headers: { ...json, 'Content-Encoding': 'gzip' } },
  { name: 'broken gzip body', status: 415, body: 'not gzip at all', headers: { ...json, 'Content-Encoding': 'gzip' } },
  { name: 'broken deflate body', status: 415, body: 'not deflate', headers: { ...json, 'Content-Encoding': 'deflate' } },
  { name: 'unknown Content-Encoding', status: 415, body: valid, headers: { ...json, 'Content-Encoding': 'zstd-rot13' } },
  {
    name: 'cancel reason with a terminal escape',
    status: 400,
    method: 'post',
    path: `/api/missions/${UNKNOWN_ID}/cancel`,
    body: { reason: 'done\u001b]0;pwned\u0007' },
  },
  { name: 'bulk requeue reason with a line feed', status: 400, method: 'post', path: '/api/dlq/requeue', body: { reason: 'ok\nforged line' } },
  {
    name: 'agent name with a bidi override',
    status: 400,
    method: 'post',
    path: '/api/agents',
    body: { id: 'agent-x', name: 'Mila \u202e', skills: ['german'], capacity: 1, credits: 1, model: 'm', systemPrompt: 'You help.' },
  },
  // Stored and shown twice: webhook event types named twice were refused, agent skills were not.
  {
    name: 'agent registered with a skill named twice',
    status: 400,
    method: 'post',
    path: '/api/agents',
    body: { id: 'agent-x', name: 'Mila', skills: ['german', 'german'], capacity: 1, credits: 1, model: 'm', systemPrompt: 'You help.' },
  },
  { name: 'agent changed to a skill named twice', status: 400, method: 'patch', path: '/api/agents/agent-lena', body: { skills: ['german', 'german'] } },
  {
    name: 'agent model with a line feed',
    status: 400,
    method: 'post',
    path: '/api/agents',
    body: { id: 'agent-x', name: 'Mila', skills: ['german'], capacity: 1, credits: 1, model: 'gpt\nx', systemPrompt: 'You help.' },
  },
  {
    name: 'agent systemPrompt with a NUL character',
    status: 400,
    method: 'post',
    path: '/api/agents',
    body: { id: 'agent-x', name: 'Mila', skills: ['german'], capacity: 1, credits: 1, model: 'm', systemPrompt: 'You help.\u0000' },
  },
  // Deep enough to overflow class-transformer's recursion (a 500), not JSON.parse's.
  {
    name: 'agent body with arrays nested 2,000 deep',
    status: 400,
    method: 'post',
    path: '/api/agents',
    body: `{"id":"agent-x","junk":${'['.repeat(2_000)}${']'.repeat(2_000)}}`,
  },
  { name: 'bulk requeue body nested 40 deep', status: 400, method: 'post', path: '/api/dlq/requeue', body: { reason: 'ok', junk: deep(40) } },
  { name: 'dead letters limit not a number', status: 400, method: 'get', path: '/api/dlq?limit=abc' },
  { name: 'dead letters offset given twice', status: 400, method: 'get', path: '/api/dlq?offset=1&offset=2' },
  { name: 'list limit not a number', status: 400, method: 'get', path: '/api/missions?limit=abc' },
  { name: 'list limit over 200', status: 400, method: 'get', path: '/api/missions?limit=500' },
  { name: 'list limit given twice', status: 400, method: 'get', path: '/api/missions?limit=1&limit=2' },
  { name: 'list createdFrom not a date', status: 400, method: 'get', path: '/api/missions?createdFrom=yesterday' },
  { name: 'list unknown filter', status: 400, method: 'get', path: '/api/missions?owner=me' },
  // A query parameter on a route that takes none: these answered as if it were not there (every agent, every subscription).
  { name: 'agents with a status filter', status: 400, method: 'get', path: '/api/agents?status=paused' },
  { name: 'webhooks with a status filter', status: 400, method: 'get', path: '/api/webhooks?status=disabled' },
  { name: 'the caller with a parameter', status: 400, method: 'get', path: '/api/me?x=1' },
  { name: 'queue stats with a parameter', status: 400, method: 'get', path: '/api/missions/queue/stats?x=1' },
  { name: 'schedules with a parameter', status: 400, method: 'get', path: '/api/schedules?x=1' },
  { name: 'retention run with a dry-run parameter', status: 400, method: 'post', path: '/api/retention/run?dryRun=true', body: {} },
  // The agent-id rule of /api/agents/:id: these answered 200 with no missions.
  { name: 'list agentId in capitals', status: 400, method: 'get', path: '/api/missions?agentId=A' },
  { name: 'list agentId of one character', status: 400, method: 'get', path: '/api/missions?agentId=x' },
  { name: 'list agentId of 65 characters', status: 400, method: 'get', path: `/api/missions?agentId=${'a'.repeat(65)}` },
  { name: 'list agentId with a key separator', status: 400, method: 'get', path: '/api/missions?agentId=agent%3Aone' },
  { name: 'bulk requeue limit true', status: 400, method: 'post', path: '/api/dlq/requeue', body: { limit: true } },
  { name: 'bulk requeue limit a numeric string', status: 400, method: 'post', path: '/api/dlq/requeue', body: { limit: '1' } },
  // A bulk requeue says what it takes: a condition or "all": true. These requeued the oldest dead letters.
  { name: 'bulk requeue with an empty body', status: 400, method: 'post', path: '/api/dlq/requeue', body: {} },
  { name: 'bulk requeue with a limit alone', status: 400, method: 'post', path: '/api/dlq/requeue', body: { limit: 5 } },
  { name: 'retention run with a dry-run body', status: 400, method: 'post', path: '/api/retention/run', body: { dryRun: true } },
  { name: 'stream token with a body', status: 400, method: 'post', path: '/api/stream/tokens', body: { ttlSeconds: 3600 } },
  { name: 'requeue one with a body', status: 400, method: 'post', path: `/api/dlq/${UNKNOWN_ID}/requeue`, body: { reason: 'again' } },
  { name: 'requeue one with an array body', status: 400, method: 'post', path: `/api/dlq/${UNKNOWN_ID}/requeue`, body: [] },
  {
    name: 'rotate a webhook secret with a body',
    status: 400,
    method: 'post',
    path: '/api/webhooks/wh_5f0c2a9e41b7d3c86e19a0f4/rotate-secret',
    body: { secret: 'x' },
  },
  { name: 'enable a webhook with a body', status: 400, method: 'post', path: '/api/webhooks/wh_5f0c2a9e41b7d3c86e19a0f4/enable', body: { force: true } },
  {
    name: 'redeliver with a body',
    status: 400,
    method: 'post',
    path: '/api/webhooks/wh_5f0c2a9e41b7d3c86e19a0f4/deliveries/msg_3b9d0c1e7a2f48d6b5e0a9c4f1d27e83/redeliver',
    body: { now: true },
  },
  { name: 'delete a webhook with a body', status: 400, method: 'delete', path: '/api/webhooks/wh_5f0c2a9e41b7d3c86e19a0f4', body: { reason: 'gone' } },
  { name: 'delete a schedule with a body', status: 400, method: 'delete', path: `/api/schedules/${UNKNOWN_ID}`, body: { reason: 'gone' } },
  { name: 'agent reason without a status', status: 400, method: 'patch', path: '/api/agents/agent-lena', body: { reason: 'on leave' } },
  {
    name: 'stream resumed past the largest entry id',
    status: 400,
    method: 'get',
    path: '/api/stream',
    headers: { ...auth, 'Last-Event-ID': '99999999999999999999-0' },
  },
];

describe('bad input (four services, real Redis)', () => {
  let system: InProcessSystem;
  let terminalMissionId: string;

  /** Everything a bad request could have touched: the log, the queue, the read model and its index. */
  async function snapshot() {
    return {
      keys: await stateKeys(system),
      partitions: await Promise.all(
        system.keys.partitions.map(async (partition) => ({
          log: await system.redis.xlen(partition.log),
          ready: await system.redis.zrange(partition.ready, 0, -1),
          missions: await system.redis.zrange(partition.missionIndex, 0, -1),
          statuses: await system.redis.hgetall(partition.statusCounts),
        })),
      ),
    };
  }

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-bad-input');
    const created = await system.api.post('/api/missions').send(valid).expect(201);
    terminalMissionId = created.body.id;
    await system.waitForStatus(terminalMissionId, ['succeeded']);
    // The daily report and the webhook outbox (which passes over the log once a second while there is
    // no subscription) follow the log on their own; once both have caught up, only a new event would move them.
    await waitFor(
      async () =>
        (await projectionLag(system.redis, system.keys, DAILY_REPORT)).events === 0 &&
        (await projectionLag(system.redis, system.keys, WEBHOOK_OUTBOX)).events === 0,
      { timeoutMs: 10_000, what: 'the daily report and the webhook outbox to catch up with the log' },
    );
  });
  afterAll(async () => system.close());

  it(`holds at least 40 cases (${CORPUS.length})`, () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
  });

  it('given every bad request, then each gets its 4xx in the error shape and nothing changes', async () => {
    const before = await snapshot();
    const outcomes: string[] = [];
    const dynamic: BadRequestCase[] = [
      { name: 'cancel a finished mission', status: 409, method: 'post', path: `/api/missions/${terminalMissionId}/cancel`, body: {} },
      // `<id>:events` is the name of another key of that mission, of another type.
      { name: 'mission id with a key suffix', status: 400, method: 'get', path: `/api/missions/${terminalMissionId}:events` },
      { name: 'events of a mission id with a key suffix', status: 400, method: 'get', path: `/api/missions/${terminalMissionId}:events/events` },
      { name: 'requeue a mission id with a key suffix', status: 400, method: 'post', path: `/api/dlq/${terminalMissionId}:events/requeue` },
      {
        name: 'cancel with arrays nested 2,000 deep',
        status: 400,
        method: 'post',
        path: `/api/missions/${terminalMissionId}/cancel`,
        body: `{"reason":"x","junk":${'['.repeat(2_000)}${']'.repeat(2_000)}}`,
      },
    ];
    for (const bad of [...CORPUS, ...dynamic]) {
      const method = bad.method ?? 'post';
      let call = request(system.intake.getHttpServer())[method](bad.path ?? '/api/missions');
      call = call.set(bad.headers ?? json);
      const raw = typeof bad.body === 'string' || Buffer.isBuffer(bad.body);
      // superagent would send a Buffer under a JSON content type as the JSON of the Buffer object.
      if (Buffer.isBuffer(bad.body)) call = call.serialize(asSent);
      const response = await (bad.body === undefined ? call : call.send(raw ? (bad.body as string | Buffer) : JSON.stringify(bad.body)));
      const shapeOk =
        response.body?.statusCode === bad.status &&
        typeof response.body.error === 'string' &&
        typeof response.body.message === 'string' &&
        Array.isArray(response.body.details);
      if (response.status !== bad.status || !shapeOk) outcomes.push(`${bad.name}: got ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
    }
    expect(outcomes).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("given control characters, escapes or bidi overrides in a payload's values or keys, then a 400 names the path; tab and line feed in a value pass", async () => {
    const problemOf = async (payload: unknown) =>
      (
        await system.api
          .post('/api/missions')
          .send({ ...valid, payload })
          .expect(400)
      ).body.details;
    expect(await problemOf({ room: '1\u001b[31mRED\rFAKE' })).toEqual([
      { field: 'payload', problems: ['payload.room must not contain control characters other than tab and line feed'] },
    ]);
    expect(await problemOf({ guest: { notes: ['ok', 'x\u202e'] } })).toEqual([
      { field: 'payload', problems: ['payload.guest.notes.1 must not contain bidirectional override or isolate characters'] },
    ]);
    // The key is named with what the rule refuses escaped, never echoed raw.
    expect(await problemOf({ guest: { 'note\u001b[1mkey': 'x' } })).toEqual([
      { field: 'payload', problems: ['payload key "note\\u001b[1mkey" in payload.guest must not contain control characters or line breaks'] },
    ]);
    const fine = await system.api
      .post('/api/missions')
      .send({ ...valid, source: undefined, payload: { message: 'Guten Morgen,\n\tbis später 🙂', '': '', 'Zimmer Nr.': 204 } })
      .expect(201);
    expect(fine.body.payload).toMatchObject({ message: 'Guten Morgen,\n\tbis später 🙂' });
  });

  it('given a payload guest that is a string or a list, then the 400 says payload.guest must be an object', async () => {
    for (const guest of ['Nina Koalova', [{ name: 'Olga', email: 'olga@x.org' }]]) {
      const response = await system.api
        .post('/api/missions')
        .send({ ...valid, source: undefined, payload: { guest } })
        .expect(400);
      expect(response.body.details).toEqual([{ field: 'payload', problems: [expect.stringMatching(/^payload\.guest must be an object/)] }]);
    }
  });

  it('given a known payload key of the wrong kind, then the 400 names its path, the kind it must be and the value; the right kinds are a 201 with the scores as before', async () => {
    const problemsOf = async (type: string, payload: Record<string, unknown>) =>
      (
        await system.api
          .post('/api/missions')
          .send({ ...valid, source: undefined, type, priority: 'normal', payload })
          .expect(400)
      ).body.details;
    expect(await problemsOf('maintenance', { safetyIssue: 'true' })).toEqual([
      { field: 'payload', problems: [expect.stringMatching(/^payload\.safetyIssue must be a boolean \(true or false\), not the string "true": /)] },
    ]);
    // Every key of the wrong kind at once, so one fix is enough.
    expect(await problemsOf('pricing', { currentRate: 120, minRate: '200', revenueAtStake: '5000', vip: 'yes' })).toEqual([
      {
        field: 'payload',
        problems: [
          expect.stringMatching(
            /^payload\.vip must be a boolean \(true or false\), not the string "yes": .+; payload\.revenueAtStake must be a number, not the string "5000": .+; payload\.minRate must be a number, not the string "200": /,
          ),
        ],
      },
    ]);
    // As the new user sent them, with the kinds the readers take: 51 with the safety issue (36 without), and the floor kept.
    const safety = await system.api
      .post('/api/missions')
      .send({ ...valid, source: undefined, type: 'maintenance', priority: 'normal', payload: { safetyIssue: true } })
      .expect(201);
    expect(safety.body.priorityScore).toBe(51);
    const vip = await system.api
      .post('/api/missions')
      .send({ ...valid, source: undefined, type: 'pricing', priority: 'normal', payload: { vip: true, revenueAtStake: 5000, currentRate: 120, minRate: 200 } })
      .expect(201);
    expect(vip.body.priorityScore).toBe(43);
  });

  it('given a required field left out, then its one problem says it is required, on the create and on every other body', async () => {
    // They used to list every rule the absence broke: "reason must be a string", "reason should not be empty", …
    const create = await system.api.post('/api/missions').send(without('title')).expect(400);
    expect(create.body.details).toEqual([{ field: 'title', problems: ['title is required'] }]);
    const nested = await system.api
      .post('/api/missions')
      .send({ ...valid, source: { system: 'odoo', recordId: 7 } })
      .expect(400);
    expect(nested.body.details).toEqual([{ field: 'source.model', problems: ['source.model is required'] }]);
    // The create reads null as left out: a required field sent as null is missing, not a bad value ("priority must be one of …").
    const nulls = await system.api
      .post('/api/missions')
      .send({ ...valid, priority: null, source: { system: 'odoo', model: null, recordId: 7 } })
      .expect(400);
    expect(nulls.body.details).toEqual([
      { field: 'priority', problems: ['priority is required'] },
      { field: 'source.model', problems: ['source.model is required'] },
    ]);
    const erase = await system.api.delete('/api/subjects/guest:4711').send({}).expect(400);
    expect(erase.body.details).toEqual([{ field: 'reason', problems: ['reason is required'] }]);
    const reject = await system.api.post(`/api/missions/${terminalMissionId}/reject`).send({}).expect(400);
    expect(reject.body.details).toEqual([{ field: 'feedback', problems: ['feedback is required'] }]);
    // A field that is there keeps the rules it breaks.
    const wrong = await system.api
      .post('/api/missions')
      .send({ ...valid, title: 7 })
      .expect(400);
    expect(wrong.body.details[0].problems).not.toContain('title is required');
    // An unknown key with a dot in it is no path: it used to read as a required field "a.b".
    const dotted = await system.api
      .post('/api/missions')
      .send({ ...valid, 'a.b': 1 })
      .expect(400);
    expect(dotted.body.details).toEqual([{ field: 'a.b', problems: ['property a.b should not exist'] }]);
    // An unknown key sent as null is still one the body may not have: it read "extra is required".
    const unknownNull = await system.api
      .post('/api/missions')
      .send({ ...valid, extra: null })
      .expect(400);
    expect(unknownNull.body.details).toEqual([{ field: 'extra', problems: ['property extra should not exist'] }]);
  });

  it('given a body nested deeper than 32 levels, at any depth, then the 400 says so, on the create and on every other body', async () => {
    // Past ~2,000 levels, parsing with the reviver overflowed the stack: "the body must be a JSON object".
    const arrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const bodies: [string, string][] = [];
    for (const levels of [33, 1_000, 3_000, 100_000]) {
      bodies.push(['/api/missions', `{"type":"pricing","title":"t","description":"d","priority":"low","payload":{"a":${arrays(levels)}}}`]);
      bodies.push(['/api/agents', `{"id":"agent-x","junk":${arrays(levels)}}`]);
      bodies.push(['/api/dlq/requeue', arrays(levels)]);
    }
    const answers = [];
    for (const [path, body] of bodies) {
      const response = await system.api.post(path).set('Content-Type', 'application/json').send(body);
      answers.push({ path, length: body.length, status: response.status, message: response.body.message, details: response.body.details });
    }
    // Its details were empty, where a body that is no object names `body` there: a client reads every body refusal from details alike.
    const tooDeep = 'the JSON body nests deeper than 32 levels';
    expect(answers).toEqual(
      bodies.map(([path, body]) => ({ path, length: body.length, status: 400, message: tooDeep, details: [{ field: 'body', problems: [tooDeep] }] })),
    );
  });

  it('given a body over BODY_LIMIT_BYTES or in a charset the API does not read, then the 413 names the limit and the 415 says to send UTF-8', async () => {
    // They read "request entity too large" and "unsupported charset", saying neither how much nor what instead.
    const large = await system.api
      .post('/api/missions')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...valid, payload: { blob: 'z'.repeat(300_000) } }));
    expect(large.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'the request body is over BODY_LIMIT_BYTES (262144 bytes)',
      details: [],
    });
    const latin1 = await system.api.post('/api/missions').set('Content-Type', 'application/json; charset=latin1').send(JSON.stringify(valid));
    expect(latin1.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: 'unsupported charset: send the body as UTF-8', details: [] });
  });

  it('given a body that is JSON but no object, then the 400 says it must be an object, on the create and on every other body', async () => {
    // `null` and `"hi"` were "not valid JSON"; an array to another route, "property 0 should not exist", "cron is required", …
    for (const path of ['/api/missions', '/api/schedules', '/api/dlq/requeue']) {
      for (const body of ['null', '"hi"', '42', '[]', '[{"cron":"* * * * *"}]']) {
        const response = await system.api.post(path).set('Content-Type', 'application/json').send(body).expect(400);
        // The JSON parser refuses a scalar, the validation an array: the same answer either way (a scalar's details were empty).
        const expected = { message: 'request validation failed', details: [{ field: 'body', problems: ['the body must be a JSON object'] }] };
        expect({ path, body, message: response.body.message, details: response.body.details }).toEqual({ path, body, ...expected });
      }
    }
  });

  it('given a mission list filtered by a malformed agent id, then the 400 says what an agent id is; a well-formed unknown one is an empty page', async () => {
    const refused = await system.api.get('/api/missions?agentId=A').expect(400);
    expect(refused.body.details).toEqual([{ field: 'agentId', problems: ['agentId must be an agent id: 2 to 64 lowercase letters, digits or dashes'] }]);
    expect((await system.api.get('/api/missions?agentId=agent-nobody').expect(200)).body).toEqual({ items: [] });
  });

  it('given a value of the wrong type, then its problem is the type alone, said once', async () => {
    // `null` also broke the length rule, and the string rule twice; `abc` the integer rule and both bounds.
    const note = await system.api.post(`/api/missions/${terminalMissionId}/approve`).send({ note: null }).expect(400);
    expect(note.body.details).toEqual([{ field: 'note', problems: ['note must be a string'] }]);
    const limit = await system.api.get('/api/missions?limit=abc').expect(400);
    expect(limit.body.details).toEqual([{ field: 'limit', problems: [expect.stringMatching(/^limit must be an integer number$/)] }]);
    // A value of the right type keeps every rule it breaks.
    const long = await system.api
      .post(`/api/missions/${terminalMissionId}/approve`)
      .send({ note: 'x'.repeat(501) })
      .expect(400);
    expect(long.body.details).toEqual([{ field: 'note', problems: ['note must be shorter than or equal to 500 characters'] }]);
  });

  // 400 nines were read as Infinity, no integer: "limit must be an integer number" where 20 nines named the bound.
  it('given a whole number of more digits than a double holds, then the 400 names the bound as for any number too large', async () => {
    const limit = await system.api.get(`/api/missions?limit=${'9'.repeat(400)}`).expect(400);
    expect(limit.body.details).toEqual([{ field: 'limit', problems: ['limit must not be greater than 200'] }]);
  });

  it('given a query parameter or body field named after a member of Object.prototype, then it is one that should not exist', async () => {
    const unknown = (name: string) => [{ field: name, problems: [`property ${name} should not exist`] }];
    // They were answered as if not sent (200): the query DTOs' whitelist never saw them.
    for (const path of ['/api/missions', '/api/dlq', '/api/reviews']) {
      for (const name of ['hasOwnProperty', 'toString', 'valueOf', 'constructor', '__proto__']) {
        const response = await system.api.get(`${path}?${name}=1`);
        expect({ path, name, status: response.status, details: response.body.details }).toEqual({ path, name, status: 400, details: unknown(name) });
      }
    }
    const before = (await system.api.get('/api/agents/agent-lena').expect(200)).body;
    for (const [name, value] of [
      ['toString', 'x'],
      ['valueOf', { a: 1 }],
    ] as const) {
      const response = await system.api.patch('/api/agents/agent-lena').send({ [name]: value });
      expect({ name, status: response.status, details: response.body.details }).toEqual({ name, status: 400, details: unknown(name) });
    }
    expect((await system.api.get('/api/agents/agent-lena').expect(200)).body).toEqual(before);
  });

  it('given a scalar query parameter more than once, then one detail per parameter says it may be given only once', async () => {
    // They read "type must be one of the following values: …", "limit must be an integer number", "title must be a string".
    const response = await system.api.get('/api/missions?type=pricing&type=pricing&limit=1&limit=2&title=a&title=b').expect(400);
    expect(response.body.details).toEqual(['type', 'limit', 'title'].map((name) => ({ field: name, problems: [`${name} may be given only once`] })));
    const dlq = await system.api.get('/api/dlq?offset=1&offset=2').expect(400);
    expect(dlq.body.details).toEqual([{ field: 'offset', problems: ['offset may be given only once'] }]);
  });

  it('given an Idempotency-Key on two header lines, then the 400 says it may be given only once', async () => {
    // Node joins them as "k1, k2": it read "Idempotency-Key must be 1 to 200 visible ASCII characters", which each one is.
    // That nothing is written is the corpus's to check (its cases of two keys).
    for (const keys of [
      ['twice-k1', 'twice-k2'],
      ['twice-same', 'twice-same'],
    ]) {
      const response = await system.api
        .post('/api/missions')
        .set({ 'Idempotency-Key': keys })
        .send({ ...valid, source: undefined })
        .expect(400);
      expect(response.body.message).toBe('Idempotency-Key may be given only once');
    }
  });

  it('given an X-Correlation-Id on two header lines, then it is ignored as any id that is none is, and a new one is made', async () => {
    const response = await system.api
      .post('/api/missions')
      .set({ 'X-Correlation-Id': ['twice-c1', 'twice-c2'] })
      .send({ ...valid, source: undefined, title: 'two correlation ids' })
      .expect(201);
    expect(response.body.correlationId).not.toMatch(/twice-c/);
  });

  // Kept in plain on every event and log line, beyond the guest's erasure, and shown to reader keys.
  it('given an X-Correlation-Id that holds an @ (an e-mail address), then it is ignored as any id that is none is, and a new one is made', async () => {
    const response = await system.api
      .post('/api/missions')
      .set('X-Correlation-Id', 'anna.schmidt@example.org')
      .send({ ...valid, source: undefined, title: 'correlated by e-mail' })
      .expect(201);
    expect(response.body.correlationId).toMatch(/^[\x21-\x3f\x41-\x7e]{1,200}$/);
    const events = await system.api.get(`/api/missions/${response.body.id}/events`).expect(200);
    expect(JSON.stringify(events.body)).not.toContain('anna.schmidt');
  });

  it('given a stream token twice, then it is the 400 of a query parameter given twice, with or without an API key, not a 401', async () => {
    // Passed over as no token, it read "missing API key: send Authorization: Bearer <key> or X-API-Key: <key>" (a 401).
    const token = encodeURIComponent((await system.api.post('/api/stream/tokens').expect(201)).body.token as string);
    const twice = [{ field: 'token', problems: ['token may be given only once'] }];
    for (const query of [`token=${token}&token=${token}`, `token=${token}&token=forged`]) {
      const keyless = await request(system.intake.getHttpServer()).get(`/api/stream?${query}`).expect(400);
      expect(keyless.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'request validation failed', details: twice });
      expect(keyless.headers['www-authenticate']).toBeUndefined();
      await request(system.intake.getHttpServer()).head(`/api/stream?${query}`).expect(400);
      expect((await system.api.get(`/api/stream?${query}`).expect(400)).body.details).toEqual(twice);
    }
  });

  it('given a Last-Event-ID on two header lines, then the 400 says it may be given only once', async () => {
    // Node joins them as "a, b": it read "Last-Event-ID is not a stream position", which each one may be.
    const response = await system.api
      .get('/api/stream')
      .set({ 'Last-Event-ID': ['0-0', '0-1'] })
      .expect(400);
    expect(response.body.message).toBe('Last-Event-ID may be given only once');
  });

  it('given a whole-number query parameter in another notation than digits, or empty, then it is a 400 on every route', async () => {
    // Number() took `0x2`, `0b11`, `1e1` and ` 2`; an empty limit was a page of one on /api/dlq and a 400 on /api/missions.
    const refused: string[] = [];
    for (const path of ['/api/missions', '/api/reviews', '/api/dlq']) {
      for (const value of ['0x2', '0b11', '1e1', '%202', '']) {
        const response = await system.api.get(`${path}?limit=${value}`);
        const expected = [{ field: 'limit', problems: ['limit must be an integer number'] }];
        if (response.status !== 400 || JSON.stringify(response.body.details) !== JSON.stringify(expected)) {
          refused.push(`${path}?limit=${value}: ${response.status} ${JSON.stringify(response.body.details)}`);
        }
      }
    }
    expect(refused).toEqual([]);
    await system.api.get('/api/dlq?limit=2&offset=-1').expect(200);
  });

  it("given a reviewer's output that is no finite JSON, then the problem names the output's own path", async () => {
    // It said "payload.recommendedRate is not a finite number" under the field `output`.
    const response = await system.api
      .post(`/api/missions/${terminalMissionId}/approve`)
      .set('Content-Type', 'application/json')
      .send('{"output":{"recommendedRate":1e400}}')
      .expect(400);
    expect(response.body.details).toEqual([{ field: 'output', problems: ['output.recommendedRate is not a finite number'] }]);
  });

  // The reason is kept in plain in every SubjectErased: the guest's address there outlived the erasure.
  it('given an erasure whose reason holds an e-mail address, then it is a 400 before anything is looked up', async () => {
    const named = await system.api.delete('/api/subjects/guest:4711').send({ reason: 'Art. 17 request from anna@example.com' }).expect(400);
    expect(named.body.details).toEqual([{ field: 'reason', problems: [expect.stringContaining('must not hold an e-mail address')] }]);
  });

  // Each is kept in plain in its event, as the erasure's reason is: an address there was never erased.
  // The full-width and small at signs read as `@`: an address written with them passed.
  it('given a cancel or requeue reason, a review note or feedback, or an agent status reason holding an e-mail address, with any at sign, then it is a 400 naming the field', async () => {
    for (const address of ['guest anna@example.com asked', 'guest anna\uff20example.com asked', 'guest anna\ufe6bexample.com asked']) {
      const refused = [
        ['post', `/api/missions/${terminalMissionId}/cancel`, { reason: address }, 'reason'],
        ['post', '/api/dlq/requeue', { all: true, reason: address }, 'reason'],
        ['post', `/api/missions/${terminalMissionId}/approve`, { note: address }, 'note'],
        ['post', `/api/missions/${terminalMissionId}/reject`, { feedback: address }, 'feedback'],
        ['patch', '/api/agents/agent-lena', { status: 'paused', reason: address }, 'reason'],
        ['delete', '/api/subjects/guest:4711', { reason: address }, 'reason'],
      ] as const;
      for (const [method, path, body, field] of refused) {
        const response = await system.api[method](path).send(body);
        expect({ address, path, status: response.status, details: response.body.details }).toEqual({
          address,
          path,
          status: 400,
          details: [
            {
              field,
              problems: [
                `${field} must not hold an e-mail address, or an at sign in any form (@, \uff20, \ufe6b): it is kept in plain, also after an erasure; say why, not who the guest is`,
              ],
            },
          ],
        });
      }
    }
  });

  it('given a body or a query parameter whose bytes are not UTF-8, then the 400 says which', async () => {
    const body = await system.api.post('/api/missions').set('Content-Type', 'application/json').serialize(asSent).send(notUtf8Title('fffe')).expect(400);
    expect(body.body).toMatchObject({
      message: 'the request body is not valid UTF-8',
      details: [{ field: 'body', problems: ['the request body is not valid UTF-8'] }],
    });
    const query = await system.api.get('/api/missions?title=%FF&type=pricing').expect(400);
    expect(query.body.details).toEqual([{ field: 'title', problems: ['title is not valid UTF-8 (once its percent-escapes are decoded)'] }]);
    // U+FFFD sent as UTF-8 is a character like any other.
    await system.api.get('/api/missions?title=%EF%BF%BD').expect(200);
  });

  it('given a path parameter that is not valid percent-encoding, then the 400 quotes nothing of it', async () => {
    const response = await system.api.delete('/api/subjects/anna.schmidt%40example.com%').send({ reason: 'Art. 17 request' }).expect(400);
    // It used to say "Failed to decode param 'anna.schmidt%40example.com%'": a guest's address in an error body.
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'a path parameter is not valid percent-encoding', details: [] });
  });

  it('given a JSON body with a prototype-reaching key, then the 400 names the key, on the create and on every other body', async () => {
    // It said "the request body is not valid JSON", which it is.
    for (const [path, key, body] of [
      ['/api/missions', '__proto__', '{"type":"pricing","title":"t","description":"","priority":"low","payload":{"__proto__":{"isAdmin":true}}}'],
      ['/api/dlq/requeue', 'constructor', '{"reason":"ok","constructor":{"polluted":true}}'],
      ['/api/agents', 'prototype', '{"id":"agent-x","prototype":1}'],
    ]) {
      const response = await system.api.post(path).set('Content-Type', 'application/json').send(body).expect(400);
      const problem = `key "${key}" is not allowed in JSON bodies`;
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: problem, details: [{ field: 'body', problems: [problem] }] });
    }
  });

  it('given a path no route matches, then the 404 quotes neither its path nor its query', async () => {
    const token = (await system.api.post('/api/stream/tokens').expect(201)).body.token as string;
    // It used to say "Cannot GET <path and query>": a guest's address, a stream token, in an error body.
    for (const [method, path] of [
      ['get', '/api/subjects/anna%40example.com/extra?email=anna@example.com'],
      ['get', `/api//stream?token=${token}`],
      ['delete', '/api/subject/anna.schmidt@example.com'],
    ] as const) {
      const response = await system.api[method](path).expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        // It read "no such route: GET", as if GET were the route.
        message: `no route takes ${method.toUpperCase()} at this path; the routes are listed at /docs`,
        details: [],
      });
    }
    // A route that is there keeps its own 404.
    const unknown = await system.api.get('/api/subjects/guest:nobody').expect(404);
    expect(unknown.body.message).not.toMatch(/^no route takes/);
  });

  it('given a route asked for under a method it does not take, then 405 names the methods it takes, quoting no path', async () => {
    // It used to be the 404 "no such route", as if the route were not there.
    for (const [method, path, allow] of [
      ['put', '/api/missions', 'GET, HEAD, POST'],
      ['delete', '/api/missions/', 'GET, HEAD, POST'],
      ['patch', '/API/Missions/anna.schmidt@example.com', 'GET, HEAD'],
      ['put', '/api/webhooks/wh-1', 'GET, HEAD, DELETE'],
      ['get', '/api/missions/m-1/cancel', 'POST'],
      ['post', '/health', 'GET, HEAD'],
    ] as const) {
      expectWrongMethod(await system.api[method](path), method, allow);
    }
  });

  it('given the metrics, the API docs and the console asked for under a method they do not take, then 405 with Allow, timed as unmatched', async () => {
    // They were the 404 "no route takes <method> at this path", as if they were not there (POST /docs/ a 301 to /docs).
    for (const [method, path] of [
      ['post', '/metrics'],
      ['delete', '/Metrics/'],
      ['put', '/docs'],
      ['post', '/docs/'],
      ['delete', '/docs/swagger-ui.css'],
      ['post', '/docs/swagger-ui-init.js'],
      ['patch', '/docs-json'],
      ['post', '/console'],
      ['put', '/console/'],
      ['delete', '/console/index.html'],
    ] as const) {
      expectWrongMethod(await system.api[method](path), method, 'GET, HEAD');
    }
    // Under their own methods they are served as before, and a file the console lacks is still no route's.
    await system.api.head('/metrics').expect(200);
    await system.api.get('/docs/swagger-ui.css').expect(200);
    expect((await system.api.get('/console/no-such-file.js').expect(404)).headers.allow).toBeUndefined();
    // Not served, so timed with the paths and methods no route takes, not under the mount.
    const metrics = (await system.api.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^brain_http_request_duration_seconds_count\{.*method="POST",route="unmatched",status="405".*\} \d+$/m);
    expect(metrics).not.toMatch(/route="\/(console|docs)",status="405"/);
  });

  it('given a throttled key, then 429 carries Retry-After', async () => {
    const limited = await startInProcessSystem('e2e-rate', { RATE_LIMIT_PER_MINUTE: '3' });
    try {
      for (let i = 0; i < 3; i++) await limited.api.get('/api/missions/queue/stats').expect(200);
      const throttled = await limited.api.get('/api/missions/queue/stats').expect(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(throttled.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    } finally {
      await limited.close();
    }
  });
});
