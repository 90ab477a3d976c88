import { KeyLayout } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, KNOWN_VERSIONS, testKeyPrefix, testRedis } from '@app/testing';
import { EXIT_FINDINGS, EXIT_OK } from '../../scripts/replay';
import { appendByHand } from '../support/append-by-hand';
import { runReplayCli } from '../support/replay-cli';

const { ok, wait } = KNOWN_MISSIONS;

describe('replay on events no service writes: an unknown type, a field missing (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-unreadable');
  const keys = new KeyLayout(prefix);
  let teleported: string;
  let failed: string;

  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });

  beforeAll(async () => {
    await buildKnownLog(redis, keys);
    expect((await replay('verify')).code).toBe(EXIT_OK);
    teleported = await appendByHand(redis, keys, wait, 'MissionTeleported', { to: 'Mars' });
    failed = await appendByHand(redis, keys, ok, 'MissionFailed', { agentId: 'agent-lena', error: 'boom' });
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // As a mission's last event, an unknown type folded to no state at all, and verify said OK.
  it('given such events as their missions last, when verify runs, then each is an unreplayable finding naming its log id, exit 1', async () => {
    const run = await replay('--json', 'verify');

    expect(run.code).toBe(EXIT_FINDINGS);
    const findings = (JSON.parse(run.stdout) as { findings: { kind: string; missionId: string; logId: string; detail: string }[] }).findings;
    expect(findings).toContainEqual({
      kind: 'unreplayable',
      missionId: wait,
      logId: teleported,
      version: KNOWN_VERSIONS[wait] + 1,
      detail: `its events cannot be folded: event v${KNOWN_VERSIONS[wait] + 1} (${teleported}): its type "MissionTeleported" is no mission event type`,
    });
    expect(findings).toContainEqual(
      expect.objectContaining({
        kind: 'unreplayable',
        missionId: ok,
        logId: failed,
        detail: expect.stringContaining('a MissionFailed without data.attempt (a number)'),
      }),
    );
  });

  // It crashed with a stack trace (exit 2) on the summary of an event it could not read.
  it('given such an event, when history runs, then it shows the row as (unreadable) with the reason and exits 1', async () => {
    const run = await replay('history', wait);

    expect(run.code).toBe(EXIT_FINDINGS);
    const last = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      new RegExp(`^\\s*${KNOWN_VERSIONS[wait] + 1}\\s.*\\(unreadable\\)\\s.*log entry ${teleported}: its type "MissionTeleported" is no mission event type$`),
    );
    expect(run.stderr).toContain(`mission ${wait}: 1 of its events cannot be read, shown (unreadable) (run verify)`);
    const json = JSON.parse((await replay('--json', 'history', ok)).stdout) as { unreadable: unknown[] };
    expect(json.unreadable).toEqual([{ logId: failed, version: KNOWN_VERSIONS[ok] + 1, reason: 'a MissionFailed without data.attempt (a number)' }]);
  });

  it('given such an event, when state runs now, then it refuses to fold across it with exit 1; a version before it folds as usual', async () => {
    const now = await replay('state', ok);
    expect(now).toMatchObject({ code: EXIT_FINDINGS, stdout: '' });
    expect(now.stderr).toContain(
      `mission ${ok}: its event v${KNOWN_VERSIONS[ok] + 1} (${failed}) cannot be read: a MissionFailed without data.attempt (a number); no state is folded across it (run verify)`,
    );
    expect((await replay('state', wait)).code).toBe(EXIT_FINDINGS);

    const before = await replay('state', ok, '--version', String(KNOWN_VERSIONS[ok]));
    expect(before.code).toBe(EXIT_OK);
    expect(before.stdout).toContain(`version ${KNOWN_VERSIONS[ok]} of ${KNOWN_VERSIONS[ok] + 1}`);
  });
});

describe('replay on an event list naming a log entry that is not JSON, in the middle of a mission (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-unreadable-middle');
  const keys = new KeyLayout(prefix);
  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });
  /** The version whose log entry is replaced: its version is nowhere but in its place in the event list. */
  const altered = 4;
  let logId: string;
  let events: { version: number; at: string }[];

  beforeAll(async () => {
    await buildKnownLog(redis, keys);
    events = (JSON.parse((await replay('--json', 'history', ok)).stdout) as { events: { version: number; at: string }[] }).events;
    const partition = keys.of(ok);
    logId = (await redis.xadd(partition.log, '*', 'm', ok, 'e', '{not json')) ?? '';
    await redis.lset(partition.missionEvents(ok), altered - 1, logId);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // It was a row without a version and "v3 missing from the log" besides.
  it('given it, when history runs, then its row is (unreadable) at the version of its place in the list, and no version is missing, exit 1', async () => {
    const run = await replay('--json', 'history', ok);

    expect(run.code).toBe(EXIT_FINDINGS);
    const json = JSON.parse(run.stdout) as { events: { version: number | null; type: string }[]; missing: unknown[]; unreadable: unknown[] };
    expect(json.missing).toEqual([]);
    expect(json.unreadable).toEqual([{ logId, version: altered, reason: 'the stored event is not valid JSON' }]);
    expect(json.events.map((row) => `${row.version} ${row.type}`)[altered - 1]).toBe(`${altered} (unreadable)`);
    expect(json.events.map((row) => row.version)).toEqual(Array.from({ length: KNOWN_VERSIONS[ok] }, (_, i) => i + 1));
  });

  // A point before it was refused as one folded across it.
  it('given it, when state runs at a version or a time before it, then it folds as usual; at it or after, exit 1 naming it', async () => {
    const byVersion = await replay('state', ok, '--version', String(altered - 1));
    expect(byVersion.code).toBe(EXIT_OK);
    expect(byVersion.stdout).toContain(`version ${altered - 1} of ${KNOWN_VERSIONS[ok]}`);
    // Its own time is unknown, but not before the event ahead of it: a point before that one is before it.
    const beforeTime = new Date(Date.parse(events[altered - 2].at) - 1).toISOString();
    expect((await replay('state', ok, '--at', beforeTime)).code).toBe(EXIT_OK);

    const across = await replay('state', ok, '--version', String(altered));
    expect(across.code).toBe(EXIT_FINDINGS);
    expect(across.stderr).toContain(`its event v${altered} (${logId}) cannot be read: the stored event is not valid JSON; no state is folded across it`);
    expect((await replay('state', ok, '--at', events[altered - 2].at)).code).toBe(EXIT_FINDINGS);
  });
});
