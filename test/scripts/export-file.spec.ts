import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportFile } from '../../scripts/export-file';

describe('ExportFile, the file replay export writes', () => {
  let dir: string;
  let out: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-file-'));
    out = join(dir, 'backup.jsonl');
    await writeFile(out, 'the last backup\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('given a partial file an earlier run killed outright left under this pid, when an export opens, then it writes beside it and replaces the backup', async () => {
    // In a container every run may have the same pid (often 1): such a leftover made every later export fail.
    const leftover = `${out}.partial-${process.pid}`;
    await writeFile(leftover, 'half an export\n');

    const file = await ExportFile.open(out);
    file.stream.write('the new export\n');
    await file.commit();

    expect(await readFile(out, 'utf8')).toBe('the new export\n');
    expect((await readdir(dir)).sort()).toEqual(['backup.jsonl', `backup.jsonl.partial-${process.pid}`]);
  });

  it('given the export put in place, when it is interrupted before it ends, then the message says the backup was replaced, not kept', async () => {
    const file = await ExportFile.open(out);
    expect(file.leftBehind).toMatch(/the previous .*backup\.jsonl was left as it was$/);
    file.stream.write('the new export\n');
    await file.commit();

    file.discard();
    expect(file.leftBehind).toMatch(/backup\.jsonl had been replaced by the whole export already/);
    expect(await readFile(out, 'utf8')).toBe('the new export\n');
  });
});
