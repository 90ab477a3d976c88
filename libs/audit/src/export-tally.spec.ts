import { Readable } from 'node:stream';
import { KeyLayout } from '@app/event-store';
import { scanExport } from './export-tally';

describe('scanExport (read ahead of an import)', () => {
  const scan = (text: string) => scanExport(Readable.from([text]), new KeyLayout('scan-spec:'));

  it('given a file that is no export at all (a README), then the first line that is no JSON is named, not the last', async () => {
    await expect(scan('# BRAIN Mission System\n\nA system of services.\n\n{"a":1}\nThe end.\n')).rejects.toThrow(
      new Error('line 1 is not a JSON object (the first of 3 such lines, the last being line 6)'),
    );
  });

  it('given one line that is no JSON, then it alone is named', async () => {
    await expect(scan('not json\n')).rejects.toThrow(new Error('line 1 is not a JSON object'));
    await expect(scan('\n\n{"a":1}\n{"a":\n')).rejects.toThrow(new Error('line 4 is not a JSON object'));
  });
});
