import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { exportLog, importLog } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, buildKnownLog, testRedis } from '@app/testing';
import { chainFindings } from '../support/chain-findings';
import { withEndLineCounted } from '../support/export-lines';

/**
 * Whatever single tampering is done to the known log, verify names exactly the events tampered with.
 * Deletions are done live (XDEL after an import, the mission lists still hold the ids); edits, swaps,
 * insertions and byte copies on an export that is then imported. An import writes the log head and mission heads
 * from the lines it is given, so a change to the very last line of a file is out of reach there.
 */
type Tamper =
  | { kind: 'delete'; at: number }
  | { kind: 'edit'; at: number }
  | { kind: 'swap'; at: number }
  | { kind: 'insert'; copyOf: number; at: number }
  | { kind: 'duplicate'; copyOf: number; at: number };

interface EventKey {
  missionId: string;
  version: number;
}

const keyOf = (line: string): EventKey => {
  const event = JSON.parse(line) as EventKey;
  return { missionId: event.missionId, version: event.version };
};
const label = (k: EventKey) => `${k.missionId} v${k.version}`;

describe('tamper evidence, property-based (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-tamper');
  let lines: string[];
  let run = 0;

  beforeAll(async () => {
    const source = new KeyLayout(`${prefix}source:`);
    await buildKnownLog(redis, source);
    const chunks: string[] = [];
    await exportLog(
      redis,
      source,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk.toString('utf8'));
          callback();
        },
      }),
    );
    // The events; the end line (last) is counted anew for each tampered file.
    lines = chunks.join('').split('\n').filter(Boolean).slice(0, -1);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  const tampers = (n: number): fc.Arbitrary<Tamper> =>
    fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.integer({ min: 0, max: n - 1 }) }),
      fc.record({ kind: fc.constant('edit' as const), at: fc.integer({ min: 0, max: n - 2 }) }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.integer({ min: 0, max: n - 3 }) }),
      fc.record({ kind: fc.constant('insert' as const), copyOf: fc.integer({ min: 0, max: n - 1 }), at: fc.integer({ min: 0, max: n - 1 }) }),
      fc.record({ kind: fc.constant('duplicate' as const), copyOf: fc.integer({ min: 0, max: n - 1 }), at: fc.integer({ min: 0, max: n - 1 }) }),
    );

  it('names exactly the tampered events', async () => {
    await fc.assert(
      fc.asyncProperty(tampers(34), async (tamper) => {
        const keys = new KeyLayout(`${prefix}run-${++run}:`);
        const changed = [...lines];
        let expected: string[];
        let expectedKinds: string[];
        if (tamper.kind === 'edit') {
          changed[tamper.at] = changed[tamper.at].replace(/"actor":"([^"]*)"/, '"actor":"$1-tampered"');
          expected = [label(keyOf(lines[tamper.at]))];
          expectedKinds = ['edited'];
        } else if (tamper.kind === 'swap') {
          [changed[tamper.at], changed[tamper.at + 1]] = [changed[tamper.at + 1], changed[tamper.at]];
          expected = [label(keyOf(lines[tamper.at])), label(keyOf(lines[tamper.at + 1]))];
          expectedKinds = ['reordered'];
        } else if (tamper.kind === 'insert') {
          changed.splice(tamper.at, 0, lines[tamper.copyOf].replace(/"eventId":"[^"]+"/, '"eventId":"forged"'));
          expected = [label(keyOf(lines[tamper.copyOf]))];
          expectedKinds = ['inserted'];
        } else if (tamper.kind === 'duplicate') {
          // Byte for byte: the copy has the hash of the event it copies.
          changed.splice(tamper.at, 0, lines[tamper.copyOf]);
          expected = [label(keyOf(lines[tamper.copyOf]))];
          expectedKinds = ['duplicate'];
        } else {
          expected = [label(keyOf(lines[tamper.at]))];
          expectedKinds = ['deleted'];
        }
        await importLog(redis, keys, Readable.from([`${withEndLineCounted(changed).join('\n')}\n`]));
        let deletedId: string | null = null;
        if (tamper.kind === 'delete') {
          const { missionId, version } = keyOf(lines[tamper.at]);
          deletedId = await redis.lindex(keys.missionEvents(missionId), version - 1);
          await redis.xdel(keys.partitions[0].log, deletedId ?? '');
        }

        const findings = await chainFindings(redis, keys.partitions[0]);
        // Every key an import writes (a SCAN of a shared server per run would be slow); afterAll sweeps the prefix.
        const missionIds = [...new Set(lines.map((line) => keyOf(line).missionId))];
        await redis.unlink(
          keys.partitions[0].log,
          keys.partitions[0].logHead,
          keys.partitions[0].missionIndex,
          keys.partitions[0].statusCounts,
          ...missionIds.flatMap((id) => [keys.mission(id), keys.missionEvents(id)]),
        );
        const named = findings.map((f) => label({ missionId: f.missionId, version: f.version ?? 0 }));
        expect({ tamper, named: [...new Set(named)].sort() }).toEqual({ tamper, named: [...new Set(expected)].sort() });
        expect({ tamper, kinds: [...new Set(findings.map((f) => f.kind))] }).toEqual({ tamper, kinds: expectedKinds });
        if (deletedId) expect(findings[0].logId).toBe(deletedId);
      }),
      { numRuns: Number(process.env.AUDIT_PROPERTY_RUNS ?? 60) },
    );
  });
});
