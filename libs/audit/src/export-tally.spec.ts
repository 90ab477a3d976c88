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

  // A backup cut short within a line read as a corrupt one: `line 3 is not a JSON object`.
  it('given a file whose last line is cut off without its line feed, then it is said to be cut short, naming that line', async () => {
    const cutShort = new Error("line 3 is the file's last and ends mid-line: the file was cut short (an interrupted export or a full disk)");
    await expect(scan('{"a":1}\n\n{"a":')).rejects.toThrow(cutShort);
    // Cut within a character: the bytes of "é" split across the file's last two reads, the second cut.
    await expect(scanExport(Readable.from([Buffer.from('{"a":1}\n\n{"a":"caf'), Buffer.from([0xc3])]), new KeyLayout('scan-spec:'))).rejects.toThrow(cutShort);
  });

  it('given a file that holds other lines that are no JSON, and ends mid-line, then it is no export, named as such', async () => {
    await expect(scan('# notes\n{"a":1}\nThe end')).rejects.toThrow(
      new Error('line 1 is not a JSON object (the first of 2 such lines, the last being line 3)'),
    );
  });
});
