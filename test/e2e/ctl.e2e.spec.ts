import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sealPageCursor } from '@app/mission';
import { waitFor } from '@app/testing';
import { EventStreamService } from '../../apps/intake/src/stream/event-stream.service';
import { apiError, EXIT } from '../../scripts/ctl/brain-api';
import { runCtl } from '../../scripts/ctl/ctl-program';
import { FORGED_CURSORS, unreadCursor } from '../support/forged-cursors';
import { GUEST_MESSAGE, LATE_CHECK_OUT } from '../support/guest-request';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const broken = { type: 'pricing', title: 'Night rate check', description: 'Compare the night rates.', priority: 'high', payload: {} };

describe('npm run ctl (the operations CLI, against the in-process system)', () => {
  let system: InProcessSystem;
  let url: string;

  /** Runs the CLI in-process with BRAIN_URL and BRAIN_API_KEY as given; what it printed and its exit code. */
  const ctl = async (args: string[], env: Record<string, string | undefined> = {}, signal?: AbortSignal) => {
    let stdout = '';
    let stderr = '';
    const code = await runCtl(args, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: { BRAIN_URL: url, BRAIN_API_KEY: TEST_KEYS.operator, ...env },
      signal,
    });
    return { code, stdout, stderr };
  };
  const json = async <T>(args: string[]) => {
    const result = await ctl(['--json', ...args]);
    expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: EXIT.ok, stderr: '' });
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    // Every attempt fails and one is allowed: each mission ends in the dead-letter queue.
    system = await startInProcessSystem('e2e-ctl', { MOCK_LLM_FAILURE_RATE: '1', MAX_ATTEMPTS: '1' });
    await system.intake.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(system.intake.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => system.close());

  it.each([
    [[]],
    [['missions']],
    [['missions', 'list']],
    [['missions', 'show']],
    [['missions', 'watch']],
    [['missions', 'cancel']],
    [['queue', 'stats']],
    [['dlq', 'list']],
    [['dlq', 'requeue']],
    [['agents', 'list']],
    [['agents', 'pause']],
    [['agents', 'resume']],
    [['reviews', 'list']],
    [['reviews', 'approve']],
    [['reviews', 'reject']],
  ])('given %j --help, then it prints the usage and exits 0', async (command) => {
    const result = await ctl([...command, '--help']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/^Usage: brain-ctl/);
    if (command.length < 2) expect(result.stdout).toMatch(/Exit codes:\n {2}0 {2}done[^]*\n {2}6 {2}too many requests/);
  });

  it('given bad arguments, no key, a wrong key or no server, then the documented exit codes', async () => {
    expect((await ctl(['missions', 'explode'])).code).toBe(EXIT.usage);
    expect((await ctl(['missions', 'list', '--status', 'lost'])).code).toBe(EXIT.usage);
    const noKey = await ctl(['queue', 'stats'], { BRAIN_API_KEY: undefined });
    expect(noKey).toMatchObject({ code: EXIT.auth, stderr: expect.stringMatching(/BRAIN_API_KEY is not set/) });
    expect((await ctl(['queue', 'stats'], { BRAIN_API_KEY: 'not-a-key-0000000000' })).code).toBe(EXIT.auth);
    expect((await ctl(['dlq', 'list'], { BRAIN_API_KEY: TEST_KEYS.reader })).code).toBe(EXIT.auth);
    const down = await ctl(['queue', 'stats'], { BRAIN_URL: 'http://127.0.0.1:1' });
    expect(down).toMatchObject({ code: EXIT.unreachable, stderr: expect.stringMatching(/cannot reach the API/) });
    const bad = await ctl(['missions', 'show', 'not-an-id']);
    expect(bad).toMatchObject({ code: EXIT.refused, stderr: expect.stringMatching(/400/) });
  });

  it.each([
    [['reviews', 'list', '--limit', 'abc'], /--limit must be a whole number from 1 to 200, got abc/],
    [['reviews', 'list', '--limit', '201'], /--limit must be a whole number from 1 to 200/],
    [['missions', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 200/],
    [['missions', 'list', '--from', 'yesterday'], /--from must be an ISO 8601 time/],
    [['missions', 'show', '01900000-0000-7000-8000-000000000000', '--at', 'noon'], /--at must be an ISO 8601 time/],
    [['retention', '--dry-run', '--at', 'tomorrow'], /--at must be an ISO 8601 time such as 2026-05-01T00:00:00Z, got tomorrow/],
    [['dlq', 'list', '--offset', '-1'], /--offset must be a whole number of at least 0, got -1/],
    [['dlq', 'list', '--limit', '500'], /--limit must be a whole number from 1 to 200/],
    [['dlq', 'requeue', '--all', '--before', 'soon'], /--before must be an ISO 8601 time/],
    [['dlq', 'requeue', '--all', '--limit', '1001'], /--limit must be a whole number from 1 to 1000/],
    [['missions', 'list', '--cursor', 'abc'], /--cursor must be the cursor a previous page printed \(more: --cursor …\), got abc$/m],
    [['reviews', 'list', '--cursor', 'not a cursor'], /--cursor must be the cursor a previous page printed/],
    // Base64url, but not as the API writes it: a score past a safe integer, a position cut short, an older intake's counting JSON.
    [['missions', 'list', '--cursor', FORGED_CURSORS['a score past a safe integer']], /--cursor must be the cursor a previous page printed/],
    [['reviews', 'list', '--cursor', FORGED_CURSORS['a position cut short']], /--cursor must be the cursor a previous page printed/],
    [['missions', 'list', '--cursor', FORGED_CURSORS['a counting cursor of an older intake']], /--cursor must be the cursor a previous page printed/],
  ])('given %j, a value only the intake used to check, then exit 2 (bad arguments), not 1', async (args, message) => {
    // The intake's 400 made them exit 1, "the API refused it"; a negative --offset was taken for 0, a --limit over 200 for 200.
    expect(await ctl(args)).toEqual({ code: EXIT.usage, stdout: '', stderr: expect.stringMatching(message) });
  });

  it('given a bad --cursor, then it is refused before any request: exit 2 with no API to ask, where a request would be exit 4', async () => {
    const noApi = { BRAIN_URL: 'http://127.0.0.1:1' };
    expect(await ctl(['missions', 'list', '--cursor', 'abc'], noApi)).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(await ctl(['reviews', 'list', '--cursor', FORGED_CURSORS['no position']], noApi)).toMatchObject({ code: EXIT.usage, stdout: '' });
    // The cursor's partition count is the deployment's, which only the API knows: one of another deployment is its 400.
    const otherDeployment = unreadCursor(system.keys.partitions.length + 1);
    expect(await ctl(['missions', 'list', '--cursor', otherDeployment])).toMatchObject({
      code: EXIT.refused,
      stderr: expect.stringMatching(/400 cursor is not a cursor this API issued/),
    });
    // A client key's cursors are sealed: the ctl sees only their shape, and whose key sealed it only the API can tell.
    const sealed = sealPageCursor(unreadCursor(system.keys.partitions.length), randomBytes(32));
    expect(await ctl(['missions', 'list', '--cursor', sealed])).toMatchObject({
      code: EXIT.refused,
      stderr: expect.stringMatching(/400 cursor is not a cursor this API issued/),
    });
  });

  it.each([
    [['--type', 'Bogus'], /option '--type <types>' argument 'Bogus' is invalid\. unknown event type: "Bogus" \(one of MissionCreated, /],
    [['--type', 'MissionCreated,missioncreated'], /unknown event type: "missioncreated"/],
    [['--status', 'bogus,lost'], /unknown status: "bogus", "lost" \(one of created, scheduled, queued, /],
    [['--status', ''], /unknown status: ""/],
  ])('given missions watch %j, then exit 2 before it connects, as missions list --status bogus', async (args, message) => {
    // It connected and the intake's 400 made it exit 1, "the API refused it"; with no API at BRAIN_URL it was exit 4.
    const noApi = { BRAIN_URL: 'http://127.0.0.1:1' };
    expect(await ctl(['missions', 'watch', ...args], noApi)).toMatchObject({ code: EXIT.usage, stdout: '', stderr: expect.stringMatching(message) });
  });

  it('given a file for --output-file that is not JSON, then exit 2 and the reason on one line, the text it quotes escaped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ctl-output-'));
    try {
      const file = path.join(dir, 'edited.json');
      writeFileSync(file, 'not json at all\n');
      const result = await ctl(['reviews', 'approve', '01900000-0000-7000-8000-000000000000', '--output-file', file], { BRAIN_URL: 'http://127.0.0.1:1' });
      // The parser's message quoted the text with its raw line feed: the error went over two lines.
      expect(result).toEqual({
        code: EXIT.usage,
        stdout: '',
        stderr: expect.stringMatching(new RegExp(`^ctl: cannot read ${file} as JSON: .*not json at all\\\\n.*\n$`)),
      });
      expect(result.stderr.split('\n')).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given well-formed times and limits, then the commands that check them locally still run', async () => {
    expect((await ctl(['retention', '--dry-run', '--at', '2027-01-01T00:00:00Z'])).code).toBe(EXIT.ok);
    expect((await ctl(['missions', 'list', '--from', '2026-01-01', '--to', '2030-01-01T00:00:00+02:00', '--limit', '200'])).code).toBe(EXIT.ok);
    expect((await ctl(['dlq', 'list', '--offset', '0', '--limit', '1'])).code).toBe(EXIT.ok);
  });

  it('given a dead-lettered mission, then list, show, dlq list, requeue and cancel work as tables and as JSON', async () => {
    const created = await system.api.post('/api/missions').send(broken).expect(201);
    const id: string = created.body.id;
    await system.waitForStatus(id, ['dead_lettered']);

    const listed = await ctl(['missions', 'list', '--status', 'dead_lettered', '--title', 'night RATE']);
    expect(listed.code).toBe(EXIT.ok);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(/Night rate check/);
    expect((await json<{ items: { id: string }[] }>(['missions', 'list', '--title', 'no such title'])).items).toEqual([]);

    const shown = await ctl(['missions', 'show', id, '--events']);
    expect(shown.stdout).toMatch(/status\s+dead_lettered/);
    expect(shown.stdout).toMatch(/MissionDeadLettered/);
    expect(await json<{ mission: { id: string }; events: unknown[] }>(['missions', 'show', id, '--events'])).toMatchObject({ mission: { id } });

    const letters = await ctl(['dlq', 'list']);
    expect(letters.stdout).toContain(id);
    expect(letters.stdout).toMatch(/dead letter\(s\)/);

    expect(await json(['dlq', 'requeue', id])).toMatchObject({ id, status: 'queued' });
    await system.waitForStatus(id, ['dead_lettered']);
    // `--limit abc` used to go out as JSON null, which the API takes for no limit: it requeued.
    for (const limit of ['abc', '0', '1.5', '0x10', '1e2', ' 5']) {
      expect(await ctl(['dlq', 'requeue', '--all', '--limit', limit])).toMatchObject({
        code: EXIT.usage,
        stderr: expect.stringMatching(/--limit must be a whole number/),
      });
    }
    expect(await system.store.load(id)).toMatchObject({ status: 'dead_lettered' });
    expect(await json(['dlq', 'requeue', '--all', '--type', 'pricing', '--reason', 'prompt fixed', '--limit', '5'])).toEqual({ requeued: [id], skipped: [] });
    expect((await ctl(['dlq', 'requeue'])).code).toBe(EXIT.usage);
    await system.waitForStatus(id, ['dead_lettered']);
    const eventsBefore = (await system.store.history(id)).length;
    // With an id they were ignored (the single requeue takes no body), and the mission requeued, exit 0.
    for (const [args, named] of [
      [['--type', 'pricing'], '--type'],
      [['--reason', 'prompt fixed'], '--reason'],
      [['--error-contains', 'timeout'], '--error-contains'],
      [['--before', '2030-01-01T00:00:00Z'], '--before'],
      [['--limit', '5', '--type', 'pricing'], '--type, --limit'],
    ] as const) {
      expect(await ctl(['dlq', 'requeue', id, ...args])).toEqual({
        code: EXIT.usage,
        stdout: '',
        stderr: `ctl: ${named}: only with --all, not with a mission id\n`,
      });
    }
    expect(await system.store.history(id)).toHaveLength(eventsBefore);
    // Refused before any request: exit 2 with no API to ask, where a request would be exit 4.
    expect(await ctl(['dlq', 'requeue', id, '--reason', 'x'], { BRAIN_URL: 'http://127.0.0.1:1' })).toMatchObject({ code: EXIT.usage });
    // Without a condition it says "all": true, which the API asks of a bulk requeue that has none.
    expect(await json(['dlq', 'requeue', '--all', '--limit', '1'])).toEqual({ requeued: [id], skipped: [] });

    await system.waitForStatus(id, ['dead_lettered']);
    const cancelled = await ctl(['missions', 'cancel', id, '--reason', 'guest left']);
    expect(cancelled).toMatchObject({ code: EXIT.ok, stdout: expect.stringMatching(/^cancelled /) });
    const again = await ctl(['missions', 'cancel', id]);
    expect(again).toMatchObject({ code: EXIT.refused, stderr: expect.stringMatching(/409 .*already cancelled/) });
    expect((await system.store.history(id)).at(-1)).toMatchObject({ type: 'MissionCancelled', actor: 'operator', data: { reason: 'guest left' } });
  });

  it("given a guest's request, then missions show prints its summary and payload: the guest's words to an operator key, [redacted] to a reader key", async () => {
    const created = await system.api.post('/api/missions').send(LATE_CHECK_OUT).expect(201);
    const id: string = created.body.id;
    await system.waitForStatus(id, ['dead_lettered']);

    // It printed the state alone: neither what the guest wrote nor their language, which a reply is judged by.
    const shown = await ctl(['missions', 'show', id]);
    expect(shown).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(shown.stdout).toContain(`\n\nrequest:\n${LATE_CHECK_OUT.description}\n\npayload:\n{\n`);
    expect(shown.stdout).toContain(`"message": ${JSON.stringify(GUEST_MESSAGE)}`);
    expect(shown.stdout).toContain('"language": "de"');
    expect(shown.stdout).toContain('"roomNumber": 701');

    // A reader gets the payload as the API gives it to a reader: the guest's words and name redacted.
    const read = await ctl(['missions', 'show', id], { BRAIN_API_KEY: TEST_KEYS.reader });
    expect(read).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(read.stdout).toContain('\n\nrequest:\n[redacted]\n\npayload:\n');
    expect(read.stdout).toContain('"message": "[redacted]"');
    expect(read.stdout).toContain('"name": "[redacted]"');
    expect(read.stdout).toContain('"language": "de"');
    expect(read.stdout).not.toContain('Anna Schmidt');
    expect(read.stdout).not.toContain('14 Uhr');
  });

  it('given queue stats and agents, then tables show them; pause and resume change the agent', async () => {
    const table = (await ctl(['queue', 'stats'])).stdout;
    expect(table).toMatch(/ready\s+\d+ \(low \d+, normal \d+, high \d+, critical \d+\)/);
    // A mission waiting for its notBefore, a retry or a reviewer was in the JSON only.
    expect(table).toMatch(/\nscheduled\s+\d+\n/);
    expect(table).toMatch(/\nretry backoff\s+\d+\n/);
    expect(table).toMatch(/\nawaiting review\s+(0|\d+ \(\d+ overdue, oldest [^)]+\))\n/);
    expect(table).toMatch(/\npast deadline\s+(0|\d+ \(\d+ dead-lettered\))\n/);
    expect(await json(['queue', 'stats'])).toMatchObject({ ready: expect.any(Number), deadLettered: expect.any(Number) });
    expect((await ctl(['agents', 'list'])).stdout).toMatch(/agent-lena .*online/);
    expect(await json(['agents', 'pause', 'agent-lena', '--reason', 'night shift'])).toMatchObject({ id: 'agent-lena', status: 'paused' });
    expect((await ctl(['agents', 'list'])).stdout).toMatch(/agent-lena .*paused/);
    expect((await ctl(['agents', 'resume', 'agent-lena'])).stdout).toBe('agent-lena is online\n');
    expect((await ctl(['agents', 'pause', 'agent-nobody'])).code).toBe(EXIT.refused);
  });

  it('given reviews, then list shows the inbox; deciding a mission that waits for no review is refused (exit 1)', async () => {
    const inbox = await ctl(['reviews', 'list']);
    expect(inbox).toMatchObject({ code: EXIT.ok, stdout: expect.stringMatching(/0 waiting for review/) });
    const page = await json<{ items: unknown[] }>(['reviews', 'list', '--type', 'guest_support']);
    expect(page.items).toEqual([]);
    const created = await system.api
      .post('/api/missions')
      .send({ ...broken, title: 'Not held' })
      .expect(201);
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    expect((await ctl(['reviews', 'approve', created.body.id, '--note', 'fine'])).code).toBe(EXIT.refused);
    expect((await ctl(['reviews', 'reject', created.body.id, '--feedback', 'shorter'])).code).toBe(EXIT.refused);
    expect((await ctl(['reviews', 'reject', created.body.id])).code).toBe(EXIT.usage);
  });

  it('given more dead letters than --limit, then dlq list shows which of how many and the --cursor of the rest (--offset as before)', async () => {
    for (const title of ['Paged letter 1', 'Paged letter 2']) {
      const created = await system.api
        .post('/api/missions')
        .send({ ...broken, title })
        .expect(201);
      await system.waitForStatus(created.body.id, ['dead_lettered']);
    }
    const total = (await json<{ deadLettered: number }>(['queue', 'stats'])).deadLettered;
    // It printed "1 dead letter(s)", which read as all there were.
    const first = await ctl(['dlq', 'list', '--limit', '1']);
    expect(first).toMatchObject({
      code: EXIT.ok,
      stdout: expect.stringMatching(new RegExp(`\n1–1 of ${total} dead letter\\(s\\)\nmore: --cursor [A-Za-z0-9_-]+\n$`)),
    });
    const cursor = /more: --cursor (\S+)/.exec(first.stdout)?.[1] ?? '';
    // Paged by cursor, the next page follows the last entry shown, not a position that a requeue shifts.
    const page = await json<{ items: { missionId: string }[] }>(['dlq', 'list', '--limit', '1', '--cursor', cursor]);
    const everything = await json<{ items: { missionId: string }[] }>(['dlq', 'list', '--limit', '2']);
    expect(page.items.map((letter) => letter.missionId)).toEqual([everything.items[1].missionId]);
    expect((await ctl(['dlq', 'list', '--cursor', cursor, '--offset', '1'])).code).toBe(EXIT.usage);
    const last = await ctl(['dlq', 'list', '--limit', '1', '--offset', String(total - 1)]);
    expect(last.stdout).toMatch(new RegExp(`\n${total}–${total} of ${total} dead letter\\(s\\)\n$`));
    expect((await json<unknown[]>(['dlq', 'list', '--limit', '1', '--offset', '0'])).length).toBe(1);
  });

  describe('against an intake that holds guest replies for review', () => {
    let reviewing: InProcessSystem;
    let reviewingUrl: string;
    beforeAll(async () => {
      reviewing = await startInProcessSystem('e2e-ctl-review', { REVIEW_POLICY_FILE: 'fixtures/review-policy.yaml' });
      await reviewing.intake.listen(0, '127.0.0.1');
      reviewingUrl = `http://127.0.0.1:${(reviewing.intake.getHttpServer().address() as AddressInfo).port}`;
    }, 60_000);
    afterAll(async () => reviewing?.close());

    it('given more waiting than --limit, then reviews list says it is a page and prints the cursor of the next', async () => {
      for (const room of [11, 12, 13]) {
        const created = await reviewing.api
          .post('/api/missions')
          .send({ type: 'guest_support', title: `Towels for room ${room}`, description: 'Guest asks for towels.', priority: 'normal', payload: {} })
          .expect(201);
        await reviewing.waitForStatus(created.body.id, ['awaiting_review']);
      }
      const env = { BRAIN_URL: reviewingUrl };
      expect((await ctl(['reviews', 'list'], env)).stdout).toMatch(/\n3 waiting for review\n$/);
      // It printed "2 waiting for review", which read as all there were, and had no --limit nor --cursor.
      const first = await ctl(['reviews', 'list', '--limit', '2'], env);
      expect(first).toMatchObject({ code: EXIT.ok, stdout: expect.stringMatching(/\n2 on this page\nmore: --cursor \S+\n$/) });
      const cursor = /--cursor (\S+)/.exec(first.stdout)?.[1] ?? '';
      const rest = await ctl(['reviews', 'list', '--limit', '2', '--cursor', cursor], env);
      expect(rest).toMatchObject({ code: EXIT.ok, stdout: expect.stringMatching(/Towels for room 13[^]*\n1 on this page\n$/) });
    });

    it('given a result rejected and the next one under review, then approve with the stale --attempt is a 409 and decides nothing; without --attempt it decides the attempt it prints', async () => {
      const env = { BRAIN_URL: reviewingUrl };
      const created = await reviewing.api
        .post('/api/missions')
        .send({ type: 'guest_support', title: 'Late check-out for room 21', description: 'Guest asks to leave at 14:00.', priority: 'normal', payload: {} })
        .expect(201);
      const id: string = created.body.id;
      await reviewing.waitForStatus(id, ['awaiting_review']);
      // It showed no result: the operator could not read what they were approving.
      const shown = await ctl(['missions', 'show', id], env);
      expect(shown.stdout).toMatch(/review\s+attempt 1, rule guest-replies, asked .*: waiting/);
      expect(shown.stdout).toMatch(/\noutput of attempt 1:\n\{\n/);
      expect(await ctl(['reviews', 'reject', id, '--attempt', '1', '--feedback', 'Offer 13:00 instead.'], env)).toMatchObject({
        code: EXIT.ok,
        stdout: `rejected attempt 1 of ${id} (queued)\n`,
      });
      await waitFor(
        async () => {
          const mission = await reviewing.store.load(id);
          return mission?.status === 'awaiting_review' && mission.attempts === 2;
        },
        { timeoutMs: 20_000, what: 'the second attempt under review' },
      );

      // Approving what the operator saw (attempt 1) approved attempt 2's result, which nobody read.
      const stale = await ctl(['reviews', 'approve', id, '--attempt', '1'], env);
      expect(stale).toMatchObject({
        code: EXIT.refused,
        stdout: '',
        stderr: expect.stringMatching(/: 409 [^]*a newer result is waiting: attempt 2, not 1; nothing was decided/),
      });
      expect(await reviewing.store.load(id)).toMatchObject({ status: 'awaiting_review', attempts: 2 });
      expect((await reviewing.store.history(id)).filter((event) => event.type === 'MissionApproved')).toEqual([]);
      // A mistyped number above the one under review is no newer result.
      expect(await ctl(['reviews', 'approve', id, '--attempt', '3'], env)).toMatchObject({
        code: EXIT.refused,
        stdout: '',
        stderr: expect.stringMatching(/: 409 [^]*attempt 3 has no result under review; nothing was decided[^]*--attempt 2\n$/),
      });
      expect((await reviewing.store.history(id)).filter((event) => event.type === 'MissionApproved')).toEqual([]);

      expect(await ctl(['reviews', 'approve', id, '--note', 'fine'], env)).toMatchObject({
        code: EXIT.ok,
        stdout: `approved attempt 2 of ${id} (succeeded)\n`,
      });
      expect((await reviewing.store.history(id)).filter((event) => event.type === 'MissionApproved')).toMatchObject([{ data: { attempt: 2 } }]);
    });
  });

  describe('against an intake that takes few requests a minute', () => {
    /** RATE_LIMIT_PER_MINUTE of each key, and AUTH_FAILURES_PER_MINUTE of each address. */
    const LIMIT = 5;
    let limited: InProcessSystem;
    let limitedUrl: string;
    beforeAll(async () => {
      limited = await startInProcessSystem('e2e-ctl-limited', { RATE_LIMIT_PER_MINUTE: String(LIMIT), AUTH_FAILURES_PER_MINUTE: String(LIMIT) });
      await limited.intake.listen(0, '127.0.0.1');
      limitedUrl = `http://127.0.0.1:${(limited.intake.getHttpServer().address() as AddressInfo).port}`;
    }, 60_000);
    afterAll(async () => limited?.close());

    /** Runs `queue stats` with this key until it is not `whileCode` (a minute may end on the way: at most two minutes' worth). */
    const untilRefused = async (key: string, whileCode: number) => {
      for (let sent = 0; sent <= 2 * LIMIT + 1; sent += 1) {
        const result = await ctl(['queue', 'stats'], { BRAIN_URL: limitedUrl, BRAIN_API_KEY: key });
        if (result.code !== whileCode) return result;
      }
      throw new Error(`still exit ${whileCode} after ${2 * LIMIT + 2} runs`);
    };
    const retryLater = {
      code: EXIT.retryLater,
      stdout: '',
      stderr: expect.stringMatching(/: 429 .*; try again in \d+ s \(at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d\)\n$/),
    };

    // It exited 1, "the API refused it", and did not say when the key could ask again.
    it("given the key's minute spent, then exit 6 and when to try again, from Retry-After", async () => {
      expect(await untilRefused(TEST_KEYS.reader, EXIT.ok)).toEqual(retryLater);
    });

    it("given the key's minute spent, then missions watch says when it reconnects, waits that long, and Ctrl-C ends the wait", async () => {
      await untilRefused(TEST_KEYS.reader, EXIT.ok);
      const stop = new AbortController();
      let stderr = '';
      const started = Date.now();
      const code = await runCtl(['missions', 'watch'], {
        stdout: { write: () => true },
        // Ctrl-C as soon as it says it waits.
        stderr: { write: (text: string) => ((stderr += text), stop.abort()) },
        env: { BRAIN_URL: limitedUrl, BRAIN_API_KEY: TEST_KEYS.reader },
        signal: stop.signal,
      });
      // It said "too many open live streams" and asked again every second, each time refused.
      expect({ code, stderr }).toEqual({
        code: EXIT.ok,
        stderr: expect.stringMatching(/^watch: GET \/api\/stream: 429 rate limit exceeded.*; try again in \d+ s \(at .*\); reconnecting then\n$/),
      });
      // Not the rest of the minute: the wait ended with Ctrl-C.
      expect(Date.now() - started).toBeLessThan(20_000);
    });

    // Last: from then on this address is refused for the rest of the minute, but for a valid key.
    it('given too many failed authentications from the address, then exit 6 and when to try again; a valid key still works from it', async () => {
      expect(await untilRefused('not-a-key-0000000000', EXIT.auth)).toEqual(retryLater);
      expect(await ctl(['queue', 'stats'], { BRAIN_URL: limitedUrl, BRAIN_API_KEY: 'not-a-key-0000000000' })).toEqual(retryLater);
      expect(await ctl(['queue', 'stats'], { BRAIN_URL: limitedUrl, BRAIN_API_KEY: TEST_KEYS.operator })).toMatchObject({
        code: EXIT.ok,
        stdout: expect.stringMatching(/^ready /),
      });
    });
  });

  it('given a server without a route (review not enabled there), then exit 5', async () => {
    // What older intakes answer: Nest's own text, then one naming the method alone.
    for (const message of ['Cannot GET /api/reviews', 'no such route: GET; the routes are listed at /docs']) {
      const error = apiError(404, JSON.stringify({ statusCode: 404, error: 'Not Found', message, details: [] }), 'GET /api/reviews');
      expect(error).toMatchObject({ exitCode: EXIT.unavailable, message: expect.stringMatching(/does not offer it/) });
    }
    // What this intake answers for a route it does not have, which no longer quotes the path.
    const missing = await system.api.post('/api/missions/queue/compact').expect(404);
    expect(apiError(404, JSON.stringify(missing.body), 'POST /api/missions/queue/compact').exitCode).toBe(EXIT.unavailable);
    // A route it has under other methods only: a 405, no route either.
    const otherMethod = await system.api.put('/api/missions').expect(405);
    expect(apiError(405, JSON.stringify(otherMethod.body), 'PUT /api/missions')).toMatchObject({
      exitCode: EXIT.unavailable,
      message: 'PUT /api/missions: this server does not offer it (PUT is not a method of this route; it takes GET, HEAD, POST)',
    });
    expect(apiError(404, JSON.stringify({ message: 'mission x not found' }), 'GET /api/missions/x').exitCode).toBe(EXIT.refused);
  });

  it('given missions watch, then it prints each new event as it happens and stops after --count', async () => {
    const stream = system.intake.get(EventStreamService);
    const before = stream.clientCount;
    const watching = ctl(['--json', 'missions', 'watch', '--type', 'MissionCreated,MissionDeadLettered', '--count', '2']);
    await waitFor(async () => stream.clientCount > before, { timeoutMs: 10_000, what: 'watch to open the stream' });
    const created = await system.api
      .post('/api/missions')
      .send({ ...broken, title: 'Watched' })
      .expect(201);
    const result = await watching;
    expect(result.code).toBe(EXIT.ok);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; missionId: string });
    expect(lines.map((event) => [event.type, event.missionId])).toEqual([
      ['MissionCreated', created.body.id],
      ['MissionDeadLettered', created.body.id],
    ]);

    const replayed = await ctl(['missions', 'watch', created.body.id, '--from-start', '--count', '1']);
    expect(replayed.stdout).toMatch(new RegExp(`${created.body.id} {2}v1 {2}MissionCreated .* pricing high "Watched"`));

    await waitFor(async () => stream.clientCount === before, { timeoutMs: 10_000, what: 'the finished watches to close their streams' });
    const stop = new AbortController();
    const interrupted = ctl(['missions', 'watch'], {}, stop.signal);
    await waitFor(async () => stream.clientCount > before, { timeoutMs: 10_000, what: 'the second watch to open the stream' });
    stop.abort();
    expect(await interrupted).toEqual({ code: EXIT.ok, stdout: '', stderr: '' });
  });

  it('given an id that is a dot segment, a BRAIN_URL that is no URL, or a page that is not JSON, then a clear error and exit code, and nothing requeued', async () => {
    const created = await system.api
      .post('/api/missions')
      .send({ ...broken, title: 'Dot segment check' })
      .expect(201);
    await system.waitForStatus(created.body.id, ['dead_lettered']);
    // "dlq requeue ." reached /api/dlq/requeue, the bulk route, and requeued up to 100 missions.
    for (const id of ['.', '..']) expect(await ctl(['dlq', 'requeue', id])).toMatchObject({ code: EXIT.usage, stderr: `ctl: "${id}" is no id\n` });
    expect((await system.store.load(created.body.id))?.status).toBe('dead_lettered');
    // Both used to end in a stack trace.
    expect(await ctl(['queue', 'stats'], { BRAIN_URL: 'localhost:3000' })).toMatchObject({
      code: EXIT.usage,
      stderr: 'ctl: BRAIN_URL must be an http(s) URL, such as http://localhost:3000; got "localhost:3000"\n',
    });
    // Both were "cannot reach the API" (exit 4), quoting the password or the keys.
    expect(await ctl(['queue', 'stats'], { BRAIN_URL: 'http://u:pw-S3CRET@127.0.0.1:1' })).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr:
        'ctl: BRAIN_URL must be an http(s) URL without user:password@ (the key goes in BRAIN_API_KEY), such as http://localhost:3000; got "http://***@127.0.0.1:1"\n',
    });
    expect(await ctl(['queue', 'stats'], { BRAIN_URL: 'http://u:p#ss@127.0.0.1:1' })).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr: 'ctl: BRAIN_URL must be an http(s) URL, such as http://localhost:3000; got "http://***@127.0.0.1:1"\n',
    });
    expect(await ctl(['queue', 'stats'], { BRAIN_API_KEY: 'first-key\nsecond-key' })).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr: 'ctl: BRAIN_API_KEY holds a line break, a control character or one beyond ASCII, which no API key has (a file of several keys?): give one key\n',
    });
    const page = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in</html>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    try {
      const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
      expect(await ctl(['queue', 'stats'], { BRAIN_URL: pageUrl })).toMatchObject({
        code: EXIT.unreachable,
        stderr: expect.stringMatching(/answered with something that is not JSON/),
      });
    } finally {
      await new Promise((resolve) => page.close(resolve));
    }
  });

  it('given a title with terminal controls (a record from before the text rule), then neither the text nor the JSON prints them raw', async () => {
    // ESC [2J clears the screen; U+009B is a one-character CSI; U+202E reverses what follows.
    const title = 'Late check-out\u001b[2J \u009b31m \u202Eroom 12';
    const mission = { id: 'm-1', status: 'cancelled', type: 'guest_support', priority: 'normal', attempts: 1, title };
    const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mission)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const text = await ctl(['missions', 'cancel', 'm-1'], { BRAIN_URL: serverUrl });
      expect(text).toMatchObject({ code: EXIT.ok, stdout: 'cancelled m-1 (Late check-out\\u001b[2J \\u009b31m \\u202eroom 12)\n' });
      const asJson = await ctl(['--json', 'missions', 'cancel', 'm-1'], { BRAIN_URL: serverUrl });
      expect(asJson.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
      expect(JSON.parse(asJson.stdout)).toEqual(mission);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** A loopback port that nothing listens on: one a server had a moment ago. */
  const closedPort = async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
  };

  it('given missions watch and no API at BRAIN_URL, or an unknown mission id, then exit 4 or 1 at once instead of waiting for ever', async () => {
    // Both used to wait until Ctrl-C: the first saying "reconnecting" every second, the second silent.
    const give_up = AbortSignal.timeout(8_000);
    const down = await ctl(['missions', 'watch', '--count', '1'], { BRAIN_URL: `http://127.0.0.1:${await closedPort()}` }, give_up);
    expect(down).toMatchObject({ code: EXIT.unreachable, stdout: '', stderr: expect.stringMatching(/^ctl: cannot reach the API at .*: connect ECONNREFUSED/) });
    const unknown = await ctl(['missions', 'watch', '01900000-0000-7000-8000-000000000000', '--count', '1'], {}, give_up);
    expect(unknown).toMatchObject({ code: EXIT.refused, stdout: '', stderr: expect.stringMatching(/404 .*not found/) });
    expect(give_up.aborted).toBe(false);
  });

  it('given missions watch connected and then the intake gone for a while, then it says so once, reconnects less and less often, and says when it is back', async () => {
    const port = await closedPort();
    const listen = (intake: ReturnType<typeof createServer>) => new Promise<void>((resolve) => intake.listen(port, '127.0.0.1', resolve));
    const opened = (response: ServerResponse) => response.writeHead(200, { 'content-type': 'text/event-stream' }).write('event: connected\ndata: 1-0\n\n');
    // An intake that opens the stream, drops it, and is gone: reconnects are refused…
    const first = createServer((_request, response) => {
      opened(response);
      setTimeout(() => {
        response.destroy();
        first.close();
      }, 50);
    });
    // …until it is back, two seconds later: between the reconnect after 1 s and the one 2 s after that.
    const second = createServer((_request, response) => opened(response));
    await listen(first);
    const backAgain = setTimeout(() => void listen(second), 2_000);
    try {
      const result = await ctl(['missions', 'watch'], { BRAIN_URL: `http://127.0.0.1:${port}` }, AbortSignal.timeout(4_500));
      // It printed "the stream dropped (fetch failed); reconnecting" every second.
      expect(result).toMatchObject({ code: EXIT.ok, stdout: '' });
      expect(result.stderr).toMatch(/^watch: the stream dropped \(.+\); reconnecting, less often the longer it stays down\nwatch: reconnected\n$/);
    } finally {
      clearTimeout(backAgain);
      second.closeAllConnections();
      await new Promise((resolve) => second.close(resolve));
    }
  });

  it('given missions watch whose first connection lands on a stopping intake, then it waits for the intake to come back instead of exiting 4', async () => {
    const port = await closedPort();
    const listen = (intake: ReturnType<typeof createServer>) => new Promise<void>((resolve) => intake.listen(port, '127.0.0.1', resolve));
    // A stopping intake answers a stream with only a retry line, ends it and the connection, then stops listening…
    const stopping = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', connection: 'close' }).end('retry: 3000\n\n');
      stopping.close();
    });
    // …and the next one is up 2.5 s later: after the refused reconnects at 1 s and 2 s, before the one at 4 s.
    const next = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/event-stream' }).write('event: connected\ndata: 1-0\n\n'),
    );
    await listen(stopping);
    const backAgain = setTimeout(() => void listen(next), 2_500);
    try {
      const result = await ctl(['missions', 'watch'], { BRAIN_URL: `http://127.0.0.1:${port}` }, AbortSignal.timeout(6_000));
      // It exited 4 ("cannot reach the API") at the refused reconnect, as if BRAIN_URL were wrong.
      expect(result).toMatchObject({ code: EXIT.ok, stdout: '' });
      expect(result.stderr).toMatch(/^watch: the stream dropped \(.+\); reconnecting, less often the longer it stays down\nwatch: reconnected\n$/);
    } finally {
      clearTimeout(backAgain);
      next.closeAllConnections();
      await new Promise((resolve) => next.close(resolve));
    }
  });

  it('given missions watch at a URL that answers a page, not an event stream, then exit 4 at once: no reconnect mends it', async () => {
    // A sign-on proxy, or a single-page app that answers every path: 200, HTML.
    const page = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    try {
      const give_up = AbortSignal.timeout(8_000);
      const result = await ctl(['missions', 'watch'], { BRAIN_URL: `http://127.0.0.1:${(page.address() as AddressInfo).port}` }, give_up);
      expect(result).toMatchObject({
        code: EXIT.unreachable,
        stdout: '',
        stderr: expect.stringMatching(/answered with text\/html where the live stream should be: is it the intake/),
      });
      expect(give_up.aborted).toBe(false);
    } finally {
      await new Promise((resolve) => page.close(resolve));
    }
  });

  it('given missions watch without a key, then it exits 3 at once instead of reconnecting for ever', async () => {
    expect(await ctl(['missions', 'watch'], { BRAIN_API_KEY: undefined })).toMatchObject({
      code: EXIT.auth,
      stderr: expect.stringMatching(/BRAIN_API_KEY is not set/),
    });
  });
});
