import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportChains, ExportTally, ImportRefusedError, sha1Hex } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { EXIT_REFUSED } from '../../scripts/replay';

const OPERATIONS = readFileSync(join(__dirname, '../../docs/operations.md'), 'utf8');

/** The text of a `## title` section up to the next heading of that level, its line breaks made spaces. */
function section(title: string): string {
  const start = OPERATIONS.indexOf(`\n## ${title}\n`);
  const end = OPERATIONS.indexOf('\n## ', start + 1);
  return OPERATIONS.slice(start, end === -1 ? undefined : end).replace(/\s+/g, ' ');
}

/** What `check()` throws for `lines` fed as an export's event lines. */
function chainRefusal(lines: readonly string[]): ImportRefusedError {
  const chains = new ExportChains(new KeyLayout('docs:'));
  lines.forEach((line, index) => chains.add(line, index + 1, JSON.parse(line) as Record<string, unknown>));
  try {
    chains.check();
  } catch (error) {
    if (error instanceof ImportRefusedError) return error;
    throw error;
  }
  throw new Error('the chains held');
}

/** `text` as a pattern in which line numbers, mission ids, versions and hashes may be any. */
function wordingOf(text: string, missionId: string): RegExp {
  const variable = new RegExp(`(line \\d+|${missionId}|v\\d+|[0-9a-f]{12}…|'')`);
  const parts = text
    .split(variable)
    .map((part, i) => (i % 2 === 1 ? (part.startsWith('line') ? 'line \\d+' : '\\S+?') : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(parts.join(''));
}

describe('docs/operations.md, "Guest data in exports and imports"', () => {
  const text = section('Guest data in exports and imports');

  // The section said a file that is not whole is refused with exit code 2, which the CLI gives bad arguments.
  it('given every exit code the section names (each for an import refused, nothing written), then it is the code the CLI refuses an import with', () => {
    const codes = [...text.matchAll(/exit (?:code )?(\d+)/g)].map((match) => Number(match[1]));
    expect(codes.length).toBeGreaterThan(0);
    expect(codes).toEqual(codes.map(() => EXIT_REFUSED));
  });

  it('given the table of refusals, then it has a row for broken hash chains, and the example quotes the refusal as the code words it', () => {
    expect(text).toContain(`| a hash chain that breaks | exit ${EXIT_REFUSED}, naming the line and its mission |`);
    const first = JSON.stringify({ missionId: 'm-7', version: 1, type: 'MissionCreated', prevHash: '', logPrevHash: '' });
    const second = JSON.stringify({ missionId: 'm-7', version: 2, type: 'MissionQueued', prevHash: sha1Hex(first), logPrevHash: sha1Hex(first) });
    const duplicated = chainRefusal([first, second, second]);
    expect(duplicated.message).toContain('line 3 (mission m-7 v2) breaks the export');
    expect(text).toMatch(wordingOf(`replay: backup.jsonl: ${duplicated.message}`, 'm-7'));
  });

  it('given a filtered export, then the table has its row, and the example quotes the refusal as the code words it', () => {
    expect(text).toContain(
      `| an end line that names filters (an export made with \`--from\`, \`--to\`, \`--type\` or \`--mission\`) | exit ${EXIT_REFUSED}, naming the filters |`,
    );
    const tally = new ExportTally();
    tally.add({ kind: 'export-end', events: 0, subjectKeys: 0, partitions: 1, filter: { type: 'MissionEvaluated' } }, 1);
    expect(text).toContain(`replay: evals.jsonl: ${tallyRefusal(tally).message}`);
  });

  it('given an export made with --no-keys, then the table has its row, and the example quotes the refusal as the code words it', () => {
    expect(text).toContain(
      '| an end line that records `--no-keys` (`"keys":false`), or, without it, no subject key line although the file names guests that no ' +
        `\`SubjectErased\` erased | exit ${EXIT_REFUSED}, saying it is an extract without the guests' keys |`,
    );
    const tally = new ExportTally();
    tally.add({ kind: 'export-end', events: 0, subjectKeys: 0, partitions: 1, filter: { keys: false } }, 1);
    expect(text).toContain(`replay: nokeys.jsonl: ${tallyRefusal(tally).message}`);
  });
});

/** What `check()` throws for what `tally` was given. */
function tallyRefusal(tally: ExportTally): ImportRefusedError {
  try {
    tally.check(1);
  } catch (error) {
    if (error instanceof ImportRefusedError) return error;
    throw error;
  }
  throw new Error('the tally held');
}
