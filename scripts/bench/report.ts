import { SERVICE_NAMES } from '@app/messages';
import { formatTable } from '../format-table';
import type { BenchReport } from './run-bench';
import type { Distribution } from './stats';

/** The targets of docs/performance.md § 2: ratios against the peers measured in the same run, and two absolute bounds. */
export const TARGETS = {
  missionsVsBullmq: 2,
  p99VsBullmq: 0.5,
  httpVsBare: 0.5,
  rebuildVsRawRead: 0.8,
  bytesPerMission: 4_096,
  rssMb: { split: 150, 'one-process': 250 },
};

type Row = string[];

/** Figures right-aligned; the first column (and with `textLast` the last) is text, left-aligned. */
function figureTable(header: Row, rows: Row[], textLast = false): string {
  return formatTable(header, rows, { align: header.map((_, column) => (column === 0 || (textLast && column === header.length - 1) ? 'left' : 'right')) });
}

const int = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? '-' : Math.round(value).toLocaleString('en-US');
const dec = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
/** A ratio as the JSON line has it (three significant digits, ratioOf), not cut to two decimals. */
const ratio = (value: number | null | undefined) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : String(value));

function verdict(value: number | null, target: number, higherIsBetter: boolean): string {
  if (value === null) return 'n/a';
  return (higherIsBetter ? value >= target : value <= target) ? 'met' : 'MISSED';
}

/** The headline table: each figure of the JSON line, its peer, the ratio and the target. */
export function headlineRows(report: BenchReport): Row[] {
  const { summary: s } = report;
  const p = s.peers;
  const r = s.ratios;
  const rssTarget = TARGETS.rssMb[s.mode];
  const rssMax = Math.max(...SERVICE_NAMES.map((service) => s.rss_mb[service] ?? -Infinity));
  const rssWorst = Number.isFinite(rssMax) ? rssMax : null;
  const submitP99 = report.latency?.submitToPassed.p99;
  return [
    [
      'missions/s (submit → succeeded)',
      int(s.missions_per_s),
      int(p.bullmq.missions_per_s),
      ratio(r.missions_per_s_vs_bullmq),
      `≥ ${TARGETS.missionsVsBullmq}×`,
      verdict(r.missions_per_s_vs_bullmq, TARGETS.missionsVsBullmq, true),
      'peer: BullMQ 3-stage pipeline',
    ],
    [
      'latency p50 / p95 / p99 ms',
      `${int(s.latency_ms.p50)} / ${int(s.latency_ms.p95)} / ${int(s.latency_ms.p99)}`,
      '',
      '',
      '',
      '',
      report.latency ? `created → passed at ${report.latency.offeredRate}/s` : (report.skipped.latency ?? ''),
    ],
    [
      'latency p99 ms, submit → done',
      int(submitP99),
      int(p.bullmq.p99_ms),
      ratio(r.p99_vs_bullmq),
      `≤ ${TARGETS.p99VsBullmq}×`,
      verdict(r.p99_vs_bullmq, TARGETS.p99VsBullmq, false),
      "both from the submitter's clock",
    ],
    [
      'HTTP creates/s',
      int(s.http_creates_per_s),
      int(p.bare_http.creates_per_s),
      ratio(r.http_vs_bare),
      `≥ ${TARGETS.httpVsBare}×`,
      verdict(r.http_vs_bare, TARGETS.httpVsBare, true),
      'peer: node:http + JSON.parse + XADD',
    ],
    ['HTTP p99 ms', int(s.http_p99_ms), int(p.bare_http.p99_ms), '', '', '', 'autocannon latency.p99'],
    [
      'rebuild events/s',
      int(s.rebuild_events_per_s),
      int(p.raw_read.events_per_s),
      ratio(r.rebuild_vs_raw_read),
      `≥ ${TARGETS.rebuildVsRawRead}×`,
      verdict(r.rebuild_vs_raw_read, TARGETS.rebuildVsRawRead, true),
      'peer: XRANGE + JSON.parse of the same log',
    ],
    ['verify events/s', int(s.verify_events_per_s), '', '', '', '', ''],
    [
      'Redis bytes / finished mission',
      int(s.redis_bytes_per_mission),
      int(p.bullmq.redis_bytes_per_mission),
      '',
      `≤ ${int(TARGETS.bytesPerMission)}`,
      verdict(s.redis_bytes_per_mission, TARGETS.bytesPerMission, false),
      'peer: BullMQ jobs, no history',
    ],
    [
      'Redis CPU ms / mission (throughput)',
      dec(s.redis_cpu_ms_per_mission, 3),
      dec(p.bullmq.redis_cpu_ms_per_mission, 3),
      '',
      '',
      '',
      'INFO cpu; the server may be shared',
    ],
    [
      'services CPU ms / mission (throughput)',
      dec(s.services_cpu_ms_per_mission, 3),
      '',
      '',
      '',
      '',
      (report.servicesCpuMsPerMission?.byProcess ?? [])
        .map(({ services, ms }) => `${services.length > 1 ? 'one process' : services[0]} ${dec(ms, 3)}`)
        .join(', '),
    ],
    ['guest-data CPU ms / mission (direct)', dec(s.guest_data_cpu_ms_per_mission, 3), '', '', '', '', guestDataDetail(report)],
    [
      `peak RSS MB (worst, ${s.mode})`,
      dec(rssWorst),
      '',
      '',
      `≤ ${rssTarget}`,
      verdict(rssWorst, rssTarget, false),
      SERVICE_NAMES.map((service) => `${service} ${dec(s.rss_mb[service])}`).join(', '),
    ],
  ];
}

/** By service, and as a share of the services' CPU per mission: the sealing and opening alone, not the longer state every hop carries. */
function guestDataDetail(report: BenchReport): string {
  const cost = report.guestData;
  if (!cost) return '';
  const { intake, executor, evaluator, total } = cost.msPerMission;
  const services = report.summary.services_cpu_ms_per_mission;
  const share = services ? `, ${dec((total / services) * 100, 1)} % of the services' CPU` : '';
  return `intake ${dec(intake, 3)}, executor ${dec(executor, 3)}, evaluator ${dec(evaluator, 3)}; ${cost.withSubjects} of ${cost.missions} with a subject${share}`;
}

function distributionRow(label: string, d: Distribution): Row {
  return [label, int(d.count), int(d.min), int(d.p50), int(d.p95), int(d.p99), int(d.max), dec(d.mean)];
}

/** Everything the bench measured, as text for the terminal (and for docs/performance.md). */
export function formatReport(report: BenchReport): string {
  const { machine, options } = report;
  const out: string[] = [
    `BRAIN Mission System bench — ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, Redis ${machine.redis}; mode ${report.mode}; guest data ${report.guestDataSwitch}; ` +
      `mock LLM latency ${options.llmLatencyMs} ms; KEY_PREFIX ${report.keyPrefix}; load average ${machine.loadStart.map((l) => l.toFixed(1)).join('/')}; ${(report.totalMs / 1000).toFixed(0)} s in all`,
  ];
  if (report.revision) out.push(`Code: ${report.revision}`);
  if (report.agents) {
    const a = report.agents;
    out.push(
      `Agents: ${a.agents} with ${a.slots} slots${a.scaledFrom !== undefined ? ` (capacities × ${a.scale} from ${a.scaledFrom}, --agent-capacity-scale)` : ' (as seeded)'}`,
    );
  }
  out.push('', figureTable(['figure', 'system', 'peer', 'ratio', 'target', '', 'how'], headlineRows(report), true));

  const t = report.throughput;
  if (t) {
    out.push(
      '',
      `Throughput: ${int(t.missions)} missions handed over with MissionClient.createMany (batches of ${options.submitBatch}) in ${int(t.submitMs)} ms; all finished after ${int(t.wallMs)} ms; ` +
        `${int(t.succeeded)} succeeded, ${int(t.deadLettered)} dead-lettered; ${int(t.events)} events.`,
    );
  }
  const rows: Row[] = [];
  if (report.latency) {
    rows.push(distributionRow(`created → passed @ ${report.latency.offeredRate}/s`, report.latency.createdToPassed));
    rows.push(distributionRow(`submit → passed @ ${report.latency.offeredRate}/s`, report.latency.submitToPassed));
  }
  if (report.peers.bullmqLatency) rows.push(distributionRow(`BullMQ submit → done @ ${options.rate}/s`, report.peers.bullmqLatency.latency));
  if (t) rows.push(distributionRow(`created → passed, flood of ${int(t.missions)}`, t.createdToPassed));
  if (report.peers.bullmqThroughput)
    rows.push(distributionRow(`BullMQ submit → done, flood of ${int(options.missions)}`, report.peers.bullmqThroughput.latency));
  if (rows.length > 0) out.push('', figureTable(['latency ms', 'missions', 'min', 'p50', 'p95', 'p99', 'max', 'mean'], rows));
  if (report.latency) {
    const l = report.latency;
    out.push(
      `Offered ${l.offeredRate}/s, achieved ${dec(l.achievedRate)}/s (worst lag ${int(l.maxScheduleLagMs)} ms); finished at ${dec(l.missionsPerSecond)}/s; ${int(l.succeeded)} of ${int(l.missions)} succeeded.`,
    );
  }
  for (const [label, h] of [
    ['HTTP', report.http],
    ['Bare HTTP peer', report.peers.bareHttp],
  ] as const) {
    if (!h) continue;
    out.push(
      `${label}: ${int(h.ok2xx)} 2xx in ${dec(h.seconds)} s = ${int(h.createsPerSecond)}/s on ${h.connections} connections; p50 ${dec(h.p50Ms, 0)} ms, p99 ${dec(h.p99Ms, 0)} ms, max ${dec(h.maxMs, 0)} ms; ` +
        `non-2xx ${int(h.non2xx)}, errors ${int(h.errors)}, timeouts ${int(h.timeouts)}.`,
    );
  }
  if (report.drain) out.push(`Drain: the ${int(report.drain.missions)} HTTP missions finished ${int(report.drain.ms)} ms after autocannon stopped.`);
  const f = report.footprint;
  if (f) {
    out.push(
      '',
      figureTable(
        ['Redis bytes per finished mission', 'bytes'],
        [
          ['mission hash', int(f.missionHashBytes)],
          ['event list (log ids)', int(f.eventListBytes)],
          [`log stream share (${int(f.logBytes)} B / ${int(f.missions)})`, int(f.logShareBytes)],
          ['service streams share', int(f.streamShareBytes)],
          ['idempotency keys share', int(f.idempotencyShareBytes)],
          [`other keys share (${f.otherKeys} keys)`, int(f.otherShareBytes)],
          ['total', int(f.bytesPerMission)],
        ],
      ),
    );
  }
  if (report.rss) {
    const rss = report.rss;
    out.push(
      '',
      figureTable(
        ['service', 'pid', 'RSS idle MB', 'peak RSS MB (VmHWM)'],
        SERVICE_NAMES.map((s) => [s, String(rss.pids[s] ?? '-'), dec(rss.idleMb[s]), dec(rss.peakMb[s])]),
      ),
    );
  }
  const replays = (
    [
      ['run log', report.replayRun],
      ['synthetic log', report.replaySynthetic],
    ] as const
  ).filter(([, r]) => r !== undefined);
  if (replays.length > 0) {
    out.push(
      '',
      figureTable(
        ['replay', 'events', 'missions', 'rebuild ms', 'rebuild ev/s', 'verify ms', 'verify ev/s', 'verify'],
        replays.map(([label, r]) => [
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
    for (const [label, r] of replays) if (r?.rebuildTimings) out.push(`rebuild phases (${label}), ms: ${JSON.stringify(r.rebuildTimings)}`);
  }
  if (report.syntheticLog) {
    const s = report.syntheticLog;
    out.push(`Synthetic log: ${int(s.events)} events of ${int(s.missions)} missions written in ${int(s.writeMs)} ms (scripts/bench/synthetic-log.ts).`);
  }
  if (report.peers.rawRead) out.push(`Raw read peer: ${int(report.peers.rawRead.events)} events at ${int(report.peers.rawRead.eventsPerSecond)}/s.`);
  const skipped = Object.entries(report.skipped);
  if (skipped.length > 0) out.push('', ...skipped.map(([phase, reason]) => `${phase}: ${reason}`));
  if (report.notes.length > 0) out.push('', ...report.notes.map((note) => `Note: ${note}`));
  return out.join('\n');
}
