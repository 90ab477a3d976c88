import { testKeyPrefix } from '@app/testing';
import { EXIT_USAGE } from '../../scripts/replay';
import { runReplayCli } from '../support/replay-cli';

describe('replay import of what is not an export file', () => {
  const target = testKeyPrefix('replay-import-input');

  it('given --in - (stdin, as --out - is stdout to export), then it is refused as usage, saying why stdin cannot be imported, not "no such file"', async () => {
    const run = await runReplayCli(['--prefix', target, 'import', '--in', '-']);
    expect(run.code).toBe(EXIT_USAGE);
    expect(run.stderr).toContain('--in - (stdin) cannot be imported: an import reads its file twice; save it to a file first');
    expect(run.stderr).not.toContain('no such file');
  });

  it('given /dev/stdin, then it is refused as no regular file', async () => {
    const run = await runReplayCli(['--prefix', target, 'import', '--in', '/dev/stdin']);
    expect(run.code).toBe(EXIT_USAGE);
    expect(run.stderr).toContain('/dev/stdin is not a regular file (an import reads it twice)');
  });
});
