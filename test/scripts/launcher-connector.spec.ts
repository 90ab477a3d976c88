import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES } from '@app/messages';
import { redisUrl, waitFor } from '@app/testing';
import { CONNECTOR_ODOO, launchSystem } from '../../scripts/launcher';

/** A stand-in for a built service: says which PORT it got and waits for SIGTERM. */
const STAND_IN = "console.log('port ' + process.env.PORT); process.on('SIGTERM', () => process.exit(0)); setInterval(() => undefined, 1000);";

describe('the launcher and the Odoo connector', () => {
  const rootDir = mkdtempSync(join(tmpdir(), 'launcher-connector-'));
  for (const name of [...SERVICE_NAMES, CONNECTOR_ODOO]) {
    mkdirSync(join(rootDir, 'dist', 'apps', name, 'src'), { recursive: true });
    writeFileSync(join(rootDir, 'dist', 'apps', name, 'src', 'main.js'), STAND_IN);
  }

  const launch = async (env: NodeJS.ProcessEnv) => {
    const lines: string[] = [];
    const output = { write: (line: string) => lines.push(line) !== 0 } as unknown as NodeJS.WritableStream;
    const system = await launchSystem({
      services: [...SERVICE_NAMES],
      env: { REDIS_URL: redisUrl(), ...env },
      dataDir: join(rootDir, '.data'),
      log: () => undefined,
      output,
      color: false,
      rootDir,
    });
    return { system, lines };
  };

  it('given ODOO_URL, then the connector starts beside the four services, on the port after theirs', async () => {
    const { system, lines } = await launch({ ODOO_URL: 'http://127.0.0.1:8069' });
    try {
      await waitFor(async () => lines.filter((line) => line.includes('port ')).length === 5, { timeoutMs: 10_000, what: 'five processes to start' });
      expect(lines.find((line) => line.startsWith(CONNECTOR_ODOO))).toContain('port 3004');
    } finally {
      await system.stop();
    }
  });

  it('given no ODOO_URL, then only the four services start', async () => {
    const { system, lines } = await launch({});
    try {
      await waitFor(async () => lines.filter((line) => line.includes('port ')).length === 4, { timeoutMs: 10_000, what: 'four processes to start' });
      expect(lines.some((line) => line.startsWith(CONNECTOR_ODOO))).toBe(false);
    } finally {
      await system.stop();
    }
  });
});
