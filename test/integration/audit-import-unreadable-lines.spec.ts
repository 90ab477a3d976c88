import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KeyLayout } from '@app/event-store';
import { countKeysByPrefix } from '@app/redis';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, testKeyPrefix, testRedis } from '@app/testing';
import { EXIT_OK, EXIT_REFUSED } from '../../scripts/replay';
import { withEndLineCounted } from '../support/export-lines';
import { relinkedLines } from '../support/relinked-export';
import { runReplayCli } from '../support/replay-cli';

const { ok, retry } = KNOWN_MISSIONS;

describe('replay import of lines no service writes (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('import-unreadable');
  const targets = testKeyPrefix('import-unreadable-target');
  let dir: string;
  let lines: string[];

  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });

  /** The known log's export changed by `change`, its chains and end line made to hold again, imported into a fresh prefix. */
  const importChanged = async (name: string, change: (lines: string[]) => string[]) => {
    const file = path.join(dir, `${name}.jsonl`);
    await writeFile(file, `${withEndLineCounted(change(lines)).join('\n')}\n`);
    const target = `${targets}${name}:`; // deleted with targets
    return { file, target, run: await replay('--prefix', target, 'import', '--in', file) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'import-unreadable-'));
    await buildKnownLog(redis, new KeyLayout(prefix));
    const file = path.join(dir, 'known.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await deleteKeysByPrefix(redis, targets);
    await rm(dir, { recursive: true, force: true });
    await redis.quit();
  });

  // Another mission's event list as a mission id: its hash and that list were one key, and the import stopped half way with exit 2.
  it.each([
    ["another mission's event list key", `${ok}:events`],
    ['a space', `${retry} x`],
    ['braces', `{${retry}}`],
  ])(
    'given an export whose mission id is %s (its chains recomputed), when it is imported, then it is refused with exit 5 naming the line, and nothing is written',
    async (name, missionId) => {
      const relinked = (all: string[]) => relinkedLines(all, (body) => body.replaceAll(`"missionId":"${retry}"`, `"missionId":${JSON.stringify(missionId)}`));
      const firstLine = relinked(lines).findIndex((line) => line.includes(JSON.stringify(missionId))) + 1;

      const { file, target, run } = await importChanged(name.replace(/\W+/g, '-'), relinked);

      expect(run).toMatchObject({ code: EXIT_REFUSED, stdout: '' });
      expect(run.stderr).toContain(`replay: ${file}: line ${firstLine} names the mission ${JSON.stringify(missionId)}, which is no mission id`);
      expect(run.stderr).toMatch(/; nothing was written\n$/);
      expect(await countKeysByPrefix(redis, target)).toBe(0);
    },
  );

  it('given an export with a line nested 2,000,000 levels deep, when it is imported, then it is refused with exit 5 naming the line, and nothing is written', async () => {
    const deep = `[${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}]`;
    const { file, target, run } = await importChanged('deep', (all) =>
      relinkedLines(all, (body) =>
        body.includes(`"missionId":"${ok}"`) && body.includes('"type":"MissionCreated"') ? body.replace('"payload":{', `"payload":{"deep":${deep},`) : body,
      ),
    );
    const deepLine = 1 + (await readFile(file, 'utf8')).split('\n').findIndex((line) => line.includes('"deep":'));

    expect(run).toMatchObject({ code: EXIT_REFUSED, stdout: '' });
    expect(run.stderr).toContain(`replay: ${file}: line ${deepLine} nests deeper than 32 levels, which no stored event does`);
    expect(run.stderr).toMatch(/; nothing was written\n$/);
    expect(await countKeysByPrefix(redis, target)).toBe(0);
  });
});
