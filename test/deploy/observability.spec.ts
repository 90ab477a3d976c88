import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  annotations?: { summary?: string; description?: string };
}

function alertRules(): AlertRule[] {
  return (parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((group) => group.rules);
}

function alertExpressions(): [string, string][] {
  return alertRules().map((rule): [string, string] => [`alert ${rule.alert}`, rule.expr]);
}

/** Prometheus' own series of a scrape target, on which a rule may stand without any metric of the services. */
const SCRAPE_UP = /\bup\{job/;

/**
 * The names of the metrics the code defines: every `'brain_…'` string literal of apps/ and libs/
 * (a metric's name, given as `name:` or to a helper), the Odoo connector's included, which the
 * in-process system does not run.
 */
function definedMetricNames(): string[] {
  const names: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
        names.push(...[...read(file).matchAll(/'(brain_[a-z0-9_]+)'/g)].map(([, name]) => name));
    }
  };
  for (const dir of ['apps', 'libs']) visit(dir);
  return names;
}

/** The metrics named in the first column of the metrics table of docs/operations.md ("Health, readiness and metrics"). */
function metricsTableNames(): string[] {
  const docs = read('docs/operations.md');
  const table = docs.slice(docs.indexOf('| Metric | Type | Where | Meaning |')).split('\n\n')[0];
  return table.split('\n').flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`(brain_[a-z0-9_]+)`/g)].map(([, name]) => name));
}

function prometheusJobs(): string[] {
  return (parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((config) => config.job_name);
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
      expect.arrayContaining([
        'alert BrainRedisDown',
        'alert BrainServiceDown',
        'alert BrainMissionsStuck',
        'alert BrainStreamLagGrowing',
        'alert BrainPoisonMessages',
        'alert BrainDeadLetterQueueGrowing',
        'alert BrainWebhookDeliveriesDead',
      ]),
    );
  });

  it.each(expressions)('%s uses only metrics the services export', (_where, expr) => {
    const used = [...new Set(expr.match(METRIC) ?? [])];
    if (!SCRAPE_UP.test(expr)) expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('lists every brain_ metric of the code, and no other, in the metrics table of docs/operations.md', () => {
    const defined = new Set(definedMetricNames());
    const exportedHere = [...exported].filter((name) => name.startsWith('brain_') && !/_(bucket|sum|count)$/.test(name));
    expect(exportedHere.filter((name) => !defined.has(name))).toEqual([]);
    const listed = new Set(metricsTableNames());
    // The webhook metrics were only in "Webhooks", though the docs said the table had every one.
    expect([...defined].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('alerts on a lost Redis connection and on a scrape target down, for the jobs prometheus.yml scrapes', () => {
    const rules = alertRules();
    // While Redis is down the gauges read from it are missing, and the rules on them evaluate to nothing: no alert fired.
    expect(rules.filter((rule) => /^brain_redis_up == 0$/.test(rule.expr) && rule.for)).toHaveLength(1);
    const down = rules.find((rule) => SCRAPE_UP.test(rule.expr) && /== 0$/.test(rule.expr));
    expect(down?.for).toBeDefined();
    const jobs = /up\{job=~"([^"]+)"\}/.exec(down?.expr ?? '')?.[1].split('|');
    expect(jobs?.sort()).toEqual(prometheusJobs().sort());
    expect(dashboardExpressions().filter(([, expr]) => expr.includes('brain_redis_up'))).not.toEqual([]);
  });

  // A mission the lease passes over (its hash changed by hand) stays in ready-since, so the alert
  // fires about 20 minutes on; it said only to register or free agents, which no agent mends.
  it('has the ready backlog alert name the warn of a mission the lease passes over, and replay verify', () => {
    const description = alertRules().find((rule) => rule.alert === 'BrainReadyBacklogOverdue')?.annotations?.description ?? '';
    expect(description).toContain('"the dispatcher passes over mission …"');
    expect(description).toContain('run replay verify');
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
