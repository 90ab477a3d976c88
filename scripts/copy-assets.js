// tsc compiles only TypeScript; the Lua scripts and prompt templates must sit beside the compiled code.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const assets = ['libs/event-store/src/lua', 'libs/mission-queue/src/lua', 'libs/agents/src/lua', 'libs/audit/src/lua', 'libs/projections/src/lua', 'libs/llm/src/prompts', 'libs/evaluation/src/prompts'];
for (const dir of assets) {
  const from = path.join(root, dir);
  if (fs.existsSync(from)) fs.cpSync(from, path.join(root, 'dist', dir), { recursive: true });
}
