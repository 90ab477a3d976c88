/**
 * Summarises .cpuprofile files (from `bench --cpu-prof <dir>` or `node --cpu-prof`): where the
 * time went, by self time per function, per package/file, and inclusive time per function.
 *
 *   node dist/scripts/bench/profile-summary.js /tmp/prof/*.cpuprofile [--top 25] [--focus functionName] [--from-ms N]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not idle: everything but (idle). */
  busyMs: number;
  selfByFunction: [string, number][];
  selfByGroup: [string, number][];
  inclusiveByFunction: [string, number][];
}

/** Which package, Node internal or app file a frame belongs to. */
export function groupOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  const path = dist >= 0 ? url.slice(dist + 6) : url.replace(/^file:\/\//, '');
  return path.replace(/\.js$/, '');
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const group = groupOf(frame);
  const file = basename(frame.url);
  return `${name}  ${group.includes(file.replace(/\.js$/, '')) ? group : `${group}/${file}`}:${frame.lineNumber + 1}`;
}

/**
 * `focus`: only samples with a frame of that function name on their stack (e.g. `verifyLog`), to
 * see where one operation's time goes. Async functions count only up to their first await there
 * (later parts run from the microtask queue), so focus on the synchronous workers too.
 */
export function summarise(file: string, top = 25, focus?: string, fromMs = 0): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const focused = new Map<number, boolean>();
  const inFocus = (id: number): boolean => {
    if (!focus) return true;
    const known = focused.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)?.callFrame;
    const parent = parentOf.get(id);
    const result = frame?.functionName === focus || (parent !== undefined && inFocus(parent));
    focused.set(id, result);
    return result;
  };
  const selfUs = new Map<number, number>();
  // Each sample stands for the time until the next one (as DevTools attributes it).
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    // `fromMs` leaves out the start (module loading, Nest bootstrap) to look at steady state.
    if (at < fromMs * 1000) continue;
    if (!inFocus(profile.samples[i])) continue;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + Math.max(0, delta));
  }
  const selfByFunction = new Map<string, number>();
  const selfByGroup = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    add(selfByFunction, functionKey(frame), us);
    add(selfByGroup, groupOf(frame), us);
  }

  // Inclusive: a node's self time counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  const parents = parentOf;
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const key = functionKey(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, us);
    }
  }

  const sorted = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => [key, us / 1000] as [string, number]);
  return {
    file: `${file}${focus ? ` (stacks through ${focus})` : ''}${fromMs > 0 ? ` (from ${fromMs} ms on)` : ''}`,
    totalMs: totalUs / 1000,
    busyMs: (totalUs - idleUs) / 1000,
    selfByFunction: sorted(selfByFunction),
    selfByGroup: sorted(selfByGroup),
    inclusiveByFunction: sorted(inclusive),
  };
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

export function formatSummary(summary: ProfileSummary): string {
  const pct = (ms: number) => `${((ms / Math.max(1e-9, summary.busyMs)) * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `${summary.file}: ${(summary.totalMs / 1000).toFixed(1)} s profiled, ${(summary.busyMs / 1000).toFixed(1)} s busy (not idle); % of busy time`,
    '',
    '  self time by package / file:',
    ...summary.selfByGroup.map(([key, ms]) => `    ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${key}`),
    '',
    '  self time by function:',
    ...summary.selfByFunction.map(([key, ms]) => `    ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${key}`),
    '',
    '  inclusive time by function:',
    ...summary.inclusiveByFunction.map(([key, ms]) => `    ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${key}`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const valueOf = (flag: string) => {
    const index = args.indexOf(flag);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const top = Number(valueOf('--top')) || 25;
  const focus = valueOf('--focus');
  const fromMs = Number(valueOf('--from-ms')) || 0;
  const flagValues = new Set(['--top', '--focus', '--from-ms'].map((flag) => args.indexOf(flag)).filter((i) => i >= 0).flatMap((i) => [i, i + 1]));
  const files = args.filter((_, i) => !flagValues.has(i));
  if (files.length === 0) {
    process.stderr.write('usage: node dist/scripts/bench/profile-summary.js <file.cpuprofile>... [--top N] [--focus functionName] [--from-ms N]\n');
    process.exit(2);
  }
  for (const file of files) process.stdout.write(`${formatSummary(summarise(file, top, focus, fromMs))}\n\n`);
}
