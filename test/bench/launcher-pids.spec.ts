import { pidsFromLauncherLine } from '../../scripts/bench/rss';
import { benchServiceEnv } from '../../scripts/bench/system';

/**
 * What the bench takes from the launcher's lines, and what it hands the services: with ODOO_URL in
 * the caller's shell the launcher also started the Odoo connector, whose `Started` line came last
 * and gave its pid to all four services, so the bench measured the connector and reported one process.
 */
describe("the bench's services and their pids", () => {
  it('given a service line, then that service has the pid', () => {
    expect(pidsFromLauncherLine('launcher     | Started executor (pid 41)')).toEqual({ executor: 41 });
  });

  it('given the one process, then every service has its pid', () => {
    expect(pidsFromLauncherLine('launcher     | Started one-process (pid 7)')).toEqual({ intake: 7, orchestrator: 7, executor: 7, evaluator: 7 });
  });

  it("given the Odoo connector's line, then no service takes its pid", () => {
    expect(pidsFromLauncherLine('launcher     | Started connector-odoo (pid 9)')).toEqual({});
  });

  it("given ODOO_URL in the caller's shell, then the services the bench starts are not given it", () => {
    const saved = process.env.ODOO_URL;
    process.env.ODOO_URL = 'http://127.0.0.1:8069';
    try {
      const env = benchServiceEnv('redis://127.0.0.1:6379', 'bench:1:x:', {});
      expect(env.ODOO_URL).toBeUndefined();
      expect(env.KEY_PREFIX).toBe('bench:1:x:');
    } finally {
      if (saved === undefined) delete process.env.ODOO_URL;
      else process.env.ODOO_URL = saved;
    }
  });
});
