import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { copyAssets, findAssets } from '../../scripts/copy-assets';

describe('copying the assets beside the compiled code (scripts/copy-assets.js)', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'copy-assets-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('copies every non-TypeScript file under apps/*/src and libs/*/src, found by walking, to the same path under dist/', () => {
    write('libs/new-lib/src/lua/do-1.lua', 'return 1\n');
    write('libs/new-lib/src/lua/includes/shared.lua', '-- shared\n');
    write('libs/new-lib/src/templates/t.md', '# t\n');
    write('apps/some-app/src/data/table.json', '{}\n');
    write('libs/new-lib/src/index.ts', 'export {};\n');
    write('libs/new-lib/src/types.d.ts', 'export {};\n');
    write('libs/new-lib/package-notes.txt', 'outside src\n');
    write('scripts/helper.lua', 'outside the projects\n');

    const copied = copyAssets(root);

    expect(copied).toEqual([
      path.join('apps/some-app/src/data/table.json'),
      path.join('libs/new-lib/src/lua/do-1.lua'),
      path.join('libs/new-lib/src/lua/includes/shared.lua'),
      path.join('libs/new-lib/src/templates/t.md'),
    ]);
    expect(readFileSync(path.join(root, 'dist/libs/new-lib/src/lua/includes/shared.lua'), 'utf8')).toBe('-- shared\n');
    expect(readFileSync(path.join(root, 'dist/apps/some-app/src/data/table.json'), 'utf8')).toBe('{}\n');
  });

  it('copies the Lua scripts and prompts of this repository, including the shared Lua includes', () => {
    const repo = path.resolve(__dirname, '..', '..');

    expect(findAssets(repo)).toEqual(
      expect.arrayContaining([
        path.join('libs/event-store/src/lua/append-mission-events.lua'),
        path.join('libs/event-store/src/lua/includes/ready-membership.lua'),
        path.join('libs/mission-queue/src/lua/lease-ready-missions-8.lua'),
        path.join('libs/llm/src/prompts/pricing.md'),
      ]),
    );
  });
});
