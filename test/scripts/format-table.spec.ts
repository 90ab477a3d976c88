import { formatTable } from '../../scripts/format-table';

describe('formatTable: the one table of replay, the demo and the bench', () => {
  it('given aligns, then columns are padded to the widest cell, two spaces apart, and no line ends in spaces', () => {
    const table = formatTable(
      ['VER', 'TYPE', 'SUMMARY'],
      [
        ['1', 'MissionCreated', 'created'],
        ['12', 'MissionQueued', 'queued at normal'],
      ],
      { align: ['right'] },
    );
    expect(table.split('\n')).toEqual([
      'VER  TYPE            SUMMARY',
      '---  --------------  ----------------',
      '  1  MissionCreated  created',
      ' 12  MissionQueued   queued at normal',
    ]);
  });

  it('given a footer, then it is set off by a rule of its own and counts for the widths', () => {
    const table = formatTable(['type', 'total'], [['pricing', '3']], { align: ['left', 'right'], footer: ['all', '1234'] });
    expect(table.split('\n')).toEqual(['type     total', '-------  -----', 'pricing      3', '-------  -----', 'all       1234']);
  });

  it('given a cell holding control characters, then it cannot break its row', () => {
    const lines = formatTable(['DETAIL'], [['line\nbreak\u001b[2J']]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).not.toContain('\u001b');
  });
});
