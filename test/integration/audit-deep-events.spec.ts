import { KeyLayout } from '@app/event-store';
import { MAX_BODY_DEPTH } from '@app/mission';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, KNOWN_VERSIONS, testKeyPrefix, testRedis } from '@app/testing';
import { EXIT_FINDINGS, EXIT_OK } from '../../scripts/replay';
import { appendByHand } from '../support/append-by-hand';
import { runReplayCli, verifyFindingsCli } from '../support/replay-cli';

const { wait } = KNOWN_MISSIONS;
/** A mission whose create was written into the log by hand. */
const abyss = 'm-abyss';
const TOO_DEEP = `the stored event nests deeper than ${MAX_BODY_DEPTH} levels, which no service writes`;

/** JSON text of arrays nested `levels` deep. */
const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

// `replay import` refuses a line nested deeper than MAX_BODY_DEPTH (exit 5); the same event written
// into Redis by hand was folded by verify and shown by history as any other, and one nested
// 100,000 deep stopped rebuild with exit 2 (JSON.stringify of its state overflowed the stack).
describe('verify, rebuild and history on events nested deeper than an import takes (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-deep-events');
  const keys = new KeyLayout(prefix);
  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });
  let justOver: string;
  let deepest: string;

  beforeAll(async () => {
    await buildKnownLog(redis, keys);
    expect((await replay('verify')).code).toBe(EXIT_OK);
    // The event, its data, then 31 arrays: one level more than the limit, in an event that folds otherwise.
    justOver = await appendByHand(redis, keys, wait, 'MissionCancelled', `{"reason":"guest checked out early","note":${nested(MAX_BODY_DEPTH - 1)}}`);
    deepest = await appendByHand(
      redis,
      keys,
      abyss,
      'MissionCreated',
      `{"type":"guest_support","title":"Deep","description":"by hand","priority":"normal","requiredSkills":[],"payload":{"deep":${nested(100_000)}}}`,
    );
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given them, when verify runs, then each is an unreplayable finding naming its event and the limit, exit 1', async () => {
    const { code, findings } = await verifyFindingsCli({ KEY_PREFIX: prefix });

    expect(code).toBe(EXIT_FINDINGS);
    const version = KNOWN_VERSIONS[wait] + 1;
    expect(findings).toEqual([
      { kind: 'unreplayable', missionId: wait, logId: justOver, version, detail: `its events cannot be folded: event v${version} (${justOver}): ${TOO_DEEP}` },
      { kind: 'unreplayable', missionId: abyss, logId: deepest, version: 1, detail: `its events cannot be folded: event v1 (${deepest}): ${TOO_DEEP}` },
    ]);
  });

  it('given them, when rebuild runs, then it leaves both missions alone and names them as missions that cannot be folded', async () => {
    const run = await replay('--json', 'rebuild');

    expect(run.code).toBe(EXIT_OK);
    expect((JSON.parse(run.stdout) as { unreplayable: string[] }).unreplayable.sort()).toEqual([abyss, wait].sort());
  });

  it('given them, when history runs, then each is an (unreadable) row with the reason, exit 1; state folds nothing across it', async () => {
    const run = await replay('history', wait);

    expect(run.code).toBe(EXIT_FINDINGS);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^\\s*${KNOWN_VERSIONS[wait] + 1}\\s.*\\(unreadable\\)\\s.*log entry ${justOver}: ${TOO_DEEP}$`),
    );
    const deep = await replay('--json', 'history', abyss);
    expect(deep.code).toBe(EXIT_FINDINGS);
    expect((JSON.parse(deep.stdout) as { unreadable: unknown[] }).unreadable).toEqual([{ logId: deepest, version: 1, reason: TOO_DEEP }]);
    const state = await replay('state', abyss);
    expect(state.code).toBe(EXIT_FINDINGS);
    expect(state.stderr).toContain(`mission ${abyss}: its event v1 (${deepest}) cannot be read: ${TOO_DEEP}; no state is folded across it (run verify)`);
  });
});
