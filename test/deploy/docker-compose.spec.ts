import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { environmentVariableNames } from '@app/config';
import { SERVICE_NAMES } from '@app/messages';

const ROOT = path.resolve(__dirname, '..', '..');
/** The four services, and the Odoo connector (a service of its own, under the `odoo` profile). */
const SERVICES = [...SERVICE_NAMES, 'connector-odoo'];

/**
 * Left out of compose on purpose: compose runs one Redis server, for which one log partition and
 * no cluster seeds are right (docs/operations.md, "Running with Docker Compose").
 */
const NOT_IN_COMPOSE = new Set(['REDIS_CLUSTER_NODES', 'LOG_PARTITIONS']);

/** The files a service's main.ts reaches through relative and `@app/<lib>` imports (specs and packages aside). */
function reachableFiles(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s+'([^']+)'/g)) {
      const resolved = resolveImport(file, specifier);
      if (resolved) pending.push(resolved);
    }
  }
  return seen;
}

function resolveImport(from: string, specifier: string): string | undefined {
  const lib = /^@app\/([a-z-]+)$/.exec(specifier);
  const base = lib ? path.join(ROOT, 'libs', lib[1], 'src', 'index') : specifier.startsWith('.') ? path.resolve(path.dirname(from), specifier) : undefined;
  if (!base) return undefined;
  return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

/**
 * The Environment variables a service's code uses (`env.NAME`). libs/config is left out: it
 * validates every variable in every service, but uses none of them.
 */
function variablesRead(service: string): string[] {
  const known = new Set(environmentVariableNames());
  const configDir = path.join(ROOT, 'libs', 'config') + path.sep;
  const names = new Set<string>();
  for (const file of reachableFiles(path.join(ROOT, 'apps', service, 'src', 'main.ts'))) {
    if (file.startsWith(configDir)) continue;
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/\b(?:env|target)\.([A-Z][A-Z0-9_]*)\b/g)) {
      if (known.has(name)) names.add(name);
    }
  }
  return [...names].sort();
}

interface ComposeService {
  environment?: Record<string, string>;
}

describe('docker-compose.yml', () => {
  // merge: true resolves the `<<: *common-env` keys the way compose does.
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

  it.each(SERVICES)('gives %s every variable its code reads', (service) => {
    const given = new Set(Object.keys(compose.services[service]?.environment ?? {}));
    const missing = variablesRead(service).filter((name) => !given.has(name) && !NOT_IN_COMPOSE.has(name));
    expect(missing).toEqual([]);
  });

  it('passes every variable of the configuration to some service, but for those left out on purpose', () => {
    // libs/config reads some itself for every service (the master key's files), which the scan above cannot see.
    const given = new Set(Object.values(compose.services).flatMap((service) => Object.keys(service.environment ?? {})));
    expect(environmentVariableNames().filter((name) => !given.has(name) && !NOT_IN_COMPOSE.has(name))).toEqual([]);
  });

  it('finds what each service reads (the scan above sees the code)', () => {
    expect(variablesRead('executor')).toEqual(expect.arrayContaining(['LLM_PROVIDER', 'SHUTDOWN_GRACE_MS', 'EXECUTION_TIMEOUT_MS_PRICING']));
    expect(variablesRead('evaluator')).toEqual(expect.arrayContaining(['JUDGE', 'LLM_PROVIDER', 'LLM_API_KEY']));
    expect(variablesRead('intake')).toEqual(expect.arrayContaining(['API_KEYS', 'PORT', 'REDIS_URL']));
    expect(variablesRead('intake')).not.toContain('LLM_API_KEY');
  });

  it('passes no variable that no service reads, so a typo shows up', () => {
    const known = new Set(environmentVariableNames());
    for (const service of SERVICES) {
      const unknown = Object.keys(compose.services[service]?.environment ?? {}).filter((name) => !known.has(name));
      expect({ service, unknown }).toEqual({ service, unknown: [] });
    }
  });
});
