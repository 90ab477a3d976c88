import type { BenchReport, BenchSummary } from './run-bench';
import { SERVICES } from './rss';
import type { Distribution } from './stats';

/** The targets of docs/performance.md (2-core machine, everything on it). */
export const TARGETS = {
  missionsPerSecond: 8_000,
  latencyP99Ms: 25,
  httpCreatesPerSecond: 10_000,
  rebuildEventsPerSecond: 150_000,
  bytesPerMission: 4_096,
  rssMb: 150,
};

type Row = string[];

export function formatTable(header: Row, rows: Row[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const cell = (value: string, column: number) => (column === 0 ? value.padEnd(widths[column]) : value.padStart(widths[column]));
  const line = (row: Row) => row.map((value, column) => cell(value ?? '', column)).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const int = (value: number | null | undefined) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : Math.round(value).toLocaleString('en-US'));
const dec = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);

function verdict(value: number | null, target: number, higherIsBetter: boolean): string {
  if (value === null) return 'n/a';
  return (higherIsBetter ? value >= target : value <= target) ? 'met' : 'MISSED';
}

/** The headline table: each figure of the JSON line against its target. */
export function headlineRows(summary: BenchSummary, report: BenchReport): Row[] {
  const rssMax = Math.max(...SERVICES.map((service) => summary.rss_mb[service] ?? -Infinity));
  const rssWorst = Number.isFinite(rssMax) ? rssMax : null;
  const replaySource = report.replaySynthetic ? `synthetic log, ${int(report.replaySynthetic.events)} events` : report.replayRun ? `run log, ${int(report.replayRun.events)} events` : report.skipped.replay ?? '';
  return [
    ['missions/s (submit → succeeded)', int(summary.missions_per_s), `≥ ${int(TARGETS.missionsPerSecond)}`, verdict(summary.missions_per_s, TARGETS.missionsPerSecond, true), report.throughput ? `${int(report.throughput.succeeded)} missions in ${int(report.throughput.windowMs)} ms` : report.skipped.throughput ?? ''],
    ['latency p50 ms', int(summary.latency_ms.p50), '', '', report.latency ? `at ${report.latency.offeredRate}/s for ${report.options.duration} s` : report.skipped.latency ?? ''],
    ['latency p95 ms', int(summary.latency_ms.p95), '', '', ''],
    ['latency p99 ms', int(summary.latency_ms.p99), `≤ ${TARGETS.latencyP99Ms}`, verdict(summary.latency_ms.p99, TARGETS.latencyP99Ms, false), 'MissionCreated.at → passing MissionEvaluated.at, ms resolution'],
    ['HTTP creates/s', int(summary.http_creates_per_s), `≥ ${int(TARGETS.httpCreatesPerSecond)}`, verdict(summary.http_creates_per_s, TARGETS.httpCreatesPerSecond, true), report.http ? `${report.http.connections} connections, ${dec(report.http.seconds, 0)} s, ${int(report.http.non2xx)} non-2xx` : report.skipped.http ?? ''],
    ['HTTP p99 ms', dec(summary.http_p99_ms, 0), '', '', 'autocannon latency.p99'],
    ['rebuild events/s', int(summary.rebuild_events_per_s), `≥ ${int(TARGETS.rebuildEventsPerSecond)}`, verdict(summary.rebuild_events_per_s, TARGETS.rebuildEventsPerSecond, true), replaySource],
    ['verify events/s', int(summary.verify_events_per_s), '', '', replaySource],
    ['Redis bytes / finished mission', int(summary.redis_bytes_per_mission), `≤ ${int(TARGETS.bytesPerMission)}`, verdict(summary.redis_bytes_per_mission, TARGETS.bytesPerMission, false), report.footprint ? `${report.footprint.sampled} sampled of ${int(report.footprint.missions)} missions` : report.skipped.footprint ?? ''],
    ['peak RSS MB (worst service)', dec(rssWorst), `≤ ${TARGETS.rssMb}`, verdict(rssWorst, TARGETS.rssMb, false), SERVICES.map((s) => `${s} ${dec(summary.rss_mb[s])}`).join(', ')],
  ];
}

function distributionRow(label: string, d: Distribution): Row {
  return [label, int(d.count), int(d.min), int(d.p50), int(d.p95), int(d.p99), int(d.max), dec(d.mean)];
}

/** Everything the bench measured, as text for the terminal (and for docs/performance.md). */
export function formatReport(report: BenchReport): string {
  const { summary, machine, options } = report;
  const out: string[] = [];
  out.push(
    `BRAIN Mission System bench — ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, Redis ${machine.redis}; ` +
      `mock LLM latency ${options.llmLatencyMs} ms; KEY_PREFIX ${report.keyPrefix}; ${(report.totalMs / 1000).toFixed(0)} s in all`,
  );
  if (report.revision) out.push(`Code: ${report.revision}`);
  if (report.agents) {
    const a = report.agents;
    out.push(
      `Agents: ${a.agents} with ${a.slots} slots in all` +
        (a.scaledFrom !== undefined ? ` (capacities × ${a.scale} from ${a.scaledFrom} slots, --agent-capacity-scale)` : ' (as seeded from fixtures/agents.json)'),
    );
  }
  out.push('');
  out.push(formatTable(['figure', 'value', 'target', '', 'how'], headlineRows(summary, report)));

  if (report.throughput) {
    const t = report.throughput;
    out.push('');
    out.push(
      `Throughput: ${int(t.missions)} missions submitted with MissionClient.createMany (batches of ${options.submitBatch}) in ${int(t.submitMs)} ms ` +
        `(${int((t.missions / Math.max(1, t.submitMs)) * 1000)}/s handed over); all finished after ${int(t.wallMs)} ms wall; ` +
        `${int(t.succeeded)} succeeded, ${int(t.deadLettered)} dead-lettered; ${int(t.events)} events.`,
    );
  }
  const throughputCpu = report.cpu.throughput;
  const throughput = report.throughput;
  if (throughput && throughputCpu) {
    const perMission = (cores: number | undefined) => (cores === undefined ? '-' : ((cores * throughputCpu.seconds * 1000) / throughput.missions).toFixed(2));
    const names = ['intake', 'orchestrator', 'executor', 'evaluator', 'redis'];
    const total = names.reduce((sum, name) => sum + (throughputCpu.processes[name] ?? 0), 0);
    out.push(
      `CPU per mission in the throughput phase (ms): ${names.map((name) => `${name} ${perMission(throughputCpu.processes[name])}`).join(', ')}; ` +
        `together ${perMission(total)} (8,000 missions/s on ${throughputCpu.cpus} cores allows ${((throughputCpu.cpus * 1000) / 8000).toFixed(2)}).`,
    );
  }
  if (report.latency || report.throughput) {
    out.push('');
    const rows: Row[] = [];
    if (report.latency) {
      rows.push(distributionRow(`created → passed @ ${report.latency.offeredRate}/s`, report.latency.createdToPassed));
      rows.push(distributionRow(`submit → passed @ ${report.latency.offeredRate}/s`, report.latency.submitToPassed));
    }
    if (report.throughput) rows.push(distributionRow(`created → passed, flood of ${int(report.throughput.missions)}`, report.throughput.createdToPassed));
    out.push(formatTable(['latency ms', 'missions', 'min', 'p50', 'p95', 'p99', 'max', 'mean'], rows));
    if (report.latency) {
      out.push(
        `Offered ${report.latency.offeredRate}/s, achieved ${dec(report.latency.achievedRate)}/s (ticks of ${report.latency.tickMs} ms, worst lag ${int(report.latency.maxScheduleLagMs)} ms); ` +
          `finished at ${dec(report.latency.completedRate)}/s; ` +
          `${int(report.latency.succeeded)} of ${int(report.latency.missions)} succeeded. "submit" is the bench's clock before createMany: it adds the wait in the intake stream.`,
      );
    }
  }
  if (report.http) {
    const h = report.http;
    out.push('');
    out.push(
      `HTTP: ${int(h.ok2xx)} 2xx (${int(h.created201)} × 201) in ${dec(h.seconds, 1)} s = ${int(h.createsPerSecond)} creates/s; autocannon mean ${int(h.requestsPerSecond)} req/s; ` +
        `latency p50 ${dec(h.p50Ms, 0)} ms, p99 ${dec(h.p99Ms, 0)} ms, max ${dec(h.maxMs, 0)} ms; non-2xx ${int(h.non2xx)}, errors ${int(h.errors)}, timeouts ${int(h.timeouts)}; ` +
        `status codes ${JSON.stringify(h.statusCodes)}.`,
    );
    if (report.drain) out.push(`Drain: the ${int(report.drain.missions)} HTTP missions finished ${int(report.drain.ms)} ms after autocannon stopped.`);
  }
  if (report.footprint) {
    const f = report.footprint;
    out.push('');
    out.push(
      formatTable(
        ['Redis bytes per finished mission', 'bytes'],
        [
          ['mission hash (v, st, s, h, rs)', int(f.missionHashBytes)],
          ['event list (log ids)', int(f.eventListBytes)],
          [`log stream share (${int(f.logBytes)} B / ${int(f.missions)})`, int(f.logShareBytes)],
          ['service streams share', int(f.streamShareBytes)],
          ['idempotency keys share', int(f.idempotencyShareBytes)],
          [`other keys share (${f.otherKeys} keys)`, int(f.otherShareBytes)],
          ['total', int(f.bytesPerMission)],
        ],
      ),
    );
    out.push(`Service streams: ${Object.entries(f.streams).map(([name, bytes]) => `${name} ${int(bytes)} B`).join(', ')}`);
  }
  if (report.rss) {
    const r = report.rss;
    out.push('');
    out.push(
      formatTable(
        ['service', 'pid', 'RSS idle MB', 'peak RSS MB (VmHWM)', 'RSS now MB', 'max sampled MB', 'peak heap total MB', 'peak heap used MB', 'peak external MB'],
        SERVICES.map((s) => [
          s,
          r.pids[s] !== undefined ? String(r.pids[s]) : '-',
          dec(r.idleMb[s]),
          dec(r.peakMb[s]),
          dec(r.currentMb[s]),
          dec(r.sampledMaxMb[s]),
          dec(r.heapPeak[s]?.heapTotalMb),
          dec(r.heapPeak[s]?.heapUsedMb),
          dec(r.heapPeak[s]?.externalMb),
        ]),
      ),
    );
  }
  const replays = [
    ['run log', report.replayRun],
    ['synthetic log', report.replaySynthetic],
  ] as const;
  if (report.replayRun || report.replaySynthetic) {
    out.push('');
    out.push(
      formatTable(
        ['replay', 'events', 'missions', 'rebuild ms', 'rebuild ev/s', 'verify ms', 'verify ev/s', 'verify'],
        replays
          .filter(([, r]) => r !== undefined)
          .map(([label, r]) => [
            label,
            int(r?.events),
            int(r?.missions),
            int(r?.rebuildMs),
            int(r?.rebuildEventsPerSecond),
            int(r?.verifyMs),
            int(r?.verifyEventsPerSecond),
            r?.verifyOk ? 'ok' : `${r?.findings} finding(s)`,
          ]),
      ),
    );
    for (const [label, r] of replays) {
      if (r?.rebuildTimings) out.push(`rebuild phases (${label}), ms: ${JSON.stringify(r.rebuildTimings)}`);
    }
    if (report.syntheticLog) {
      const s = report.syntheticLog;
      if (s.writer === 'append') {
        out.push(`Synthetic log: ${int(s.events)} events of ${int(s.missions)} missions written through MissionStore.append in ${int(s.writeMs)} ms (${int(s.eventsPerSecond)} events/s).`);
      } else {
        out.push(`Synthetic log: ${int(s.events)} events of ${int(s.missions)} missions written by scripts/make-audit-log (${int(s.eventsPerSecond)} events/s); its own report:`);
        for (const line of s.toolReport ?? []) out.push(`  ${line}`);
      }
    }
  }
  const phases = Object.entries(report.cpu);
  if (phases.length > 0) {
    const names = ['intake', 'orchestrator', 'executor', 'evaluator', 'redis', 'bench'];
    out.push('');
    out.push(
      formatTable(
        ['CPU (cores busy)', 's', 'machine', ...names, 'others'],
        phases.filter(([, use]) => use.seconds >= 0.5).map(([phase, use]) => [
          phase,
          dec(use.seconds),
          use.machineBusy === null ? '-' : `${use.machineBusy.toFixed(2)}/${use.cpus}`,
          ...names.map((name) => dec(use.processes[name], 2)),
          dec(use.others, 2),
        ]),
      ),
    );
  }
  const skipped = Object.entries(report.skipped);
  if (skipped.length > 0) {
    out.push('');
    for (const [phase, reason] of skipped) out.push(`${phase}: ${reason}`);
  }
  if (report.notes.length > 0) {
    out.push('');
    for (const note of report.notes) out.push(`Note: ${note}`);
  }
  return out.join('\n');
}
