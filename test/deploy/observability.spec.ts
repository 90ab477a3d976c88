import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { evaluatorService } from '../../apps/evaluator/src/evaluator.definition';
import { executorService } from '../../apps/executor/src/executor.definition';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { orchestratorService } from '../../apps/orchestrator/src/orchestrator.definition';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Metric names in a PromQL expression: every metric the services export starts with one of these. */
const METRIC = /\b(?:brain|process|nodejs)_[a-z0-9_]+\b/g;

interface Panel {
  title?: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of the dashboard's panels (and of panels inside rows), with where it is. */
function dashboardExpressions(): [string, string][] {
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/brain-mission-system.json')) as { panels: Panel[] };
  const all: [string, string][] = [];
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) all.push([`panel "${panel.title}"`, target.expr]);
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  return all;
}

function alertExpressions(): [string, string][] {
  const rules = parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((group) => group.rules.map((rule): [string, string] => [`alert ${rule.alert}`, rule.expr]));
}

/** The series names a /metrics text exports: a histogram's _bucket, _sum and _count, the rest as typed. */
function exportedNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
    type === 'histogram' || type === 'summary' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  );
}

describe('the dashboards and alert rules under deploy/', () => {
  let system: InProcessSystem;
  const exported = new Set<string>();

  beforeAll(async () => {
    system = await startInProcessSystem('observability');
    for (const app of system.apps) {
      const response = await request(app.getHttpServer()).get('/metrics').expect(200);
      for (const name of exportedNames(response.text)) exported.add(name);
    }
  });

  afterAll(async () => {
    await system?.close();
  });

  const expressions = [...dashboardExpressions(), ...alertExpressions()];

  it('finds the panels and the alerts', () => {
    expect(dashboardExpressions().length).toBeGreaterThan(20);
    expect(alertExpressions().map(([where]) => where)).toEqual(
      expect.arrayContaining(['alert BrainMissionsStuck', 'alert BrainStreamLagGrowing', 'alert BrainPoisonMessages', 'alert BrainDeadLetterQueueGrowing']),
    );
  });

  it.each(expressions)('%s uses only metrics the services export', (_where, expr) => {
    const used = [...new Set(expr.match(METRIC) ?? [])];
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('documents every brain_ metric the services export in docs/operations.md', () => {
    const documented = read('docs/operations.md');
    const undocumented = [...exported].filter(
      (name) => name.startsWith('brain_') && !/_(bucket|sum|count)$/.test(name) && !new RegExp(`\`${name}[\`{]`).test(documented),
    );
    expect(undocumented).toEqual([]);
  });

  it('has Prometheus scrape every service on the port compose gives it, and load the alert rules', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; volumes?: string[]; profiles?: string[] }>;
    };
    for (const service of [intakeService, orchestratorService, executorService, evaluatorService]) {
      const job = prometheus.scrape_configs.find((config) => config.job_name === service.name);
      expect(job?.dns_sd_configs).toEqual([expect.objectContaining({ names: [service.name], port: Number(compose.services[service.name].environment?.PORT) })]);
    }
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    for (const name of ['prometheus', 'grafana', 'jaeger']) expect(compose.services[name].profiles).toEqual(['observability']);
    const mounted = Object.values(compose.services).flatMap((service) => (service.volumes ?? []).filter((volume) => volume.startsWith('./')));
    expect(mounted.map((volume) => volume.split(':')[0]).filter((source) => !existsSync(path.join(ROOT, source)))).toEqual([]);
    expect(mounted).toEqual(expect.arrayContaining(['./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro']));
  });
});
