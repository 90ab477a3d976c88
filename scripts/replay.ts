#!/usr/bin/env node
import { createReadStream, statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import {
  checkSubjectKeyLines,
  DEFAULT_LOG_BATCH,
  Finding,
  exportLog,
  ExportFilter,
  importLog,
  readExportEndLine,
  ImportKeysRefusedError,
  ImportRefusedError,
  ImportTargetNotEmptyError,
  IMPORT_PHASE,
  timeline,
  UNREADABLE_ROW_TYPE,
  TimelineRow,
  forTerminal,
  Progress,
  ProgressListener,
  rebuildReadModels,
  REBUILD_LOG_BATCH,
  stateAt,
  scanExport,
  describeGap,
  gapsFoldedAcross,
  missingVersions,
  LogAnchor,
  verifyLog,
  logOfAnotherType,
  wrongTypeFinding,
  WrongTypeKey,
} from '@app/audit';
import { ConfigError, dataKeySourceProblem, Environment, EXIT_USAGE, KEY_PREFIX_PATTERN, loadEnvironment, redisUrlDatabase } from '@app/config';
import {
  describeUnreadable,
  isUnreadable,
  KeyLayout,
  LogEntryRead,
  MissionStore,
  PartitionKeys,
  UnreadableLogEntry,
  UnreadableStoredDataError,
} from '@app/event-store';
import {
  DataKeySettings,
  GuestDataError,
  GuestDataKeys,
  loadMasterKeys,
  localMasterKeyToGenerate,
  MasterKeyRing,
  SubjectKeyCache,
  SubjectKeyStore,
} from '@app/guest-data';
import type { Mission, MissionEvent, MissionReview } from '@app/mission';
import { MISSION_EVENT_TYPES } from '@app/mission';
import { queueOrderOf } from '@app/mission-queue';
import { loadCheckpoints, projectionLag, projectionCatalog, rebuildProjection } from '@app/projections';
import {
  countKeysByPrefix,
  deleteKeysByPrefix,
  createRedisConnection,
  isRedisUnreachable,
  isSelectRefusal,
  isTransientRedisError,
  isWrongTypeError,
  masterNodes,
  RedisConnection,
  wrongDatabase,
} from '@app/redis';
import { localDataDir, logPartitionsKey } from '@app/runtime';
import { WebhookKeys, WebhookSubscriptions } from '@app/webhooks';
import { exitQuietlyWhenStdoutCloses } from './closed-stdout';
import { ExportFile, exportTargetRefusal } from './export-file';
import { formatTable } from './format-table';
import { countLegacyPrefixKeys, deleteLegacyPrefixKeys, isLegacyKeyPrefix } from './legacy-prefix';

/**
 * replay: audit and repair of the mission event log.
 *
 *   history <missionId>                   the mission's events, one line each
 *   state <missionId> [--at | --version]  the mission as it was at a point in time or version
 *   rebuild                               rebuild every read model from the log, without downtime
 *   verify                                hash chains, versions, heads and read model (exit 1 on findings)
 *   export --out <file.jsonl> [filters]   the log as JSON lines, exactly as stored, then the wrapped keys of its subjects
 *   import --in <file.jsonl>              a JSON lines export into an empty prefix (its keys must unwrap here)
 *   projections status                    each projection's checkpoint and lag
 *   projections rebuild <name>            a projection's read model again from the first event
 *   purge [--yes]                         delete every key under the prefix (without --yes: count only)
 *   rewrap-keys                           every data subject's key and webhook signing secret under the current master key (rotation)
 *
 * Exit codes: EXIT_CODES_HELP below.
 */

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
/** Shared with the other programs; exported here beside the codes replay alone gives. */
export { EXIT_USAGE };
export const EXIT_NO_LOG = 3;
export const EXIT_REDIS = 4;
export const EXIT_REFUSED = 5;
export const EXIT_NOT_REWRAPPED = 6;
/** export could not write its file (a full disk, an I/O error): not the command's fault, unlike EXIT_USAGE. */
export const EXIT_WRITE = 7;

/** Each code one cause, so that a script can tell "try again later" (4) from "fix the input" (2, 5) and "alert" (1). */
const EXIT_CODES_HELP = `
Exit codes:
  0  done (or the reader of the output stopped early, e.g. | head; not that of an export: see 7)
  1  verify found problems (the report names them), or rebuild left missions whose log hash chain
     breaks as they were (it names them; the log was changed: see verify), or keys of another Redis
     type (it names them), or history or state met
     versions of the mission missing from the log, or events of it that cannot be read (history
     names them; state folds nothing across them), or an event list key of another Redis type (named),
     or history, state or export met a partition's log of another Redis type (named; export writes
     no file)
  2  bad arguments or input (unknown command, option, mission or projection; a bad value; a
     partition count other than the prefix records; purge without --yes; an export --out /dev/stdout
     whose stdout would get more than the export (stderr sent there too, or npm's header: npm run
     without -s, onto the same stdout; or a file that already holds something, as after >>) or
     discard it (stdout /dev/null or closed); credentials Redis refuses;
     a --redis-url naming a database that is no whole number or that the server does not have,
     or other than 0 beside --cluster-nodes;
     DATA_KEY_* variables the services refuse, e.g. both DATA_KEY_SECRET and DATA_KEY_FILE,
     refused by every command but not by --help)
  3  verify, export, rebuild or projections status found no log under the prefix (a wrong
     --prefix or --partitions; nothing was done), or rewrap-keys no data subject's key records and
     no webhook signing secrets
  4  Redis cannot be reached, or failed during the command (try again; after an import, purge
     what it wrote first)
  5  import refused the file, the target or the master key; nothing was written
  6  rewrap-keys left keys wrapped under a master key that is not configured (it names each key
     and that master key; every other key was rewrapped): configure it as a previous key and run
     it again before dropping any master key
  7  export could not write its file once it had opened it (a full disk, an I/O error, or the
     reader of a pipe or socket it wrote to went away, e.g. --out /dev/stdout | head -c 1000: what
     that reader got has no end line); the file it would have replaced was left as it was
  130 interrupted by Ctrl-C (SIGTERM: 143; the process ends by the signal, as a shell reports it):
     rebuild, verify, export, import and projections rebuild say what it left: run rebuild, verify
     or projections rebuild again; after an import, purge what it wrote first`;

/**
 * The commands that take a legacy prefix (isLegacyKeyPrefix), to move a deployment's keys off it:
 * export reads only keys it names, and purge deletes only the key shapes of that deployment.
 */
const LEGACY_PREFIX_COMMANDS = ['export', 'purge'];

/** Where the CLI writes, so tests can run it in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Progress bars go here; absent (no bars) unless stderr is a terminal. */
  progress?: NodeJS.WriteStream;
}

interface GlobalOptions {
  redisUrl: string;
  clusterNodes?: string;
  prefix: string;
  /** Given by --partitions or LOG_PARTITIONS; else the count the prefix records (see deploymentPartitions). */
  partitions?: number;
  json: boolean;
  /** REDIS_LIVENESS_TIMEOUT_MS, as the services read it: how long a command waits for Redis to answer anything. */
  livenessMs: number;
}

/** A clear, expected error: printed without a stack, with its exit code (bad input unless said otherwise). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

const CONNECT_TIMEOUT_MS = 3_000;

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    progress: process.stderr.isTTY ? process.stderr : undefined,
  };
}

/** Runs the CLI on `argv` (the arguments after the script name) and resolves with the exit code. */
export async function runReplay(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = EXIT_OK;
  // Everything printed may carry stored text (titles, reasons, errors, ids): escaped, lines kept.
  const printTo = (stream: CliIo['stdout'], text: string) => stream.write(`${forTerminal(text, { keepLineFeeds: true })}\n`);
  const out = (text = '') => printTo(io.stdout, text);
  const err = (text: string) => io.stderr.write(`replay: ${forTerminal(text, { keepLineFeeds: true })}\n`);
  // Read before the options are declared (LOG_PARTITIONS is --partitions' default), but refused only
  // when a command runs (the preAction hook): --help prints and exits 0 whatever the variables say.
  const environment = environmentSettings(io.env);
  const { partitionsFromEnv, livenessMs } = environment;

  const program = new Command()
    .name('replay')
    .description('Audit and replay the BRAIN mission event log: history, time travel, verify, rebuild, export and import.')
    .option('--redis-url <url>', 'Redis to connect to (env REDIS_URL)', io.env.REDIS_URL || 'redis://127.0.0.1:6379')
    .option(
      '--cluster-nodes <host:port,...>',
      'seed nodes of a Redis Cluster, used instead of --redis-url (env REDIS_CLUSTER_NODES)',
      io.env.REDIS_CLUSTER_NODES || undefined,
    )
    // An empty KEY_PREFIX is no prefix, not the default: `brain:` may be another deployment's keys (see purge).
    .option('--prefix <prefix>', 'key prefix of the deployment (env KEY_PREFIX)', io.env.KEY_PREFIX ?? 'brain:')
    .option(
      '--partitions <n>',
      'LOG_PARTITIONS of the deployment (env LOG_PARTITIONS; unset: the count the prefix records, else for import the count the end line of its file names, else 1); refused when the prefix records another',
      parsePositiveInt,
      partitionsFromEnv,
    )
    .option('--json', 'machine-readable output on stdout (on stderr for an export written to stdout)', false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP);

  const globals = (command: Command): GlobalOptions => ({ ...command.optsWithGlobals<Omit<GlobalOptions, 'livenessMs'>>(), livenessMs });

  // Every command, as the services hold KEY_PREFIX: a prefix without its closing `:` is the start of other
  // deployments' prefixes too (`walk` of `walk-other:`), and an empty one of every key; an import into one
  // wrote keys that purge then refused to delete. But a deployment may still have its keys under such a
  // prefix, one the services took before they required the `:`: export reads them (its keys only, by
  // name) and purge deletes them (by their exact shapes, legacyPrefixKeys), so they can be moved.
  program.hook('preAction', (_program, command) => {
    if (environment.problem) throw new CliError(environment.problem);
    const { prefix } = globals(command);
    if (KEY_PREFIX_PATTERN.test(prefix)) return;
    const path = commandPath(command);
    if (isLegacyKeyPrefix(prefix) && LEGACY_PREFIX_COMMANDS.includes(path)) {
      err(
        `"${prefix}" is a legacy key prefix (no closing ":"), which the services no longer start with: move its keys to one ` +
          `that ends with ":" (export, import under e.g. "${prefix}:", verify there, then purge "${prefix}"; docs/operations.md, "Upgrading from commit 73b24b2")`,
      );
      return;
    }
    const legacy = isLegacyKeyPrefix(prefix) ? `; the keys of a legacy prefix like this one are moved with export and purge (docs/operations.md)` : '';
    throw new CliError(`${path} refuses prefix "${prefix}": a key prefix ends with ":" and holds only letters, digits and : _ . - (e.g. "brain:")${legacy}`);
  });

  program
    .command('history')
    .description("Print a mission's events, one line each: version, time, type, actor and what happened.")
    .argument('<missionId>', 'the mission')
    .option('--wide', 'also show correlation and causation ids', false)
    .addHelpText('after', '\nExample:\n  replay --prefix brain: history 0197a1b2-7c3e-7d41-9a55-2f1e0c9b8a77')
    .action(async (missionId: string, options: { wide: boolean }, command: Command) => {
      const g = globals(command);
      await withRedis(g, async (redis, keys) => {
        const { listed, entries } = await readMissionLog(redis, keys, missionId);
        const rows = timeline(entries);
        // An event deleted from the log leaves its neighbours side by side: an audit must not read that as the whole story.
        const missing = missingVersions(entries, listed);
        // An event changed past reading is shown as such, never folded over nor left out.
        const unreadable = entries.filter(isUnreadable);
        if (missing.length > 0 || unreadable.length > 0) exitCode = EXIT_FINDINGS;
        if (g.json) {
          const unreadableJson = unreadable.map(({ logId, version, reason }) => ({ logId, version: version ?? null, reason }));
          return void out(JSON.stringify({ missionId, events: rows, missing, unreadable: unreadableJson }, null, 2));
        }
        const correlation = rows.find((row) => row.correlationId !== '')?.correlationId ?? '(unknown)';
        out(`Mission ${missionId}: ${rows.length} events, correlation ${correlation}`);
        out(historyTable(rows, options.wide));
        for (const gap of missing) out(describeGap(gap));
        if (missing.length > 0) err(`mission ${missionId}: versions are missing from the log (run verify)`);
        if (unreadable.length > 0) err(`mission ${missionId}: ${unreadable.length} of its events cannot be read, shown ${UNREADABLE_ROW_TYPE} (run verify)`);
      });
    });

  program
    .command('state')
    .description('Print a mission as it was at a point in time (--at) or after a version (--version), one or the other; now by default.')
    .argument('<missionId>', 'the mission')
    .option('--at <ISO>', 'fold the events that happened at or before this instant, e.g. 2025-06-01T08:30:00Z', parseIsoDate)
    .option('--version <n>', 'fold the events up to this version', parsePositiveInt)
    .addHelpText('after', '\nExamples:\n  replay state <id> --version 3\n  replay --json state <id> --at 2025-06-01T08:30:00Z')
    .action(async (missionId: string, options: { at?: Date; version?: number }, command: Command) => {
      const g = globals(command);
      // One point or the other: both would fold to whichever comes first, silently ignoring the other.
      if (options.at && options.version !== undefined) throw new CliError('state takes --at or --version, not both');
      await withRedis(g, async (redis, keys) => {
        const { listed, entries } = await readMissionLog(redis, keys, missionId);
        // A fold across an event that cannot be read would give a state no event made.
        const events = entries.filter((entry): entry is MissionEvent => !isUnreadable(entry));
        const unreadable = entries.filter(isUnreadable).find((entry) => foldsAcross(entry, options, events));
        if (unreadable) throw new CliError(`mission ${missionId}: ${describeUnreadable(unreadable)}; no state is folded across it (run verify)`, EXIT_FINDINGS);
        const latest = Math.max(...entries.map((entry) => entry.version ?? 0));
        // A fold across a deleted event is a state the mission never had (checked first: a version
        // lost at the end is missing, not one the mission never reached).
        const crossed = gapsFoldedAcross(events, { at: options.at, version: options.version }, listed);
        if (crossed.length > 0) {
          throw new CliError(`mission ${missionId}: ${crossed.map(describeGap).join(', ')}; no state is folded across it (run verify)`, EXIT_FINDINGS);
        }
        if (options.version !== undefined && options.version > latest) {
          throw new CliError(`mission ${missionId} has ${latest} versions; there is no version ${options.version}`);
        }
        const state = stateAt(events, { at: options.at, version: options.version });
        if (!state) throw new CliError(`mission ${missionId} did not exist yet at ${options.at?.toISOString()} (created ${events[0].at})`);
        if (g.json) return void out(JSON.stringify({ missionId, at: options.at?.toISOString() ?? null, version: options.version ?? null, state }, null, 2));
        const point = options.at ? ` at ${options.at.toISOString()}` : options.version !== undefined ? '' : ' now';
        out(`Mission ${missionId}${point}: version ${state.version} of ${latest}`);
        out(stateTable(state));
      });
    });

  program
    .command('rebuild')
    .description(
      'Rebuild every read model from the log without downtime: replay, compare with the live read model, write the ' +
        'missions that differ to scratch keys, then switch each only if it did not move on meanwhile, and recount the status counters. ' +
        'A mission whose log hash chain breaks (the log was changed), or whose key holds another Redis type, keeps its read model and is named: exit 1.',
    )
    .option('--batch-size <n>', 'log entries per XRANGE', parsePositiveInt, REBUILD_LOG_BATCH)
    .action(async (options: { batchSize: number }, command: Command) => {
      const g = globals(command);
      await withRedis(g, async (redis, keys) => {
        await requireLog(redis, keys, 'rebuild');
        const progress = new ProgressView(g.json ? undefined : io.progress);
        const queueOrder = queueOrderOf(queueSettings(io.env));
        // Each mission is switched on its own (switch-read-model-5.lua): what a stop leaves is whole, and the next run finds the rest.
        const left = () =>
          'the missions it switched keep their mended read model, the others are unchanged or partly mended (its scratch copies expire within a day); run rebuild again';
        const result = await stoppable({ command: 'rebuild', left, progress, say: err }, () =>
          rebuildReadModels(redis, keys, { batchSize: options.batchSize, onProgress: progress.listener, queueOrder }),
        );
        // Not done: the read model of those missions is what the log said before it was changed, or a copy of the change.
        if (result.brokenChain.length > 0 || result.wrongType.length > 0) exitCode = EXIT_FINDINGS;
        const partitionLeft = result.wrongType.some((key) => key.missionId === '');
        if (g.json) return void out(JSON.stringify(result, null, 2));
        out(
          keyValueTable([
            ['events replayed', result.events],
            ['missions', result.missions],
            ['unchanged (read model already right)', result.unchanged],
            ['switched', result.switched],
            ['restored (had no read model)', result.restored],
            ['switched or restored, put back in the ready queue, schedule, deadlines, reviews or dead letters', result.effectsRestored],
            ['put back in the ready queue (read model whole, its place missing)', result.effectsMended],
            ['dead letter (queue entry, reason) written again from the log', result.deadLettersMended],
            ['deadline entry (watched or overdue) written again from the log', result.deadlinesMended],
            ['put back in the mission index', result.reindexed],
            ['event list written again from the log', result.relisted],
            ["put back in a data subject's set", result.subjectsReindexed],
            ["taken out of a data subject's set (not about the subject)", result.subjectsUnindexed],
            ['left alone, moved on meanwhile', result.skippedMovedOn],
            ['left alone, read model behind its log', result.skippedBehind],
            ['left alone, cannot be folded', result.unreplayable.length],
            ['left alone, log hash chain broken', result.brokenChain.length],
            ['left alone, a key of another Redis type', result.wrongType.length],
            [
              'status counters recounted',
              result.countersRecounted ? 'yes' : partitionLeft ? 'no (see the key of another type below)' : 'no (appends kept changing them)',
            ],
            [
              'ready queue counts by level and skill set recounted',
              result.readyCountsRecounted
                ? `yes${result.readyCountsMended > 0 ? `, ${result.readyCountsMended} written again` : ''}`
                : partitionLeft
                  ? 'no (see the key of another type below)'
                  : `no (${result.wrongType.length > 0 ? 'see the key of another type below, or ' : ''}leases and enqueues kept changing the ready queue)`,
            ],
            ['time', `${result.ms} ms`],
            ['rate', `${result.eventsPerSecond} events/s`],
          ]),
        );
        if (result.unreplayable.length > 0) out(`Missions that cannot be folded (run verify): ${result.unreplayable.slice(0, 20).join(', ')}`);
        if (result.brokenChain.length > 0) {
          const more = result.brokenChain.length > 20 ? ` and ${result.brokenChain.length - 20} more` : '';
          out(
            `Missions whose log hash chain breaks, their read model left as it was (the log was changed: run verify, and see "When replay verify fails"): ${result.brokenChain.slice(0, 20).join(', ')}${more}`,
          );
        }
        // Left as evidence: once looked at and deleted, the next rebuild writes the mission whole from the log.
        for (const wrong of result.wrongType) out(wrongTypeLine(keys, wrong));
      });
    });

  program
    .command('verify')
    .description(
      'Check the whole log: hash chains (log and per mission), contiguous versions, log head and mission heads, and ' +
        'the read model against a replay. Exit 0 when all holds, 1 with a report naming each culprit, 3 when there is no log ' +
        'under the prefix (nothing was verified).',
    )
    .option('--batch-size <n>', 'log entries per XRANGE', parsePositiveInt, DEFAULT_LOG_BATCH)
    .option(
      '--anchor <partition:hash>',
      'a log head an earlier verify printed (repeatable): the log must still hold that event, else anchor-missing',
      collectAnchor,
      [] as LogAnchor[],
    )
    .addHelpText('after', '\nExample:\n  replay --prefix brain: verify --anchor 0:3f786850e387550fdab836ed7e6dc881de23001b')
    .action(async (options: { batchSize: number; anchor: LogAnchor[] }, command: Command) => {
      const g = globals(command);
      await withRedis(g, async (redis, keys) => {
        const beyond = options.anchor.find((anchor) => anchor.partition >= keys.partitions.length);
        if (beyond) {
          throw new CliError(
            `verify: --anchor names partition ${beyond.partition}, but the log has ${keys.partitions.length} (0 to ${keys.partitions.length - 1})`,
          );
        }
        const progress = new ProgressView(g.json ? undefined : io.progress);
        const left = () => 'nothing was changed (verify only reads); run verify again';
        const result = await stoppable({ command: 'verify', left, progress, say: err }, () =>
          verifyLog(redis, keys, progress.listener, { batchSize: options.batchSize, anchors: options.anchor }),
        );
        // An empty log holds trivially: an OK for it would pass an audit run against the wrong prefix.
        const noLog = result.ok && result.events === 0;
        exitCode = noLog ? EXIT_NO_LOG : result.ok ? EXIT_OK : EXIT_FINDINGS;
        if (g.json) return void out(JSON.stringify(result, null, 2));
        if (noLog) return void err(noLogUnder(keys, 'verify').message);
        const scope = `${result.events} events of ${result.missions} missions in ${result.ms} ms (${result.eventsPerSecond} events/s)`;
        // Not findings: what kept changing under a busy log is left for a quieter run, without exit 1.
        const notChecked = result.notChecked.length
          ? ` Not checked, ${result.notChecked.length} (run verify again when the log is quieter): ${result.notChecked
              .slice(0, 20)
              .map(({ missionId, detail }) => (missionId ? `${missionId} (${detail})` : detail))
              .join('; ')}${result.notChecked.length > 20 ? '; …' : ''}.`
          : '';
        // The chains hold only against whoever does not recompute them: a head kept elsewhere holds against that too.
        const heads = logHeadsLine(result.heads);
        if (result.ok) return void out(`OK: hash chains, versions, heads and read model hold for ${scope}.${notChecked}\n${heads}`);
        out(findingsTable(result.findings));
        out(`FAILED: ${result.findings.length} finding${result.findings.length === 1 ? '' : 's'} in ${scope}.${notChecked}\n${heads}`);
      });
    });

  program
    .command('export')
    .description(
      'Write the log (or the events matching the filters) as JSON lines, in log order, each exactly as stored. It also reads a ' +
        'legacy prefix without its closing ":" (which services took up to commit 73b24b2, e.g. hotel), with a warning, to move it.',
    )
    .requiredOption(
      '--out <file.jsonl>',
      'file to write; one it replaces stays as it was until the export is whole (written beside it as <file>.partial-<pid>-<random> until then); ' +
        '/dev/stdout (or -, or the file stdout is redirected to) is written directly, and what export says then goes to stderr (a file named - is ./-)',
      parseOut,
    )
    .option('--from <ISO>', 'events at or after this instant', parseIsoDate)
    .option('--to <ISO>', 'events before this instant', parseIsoDate)
    .option('--type <eventType>', `events of this type (${MISSION_EVENT_TYPES.join(', ')})`, parseEventType)
    .option('--mission <id>', 'events of this mission')
    .option(
      '--no-keys',
      "leave out the subjects' wrapped data keys: the personal fields of this export can then be read nowhere (an extract, which import refuses)",
    )
    .addHelpText(
      'after',
      '\nPersonal fields stay ciphertext; the data keys that open them follow the events, wrapped under the master key as stored: ' +
        "those of the subjects the exported events' missions name, whatever the filter, and no other guest's. " +
        'The end line names the filters (--from, --to, --type, --mission, --no-keys) an export was made with: such a file is an extract, which import refuses.' +
        '\n\nExamples:\n  replay export --out backup.jsonl\n  replay export --mission <id> --type MissionEvaluated --out evals.jsonl' +
        '\n  replay export --out /dev/stdout | gzip > backup.jsonl.gz',
    )
    .action(async (options: ExportFilter & { out: string }, command: Command) => {
      const g = globals(command);
      if (options.from && options.to && options.from >= options.to) throw new CliError('--from must be before --to');
      if (options.out.trim() === '') throw new CliError('--out needs a file name');
      const refusal = exportTargetRefusal(options.out, io.env);
      if (refusal) throw new CliError(`cannot export to ${options.out}: ${refusal}`);
      await withRedis(g, async (redis, keys) => {
        await requireLog(redis, keys, 'export');
        // Every partition's log is read, whatever the filter.
        await refuseLogsOfAnotherType(redis, keys.partitions, 'its events cannot be exported: nothing was written');
        // As history and state: "Exported 0 of N events" and exit 0 read as a mission with nothing to export.
        if (options.mission) await readMissionLog(redis, keys, options.mission);
        const file = await ExportFile.open(options.out).catch((error: Error) => {
          throw new CliError(`cannot write ${options.out}: ${error.message}`);
        });
        // The file's own failure, told apart from Redis' (an EPIPE of either reads the same).
        let writeFailure: NodeJS.ErrnoException | undefined;
        file.stream.on('error', (error: NodeJS.ErrnoException) => (writeFailure ??= error));
        const progress = new ProgressView(g.json ? undefined : io.progress);
        const halfWay: HalfWay = { command: 'export', left: () => file.leftBehind, progress, discard: () => file.discard(), say: err };
        try {
          await stoppable(halfWay, async () => {
            // Counted before: once the file is in place, nothing may fail the export it is.
            const leftOut = await notExported(redis, keys);
            const filter: ExportFilter = { from: options.from, to: options.to, type: options.type, mission: options.mission, keys: options.keys };
            const result = await exportLog(redis, keys, file.stream, filter, progress.listener);
            // Putting the file in place is writing it: a failure there is the file's, not the export's.
            await file.commit().catch((error: NodeJS.ErrnoException) => {
              writeFailure ??= error;
              throw error;
            });
            // Not after the end line of an export on stdout: piped into gzip or ssh, a backup import refuses.
            const report = (text: string) => printTo(file.toStdout ? io.stderr : io.stdout, text);
            if (g.json) return void report(JSON.stringify({ ...result, file: options.out, leftOut }, null, 2));
            const keyCount = result.keys > 0 ? ` and ${result.keys} wrapped subject keys` : '';
            // Said where it is made: such a file is no backup, and would be found out only when restoring from it.
            const noKeys = options.keys === false ? " without the guests' data keys (--no-keys): an extract, which import refuses" : '';
            report(`Exported ${result.exported} of ${result.scanned} events${keyCount} to ${options.out}${noKeys}.`);
            // Said while they can still be copied: a restore from this file alone would lose them.
            const named = describeLeftOut(leftOut);
            if (named)
              report(`Not in it: ${named} under ${keys.prefix}, which an import does not bring back; see docs/operations.md, "What an import restores".`);
          });
        } catch (error) {
          file.discard();
          // A reader that went away (`--out /dev/stdout | head -c …`, a backup host's ssh cut off) got an
          // export cut short: no backup, however quiet `history | head` may end.
          if (writeFailure) throw new CliError(`cannot write ${options.out}: ${describeWriteFailure(writeFailure)}; ${file.leftBehind}`, EXIT_WRITE);
          // stoppable's own, which names what was left already.
          if (error instanceof CliError) throw error;
          const reason = error instanceof Error ? error.message : String(error);
          throw new CliError(`${reason}; ${file.leftBehind}`, EXIT_USAGE);
        }
      });
    });

  program
    .command('import')
    .description(
      'Import a JSON lines export into an EMPTY prefix (refused otherwise): each line is appended as-is, then the read ' +
        'model (mission hashes, index, status counters, log head) is built from it. Run verify afterwards. The wrapped ' +
        'subject keys must unwrap with the master key configured here (DATA_KEY_SECRET or DATA_KEY_FILE, and the previous ' +
        'ones; else the local .data/data-key): otherwise the import is refused before it writes anything (the file is read ' +
        'for its keys first). The file must end with the end line its export wrote, which counts its lines and names its ' +
        'log partitions (a count given with --partitions or LOG_PARTITIONS, or recorded by the prefix, must match; with ' +
        "none, the import takes the export's): a file cut short or appended to is refused, also before anything is " +
        'written, and so is a filtered export (its end line names the filters: it holds only part of the chains), one made with ' +
        "--no-keys (it holds none of the guests' keys: their data could be read nowhere; so is an older one without keys of guests " +
        'it names that were never erased), and one whose ' +
        'hash chains break (a line edited, duplicated, removed or moved, as verify would find them). An import stopped half way leaves a partial prefix: ' +
        'purge it (replay purge --prefix <prefix> --yes) and import again.',
    )
    .requiredOption('--in <file.jsonl>', 'file written by export')
    .option('--no-end-line', 'take a file without an end line (an export made before exports wrote one); a file cut short then imports as a shorter log')
    .addHelpText('after', '\nExample:\n  DATA_KEY_SECRET=… replay --prefix restore: import --in backup.jsonl && replay --prefix restore: verify')
    .action(async (options: { in: string; endLine: boolean }, command: Command) => {
      const g = globals(command);
      // `-` is stdout to export; stdin cannot be imported, as no pipe can be read twice.
      if (options.in === '-') throw new CliError('--in - (stdin) cannot be imported: an import reads its file twice; save it to a file first');
      const input = statSync(options.in, { throwIfNoEntry: false });
      if (!input) throw new CliError(`no such file: ${options.in}`);
      if (input.isDirectory()) throw new CliError(`${options.in} is a directory, not an export file`);
      if (!input.isFile()) throw new CliError(`${options.in} is not a regular file (an import reads it twice)`);
      const importInto = async (redis: RedisConnection, keys: KeyLayout) => {
        const progress = new ProgressView(g.json ? undefined : io.progress);
        // Set once importLog has checked the target and starts writing to it.
        let writing = false;
        const onProgress: ProgressListener = (step) => {
          writing ||= step.phase === IMPORT_PHASE;
          progress.listener(step);
        };
        const halfWay: HalfWay = {
          command: 'import',
          left: () =>
            writing ? `prefix "${keys.prefix}" is partial; delete it (${purgeCommand(keys)}) and import again` : 'nothing was written; import again',
          progress,
          say: err,
        };
        try {
          const masterKeys = () => configuredMasterKeys(io.env);
          const acceptMissingEnd = !options.endLine;
          // Checked ahead, so a refused import writes nothing (an export lists its keys and its end after the events,
          // and a chain may break on its last line).
          const scan = await stoppable(halfWay, () => scanExport(createReadStream(options.in), keys)).catch((error: unknown) => {
            if (error instanceof Error && /^line \d+/.test(error.message))
              throw new CliError(`${options.in}: ${error.message}; nothing was written`, EXIT_REFUSED);
            throw error;
          });
          if (scan.subjectKeys.length > 0) checkSubjectKeyLines(scan.subjectKeys, masterKeys());
          scan.tally.check(keys.partitions.length, { acceptMissingEnd });
          scan.chains.check();
          scan.chains.checkHeads(scan.tally.heads);
          progress.setTotal(IMPORT_PHASE, scan.lines);
          // Queued missions are scored as the deployment's services would score them (its queue order).
          const queueOrder = queueOrderOf(queueSettings(io.env));
          const result = await stoppable(halfWay, async () => {
            const imported = await importLog(redis, keys, createReadStream(options.in), onProgress, { masterKeys, acceptMissingEnd, queueOrder });
            // As the first service of a deployment would: its guard then refuses a service started with another count.
            // Within stoppable, as a stop before it leaves an import without it.
            await redis.set(logPartitionsKey(keys.prefix), String(keys.partitions.length), 'NX');
            return imported;
          });
          if (g.json) return void out(JSON.stringify(result, null, 2));
          out(
            `Imported ${result.events} events of ${result.missions} missions${result.keys > 0 ? ` and ${result.keys} wrapped subject keys` : ''} into prefix ${keys.prefix} ` +
              `in ${result.ms} ms (${result.eventsPerSecond} events/s).`,
          );
          const { restored } = result;
          if (restored.restored > 0)
            out(
              `Put ${restored.restored} unfinished missions back in their queues and sets; ${restored.messages} in flight got the message that drives them on` +
                (restored.lostAttempts > 0
                  ? ` (${restored.lostAttempts} running: an executor reclaims each after STREAM_CLAIM_IDLE_MS and fails the lost attempt).`
                  : '.'),
            );
          if (result.agentSlots > 0) out(`Held ${result.agentSlots} agent slots again for the attempts in flight; each attempt's end frees its slot.`);
          if (result.unreplayable.length > 0) out(`${result.unreplayable.length} missions cannot be folded; run verify.`);
          out(
            'Not imported, as an export holds none: schedules, webhook subscriptions and the agent registry; ' +
              'see docs/operations.md, "What an import restores", to carry them over.',
          );
        } catch (error) {
          if (error instanceof ImportTargetNotEmptyError || error instanceof ImportKeysRefusedError) throw new CliError(error.message, EXIT_REFUSED);
          if (error instanceof ImportRefusedError)
            throw new CliError(
              `${options.in}: ${error.message}${error.endLineMissing ? ' (an export made before exports wrote an end line imports with --no-end-line)' : ''}`,
              EXIT_REFUSED,
            );
          if (error instanceof Error && /^line \d+/.test(error.message))
            throw new CliError(
              `${options.in}: ${error.message} (the import stopped there, with what came before it written; ` +
                `delete that before retrying: ${purgeCommand(keys)})`,
            );
          throw error;
        }
      };
      // Into a prefix that records no count, with none given, the layout is the export's own: the count its end line names.
      await withRedis(g, importInto, (await readExportEndLine(options.in))?.partitions);
    });

  const projections = program
    .command('projections')
    .description('The asynchronous read models projected from the log (served by the intake): their lag, and rebuilding one from scratch.');
  const projectionNames = projectionCatalog(new KeyLayout('')).map((p) => p.name);

  projections
    .command('status')
    .description("Each projection's checkpoint per log stream and how far it is behind the log.")
    .action(async (_options: object, command: Command) => {
      const g = globals(command);
      await withRedis(g, async (redis, keys) => {
        await requireLog(redis, keys, 'project');
        const rows = await Promise.all(
          projectionCatalog(keys).map(async (projection) => ({
            projection: projection.name,
            checkpoints: Object.fromEntries(await loadCheckpoints(redis, keys, projection.name)),
            lag: await projectionLag(redis, keys, projection.name),
          })),
        );
        if (g.json) return void out(JSON.stringify(rows, null, 2));
        out(
          formatTable(
            ['PROJECTION', 'LAG EVENTS', 'LAG SECONDS', 'CHECKPOINTS'],
            rows.map((r) => [
              r.projection,
              String(r.lag.events),
              r.lag.seconds.toFixed(1),
              Object.entries(r.checkpoints)
                .map(([stream, id]) => `${stream} @ ${id || '(start)'}`)
                .join(', '),
            ]),
            { align: ['left', 'right', 'right'] },
          ),
        );
      });
    });

  projections
    .command('rebuild')
    .description(
      "Delete a projection's read model and checkpoint, then apply the whole log again. A running intake carries on from " +
        'wherever the rebuild got to; until it is through, the read model shows only the part of the log applied so far.',
    )
    .argument('<name>', `the projection (${projectionNames.join(', ')})`, (value: string) => {
      if (!projectionNames.includes(value)) throw new InvalidArgumentError(`"${value}" is not a projection (${projectionNames.join(', ')})`);
      return value;
    })
    .option('--batch-size <n>', 'log entries per XREAD and per script call', parsePositiveInt, 1_000)
    .addHelpText('after', '\nExample:\n  replay --prefix brain: projections rebuild daily-report')
    .action(async (name: string, options: { batchSize: number }, command: Command) => {
      const g = globals(command);
      await withRedis(g, async (redis, keys) => {
        const projection = projectionCatalog(keys).find((p) => p.name === name);
        if (!projection) throw new CliError(`unknown projection ${name}`);
        const progress = new ProgressView(g.json ? undefined : io.progress);
        // Each batch moves the read model and the checkpoint in one script call: what a stop leaves is the log up to the checkpoint.
        const left = () => `${name} holds the log up to where it got, which a running intake carries on from; or run projections rebuild ${name} again`;
        const result = await stoppable({ command: 'projections rebuild', left, progress, say: err }, () =>
          rebuildProjection(redis, keys, projection, {
            batchSize: options.batchSize,
            onProgress: (done, total) => progress.listener({ phase: `rebuild ${name}`, done, total }),
            onUnreadable: (entry) => err(`log entry ${entry.logId} (mission ${entry.missionId}) passed over: ${entry.reason} (run verify)`),
          }),
        );
        if (g.json) return void out(JSON.stringify(result, null, 2));
        out(`Rebuilt ${name} from ${result.events} log entries in ${result.ms} ms (${result.eventsPerSecond} events/s).`);
      });
    });

  program
    .command('purge')
    .description(
      'Delete every key that starts with the prefix (--prefix, env KEY_PREFIX): the log, read models, queues and streams of ' +
        'that deployment or run, e.g. one a demo left with --keep-running. SCAN follows its cursor over every master of a ' +
        'cluster and only keys of the prefix are unlinked. Without --yes it only counts them and exits 2. Stop the services first. ' +
        'A legacy prefix without its closing ":" (which services took up to commit 73b24b2, e.g. hotel) is the start of other ' +
        'prefixes (hotel-other:, hotel:): of it only the keys its deployment wrote go (<prefix>{…}, <prefix>retention:turn, ' +
        '<prefix>config:log-partitions), with a warning; its rate-limit counters expire by themselves within a minute.',
    )
    .option('--yes', 'really delete the keys', false)
    .addHelpText(
      'after',
      '\nExamples:\n  replay --prefix demo:1717171717171: purge        # how many keys, nothing deleted\n  replay purge --prefix demo:1717171717171: --yes',
    )
    .action(async (options: { yes: boolean }, command: Command) => {
      const g = globals(command);
      // A legacy prefix (no closing `:`) is the start of other prefixes: only the key shapes its deployment wrote go.
      const legacy = isLegacyKeyPrefix(g.prefix);
      await withRedis(g, async (redis, keys) => {
        if (!options.yes) {
          const count = legacy ? await countLegacyPrefixKeys(redis, keys.prefix) : await countKeysByPrefix(redis, keys.prefix);
          throw new CliError(`would delete ${count} key${count === 1 ? '' : 's'} under prefix "${keys.prefix}"; add --yes to delete them`);
        }
        const deleted = legacy ? await deleteLegacyPrefixKeys(redis, keys.prefix) : await deleteKeysByPrefix(redis, keys.prefix);
        if (g.json) return void out(JSON.stringify({ prefix: keys.prefix, deleted }, null, 2));
        out(`Deleted ${deleted} key${deleted === 1 ? '' : 's'} under prefix "${keys.prefix}".`);
      });
    });

  program
    .command('rewrap-keys')
    .description(
      "Wrap every data subject's key and every webhook signing secret under the current master key (DATA_KEY_SECRET or DATA_KEY_FILE), unwrapping with it or a " +
        'previous one (DATA_KEY_PREVIOUS_SECRETS, DATA_KEY_PREVIOUS_FILES): the last step of a master key rotation, after which the ' +
        'previous keys can be dropped. Each key is replaced only if unchanged meanwhile, so an erasure stays erased; safe to run again. ' +
        'Webhook secrets stored in plain (written before secrets were sealed) are sealed. ' +
        'The log is not touched. Refuses to run without DATA_KEY_SECRET or DATA_KEY_FILE: it never makes a master key.',
    )
    .addHelpText('after', '\nExample:\n  DATA_KEY_SECRET=<new> DATA_KEY_PREVIOUS_SECRETS=<old> replay rewrap-keys')
    .action(async (_options: unknown, command: Command) => {
      const g = globals(command);
      const settings = dataKeySettings(io.env);
      // Without a configured key, loading would make (or take) a local one: every key would be
      // rewrapped under a master key no service has, or, with nothing to rewrap, it would seem to work.
      if (!settings.DATA_KEY_SECRET && !settings.DATA_KEY_FILE) {
        throw new CliError(
          'rewrap-keys needs the new master key: set DATA_KEY_SECRET or DATA_KEY_FILE (and the old one as DATA_KEY_PREVIOUS_SECRETS or DATA_KEY_PREVIOUS_FILES)',
        );
      }
      const ring = masterKeysOf(settings, localDataDir());
      await withRedis(g, async (redis, keys) => {
        const result = await new SubjectKeyStore(redis, new GuestDataKeys(keys.prefix), ring, new SubjectKeyCache(0, 1)).rewrap();
        const webhookSecrets = await new WebhookSubscriptions(redis, new WebhookKeys(keys), ring).rewrapSecrets();
        // Rotation drops the old key once a run finds every key already under the new one: vacuously so under a wrong prefix.
        const count = (counts: typeof result) => counts.rewrapped + counts.current + counts.changed + counts.notConfigured.length;
        const noKeys = count(result) + count(webhookSecrets) === 0;
        const notRewrapped = result.notConfigured.length + webhookSecrets.notConfigured.length;
        // Not a bad argument (2): the rest were rewrapped, and a run with that master key configured takes these.
        exitCode = noKeys ? EXIT_NO_LOG : notRewrapped > 0 ? EXIT_NOT_REWRAPPED : EXIT_OK;
        if (g.json) return void out(JSON.stringify({ masterKey: ring.current.id, ...result, webhookSecrets }, null, 2));
        if (noKeys) return void err(`nothing to rewrap: no data subject's key records under prefix "${keys.prefix}"; check --prefix`);
        out(
          keyValueTable([
            ['current master key', ring.current.id],
            ['rewrapped', result.rewrapped],
            ['already under it', result.current],
            ['erased or replaced meanwhile (left alone)', result.changed],
            ['under a master key not configured (left alone)', result.notConfigured.length],
            ['webhook secrets rewrapped', webhookSecrets.rewrapped],
            ['webhook secrets already under it', webhookSecrets.current],
            ['webhook secrets rotated or deleted meanwhile (left alone)', webhookSecrets.changed],
            ['webhook secrets under a master key not configured (left alone)', webhookSecrets.notConfigured.length],
          ]),
        );
        for (const { owner, kid, mk } of result.notConfigured)
          err(`not rewrapped: the data key ${kid} of subject ${owner} is wrapped under master key ${mk}, which is not configured`);
        for (const { owner, mk } of webhookSecrets.notConfigured) {
          err(`not rewrapped: the signing secret of webhook subscription ${owner} is wrapped under master key ${mk}, which is not configured`);
        }
        if (notRewrapped > 0) {
          err(
            `${notRewrapped} key${notRewrapped === 1 ? '' : 's'} not rewrapped: list the master key${notRewrapped === 1 ? '' : 's'} named above in ` +
              'DATA_KEY_PREVIOUS_SECRETS or DATA_KEY_PREVIOUS_FILES and run rewrap-keys again; drop no master key before a run reports none',
          );
        }
      });
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // `help <command>` ends as 'commander.help' with exit code 0; a bare `projections` prints its help as an error (1): usage.
      const helpAsked = error.code === 'commander.help' && error.exitCode === 0;
      return helpAsked || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    err(error instanceof Error ? error.message : String(error));
    if (error instanceof CliError) return error.exitCode;
    return redisTrouble(error) ? EXIT_REDIS : EXIT_USAGE;
  }
}

interface EnvironmentSettings {
  partitionsFromEnv?: number;
  livenessMs: number;
  /** Why a command refuses the variables, as bad input (exit 2); undefined when they are in order. */
  problem?: string;
}

/** The variables every command reads, with what makes them refused (defaults in their place until then). */
function environmentSettings(env: NodeJS.ProcessEnv): EnvironmentSettings {
  try {
    const partitionsFromEnv = environmentValue(env, 'LOG_PARTITIONS', parsePositiveInt);
    const livenessMs = livenessSetting(env);
    // Every command, not only those that use the key: a pair the services refuse to start with is
    // a configuration to mend, and a verify or export that passed on it read as a deployment in order.
    const keySource = dataKeySourceProblem(dataKeySettings(env));
    return { partitionsFromEnv, livenessMs, problem: keySource ? `the master key: ${keySource}` : undefined };
  } catch (error) {
    return { livenessMs: livenessSetting({}), problem: error instanceof Error ? error.message : String(error) };
  }
}

/** Redis refused the credentials or the command for this user: a fix, not a later try, helps. */
function refusedAccess(text: string): boolean {
  return /WRONGPASS|NOAUTH|NOPERM/.test(text);
}

/**
 * Whether trying again later may help: Redis went away while a command ran (the client does not
 * reconnect: retryStrategy null), or answered with an error of a passing state (a failover, a busy
 * script, loading, memory full), by the services' own rule (isTransientRedisError).
 */
function redisTrouble(error: unknown): boolean {
  return error instanceof Error && !refusedAccess(`${error.name} ${error.message}`) && (isRedisUnreachable(error) || isTransientRedisError(error));
}

/**
 * The master keys as the services load them (DATA_KEY_SECRET or DATA_KEY_FILE, and the previous
 * ones), else a local run's generated `.data/data-key`; undefined when there is none. Never
 * generates a key: one made here could not open anything exported.
 */
function configuredMasterKeys(env: NodeJS.ProcessEnv): MasterKeyRing | undefined {
  const settings = dataKeySettings(env);
  const dataDir = localDataDir();
  if (localMasterKeyToGenerate(settings, dataDir) !== undefined) return undefined;
  return masterKeysOf(settings, dataDir);
}

/** The ring loadMasterKeys makes of `settings`; a configuration it refuses (as the services would) is bad input, exit 2. */
function masterKeysOf(settings: DataKeySettings, dataDir: string): MasterKeyRing {
  try {
    return loadMasterKeys(settings, dataDir).ring;
  } catch (error) {
    if (error instanceof GuestDataError) throw new CliError(`the master key: ${error.message}`);
    throw error;
  }
}

/** The DATA_KEY_* variables, as the services read them. */
function dataKeySettings(env: NodeJS.ProcessEnv): DataKeySettings {
  return {
    DATA_KEY_SECRET: env.DATA_KEY_SECRET ?? '',
    DATA_KEY_FILE: env.DATA_KEY_FILE ?? '',
    DATA_KEY_PREVIOUS_SECRETS: env.DATA_KEY_PREVIOUS_SECRETS ?? '',
    DATA_KEY_PREVIOUS_FILES: env.DATA_KEY_PREVIOUS_FILES ?? '',
  };
}

/** A command as typed after `replay`, e.g. `projections status`. */
function commandPath(command: Command): string {
  return command.parent?.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** The command that deletes what an import stopped half way wrote, so that it can run again. */
function purgeCommand(keys: KeyLayout): string {
  return `replay purge --prefix '${keys.prefix}' --yes`;
}

/**
 * Exit 3: no event log under the prefix, as a rule a mistyped --prefix (or --partitions), which a
 * success would hide: verify's "OK", an export that is a valid backup of nothing, an empty rebuild.
 */
function noLogUnder(keys: KeyLayout, nothingTo: string): CliError {
  return new CliError(
    `nothing to ${nothingTo}: no event log under prefix "${keys.prefix}" (${keys.partitions.length} partition(s)); check --prefix`,
    EXIT_NO_LOG,
  );
}

/** Refuses a command with noLogUnder before it does anything when the prefix holds no event. */
async function requireLog(redis: RedisConnection, keys: KeyLayout, nothingTo: string): Promise<void> {
  // A log of another Redis type (changed by hand) is no missing log: the command names it (rebuild).
  const lengths = await Promise.all(
    keys.logStreams.map((stream) => redis.xlen(stream).catch((error: unknown) => (isWrongTypeError(error) ? -1 : Promise.reject(error)))),
  );
  if (lengths.every((length) => length === 0)) throw noLogUnder(keys, nothingTo);
}

/**
 * rebuild's line for a key it left as it is for holding another Redis type, with what to do: a
 * mission's key or one of the read model, deleted once looked at, is written again by the next
 * rebuild; the log and its head are no read model (the log is the evidence, the head its anchor).
 */
function wrongTypeLine(keys: KeyLayout, { missionId, key, expected }: WrongTypeKey): string {
  const partition = keys.partitions.find((p) => p.log === key || p.logHead === key);
  // A key of the whole partition: every mission of it is compared and written through it.
  const whose = missionId === '' ? "its partition's, whose read model is left as it is" : `mission ${missionId}`;
  const said = `Key ${key} (${whose}) holds another type of value than a ${expected}, left as it is: look at it`;
  if (partition?.log === key)
    return `${said}; it is the partition's event log, which no tool writes again: restore the last export that verifies (docs/operations.md, "When replay verify fails")`;
  if (partition?.logHead === key) {
    return `${said}, then set it (SET) to the log head of partition ${partition.index} that verify prints, and run rebuild again; deleted, the next append would link to no event`;
  }
  return `${said}, delete it (DEL), and run rebuild again`;
}

/**
 * Exit 1 (damaged data, as verify's findings) when one of these partitions' logs holds another Redis
 * type (changed by hand), naming each as verify does, `consequence` after it: read, it failed the
 * command with Redis's bare WRONGTYPE, exit 2 (bad input), naming no key.
 */
async function refuseLogsOfAnotherType(redis: RedisConnection, partitions: readonly PartitionKeys[], consequence: string): Promise<void> {
  const logs = await Promise.all(partitions.map((partition) => logOfAnotherType(redis, partition)));
  const named = partitions.flatMap((partition, i) => {
    const log = logs[i];
    return log ? [wrongTypeFinding(log, `it is the event log of partition ${partition.index}, so ${consequence}`).detail] : [];
  });
  if (named.length > 0) throw new CliError(`${named.join('\n')} (run verify; docs/operations.md, "When replay verify fails", wrong-type)`, EXIT_FINDINGS);
}

/**
 * What history and state read of a mission: how many events its event list names (read before the
 * events: an append in between then makes the list shorter than them, never a false gap) and its
 * entries. Its event list, or its partition's log, changed by hand into another Redis type is a
 * finding (exit 1) naming the key.
 */
async function readMissionLog(redis: RedisConnection, keys: KeyLayout, missionId: string): Promise<{ listed: number; entries: LogEntryRead[] }> {
  await refuseLogsOfAnotherType(redis, [keys.of(missionId)], `no event of mission ${missionId} can be read`);
  const store = new MissionStore(redis, keys);
  try {
    const listed = await store.listedEvents(missionId);
    const entries = await store.historyEntries(missionId);
    if (entries.length === 0) throw unknownMission(missionId, keys);
    return { listed, entries };
  } catch (error) {
    if (error instanceof UnreadableStoredDataError) throw new CliError(`${error.message}; nothing of it can be read (run verify)`, EXIT_FINDINGS);
    throw error;
  }
}

function unknownMission(missionId: string, keys: KeyLayout): CliError {
  return new CliError(`unknown mission ${missionId} (no events under prefix "${keys.prefix}")`);
}

/**
 * Runs `work` with SIGINT and SIGTERM taken over: on one, `interrupted` cleans up and says on stderr
 * what the command leaves behind (synchronously: the process ends right after), then the signal is
 * raised again, so the process still ends as interrupted (exit 130 for Ctrl-C) and not as done.
 */
async function interruptible<T>(interrupted: () => void, work: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const release = () => signals.forEach((signal) => process.off(signal, onSignal));
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    interrupted();
    process.kill(process.pid, signal);
  };
  signals.forEach((signal) => process.on(signal, onSignal));
  try {
    return await work();
  } finally {
    release();
  }
}

/** What a long command says when it stops half way (stoppable). */
interface HalfWay {
  /** The command as typed after `replay`, e.g. `projections rebuild`. */
  command: string;
  /** What the stop left and what to do about it, read when it stops (it may depend on how far the command got). */
  left: () => string;
  /** Its progress bar, ended (the terminal's cursor and line wrap back) however the work ends, before any line about it. */
  progress: ProgressView;
  /** What else must not outlive the command, undone before the line: an export's partial file. */
  discard?: () => void;
  say: (line: string) => void;
}

/**
 * Runs a long command's `work` so that stopped half way it says what it left, in one line: on
 * SIGINT or SIGTERM `<command> interrupted: <left>` (interruptible: the process still ends by the
 * signal), and when Redis fails during it `<command> stopped, Redis failed during it (<reason>):
 * <left>`, exit 4. Redis's own words alone ("Connection is closed.") left the operator guessing
 * whether anything had been changed; a progress bar left running left the terminal without its cursor.
 */
async function stoppable<T>({ command, left, progress, discard, say }: HalfWay, work: () => Promise<T>): Promise<T> {
  const stop = () => {
    progress.stop();
    discard?.();
  };
  const interrupted = () => {
    stop();
    say(`${command} interrupted: ${left()}`);
  };
  try {
    return await interruptible(interrupted, work);
  } catch (error) {
    if (!redisTrouble(error)) throw error;
    stop();
    throw new CliError(`${command} stopped, Redis failed during it (${error instanceof Error ? error.message : String(error)}): ${left()}`, EXIT_REDIS);
  } finally {
    progress.stop();
  }
}

/** `unrecorded`: the partition count when none is given and the prefix records none (else 1). */
async function withRedis(options: GlobalOptions, work: (redis: RedisConnection, keys: KeyLayout) => Promise<void>, unrecorded?: number): Promise<void> {
  const redis = options.clusterNodes
    ? await connectCluster(options.clusterNodes, options.redisUrl, options.livenessMs)
    : await connect(options.redisUrl, options.livenessMs);
  try {
    await work(redis, new KeyLayout(options.prefix, await deploymentPartitions(redis, options.prefix, options.partitions, unrecorded)));
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/**
 * The log partitions to read and write under `prefix`: the count its deployment recorded (as the
 * services do, LogPartitionsGuard), which is what its log was written with. Another count would
 * read the log wrongly (verify reports every mission of a moved partition as misplaced, history
 * misses missions, an export's end line names the wrong count), so a given count that differs is
 * refused, as a service with it would be.
 */
async function deploymentPartitions(redis: RedisConnection, prefix: string, given: number | undefined, unrecorded: number | undefined): Promise<number> {
  const recorded = await redis.get(logPartitionsKey(prefix));
  if (recorded === null) return given ?? unrecorded ?? 1;
  let count: number;
  try {
    count = parsePositiveInt(recorded);
  } catch {
    throw new CliError(`prefix "${prefix}" records LOG_PARTITIONS "${recorded}" (${logPartitionsKey(prefix)}), which is not a count`);
  }
  if (given !== undefined && given !== count) {
    throw new CliError(
      `--partitions (or LOG_PARTITIONS) is ${given}, but prefix "${prefix}" records LOG_PARTITIONS=${count}, the count its log was written with; ` +
        'leave it out, or give that count',
    );
  }
  return count;
}

/**
 * Fails fast, naming the host, instead of ioredis' endless reconnecting; and fails a command whose
 * reply has not begun within `livenessMs` (a silent network loss), where it would wait for the
 * ~15 minutes TCP retransmits, as a service's connection reconnects then (createRedis).
 */
async function connect(url: string, livenessMs: number): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not quoted: it may hold a password (one with a `/` or `#` not percent-encoded is what fails to parse).
    throw new CliError(
      '--redis-url (or REDIS_URL) is not a URL (expected redis://[user:password@]host:port, with / # ? @ in a password percent-encoded); its value is not shown, as it may hold a password',
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new CliError(`--redis-url must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  let database: number;
  try {
    database = redisUrlDatabase(url, '--redis-url');
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  const where = `${parsed.hostname}:${parsed.port || '6379'}`;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectionName: 'replay-cli',
    socketTimeout: livenessMs,
  });
  // The socket's own error (ECONNREFUSED, ETIMEDOUT, ENOTFOUND) says more than "Connection is closed".
  let socketError: Error | undefined;
  redis.on('error', (error: Error) => (socketError ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = socketError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`cannot reach Redis at ${where}: ${reason}`, refusedAccess(reason) ? EXIT_USAGE : EXIT_REDIS);
  }
  // A database the server does not have: ioredis only reports the refused SELECT and carries on in
  // database 0, where a verify would read, and a purge delete, another deployment's keys. Refused
  // before any key is touched; a fix of the URL, not another try, helps (2, as for credentials).
  const problem = await wrongDatabase(redis, database, socketError && isSelectRefusal(socketError) ? socketError.message : undefined);
  if (problem) {
    redis.disconnect();
    throw new CliError(`--redis-url: Redis at ${where} ${problem}`);
  }
  return redis;
}

/**
 * A Cluster client that has its slot map, or a clear error naming the seeds. `url` (--redis-url or
 * REDIS_URL) is not used, but may name no database other than 0, as the services' configuration
 * demands beside REDIS_CLUSTER_NODES: a Redis Cluster has database 0 only, so a command meant for
 * another database would read, or a purge delete, database 0's keys. Refused before connecting.
 */
async function connectCluster(nodes: string, url: string, livenessMs: number): Promise<RedisConnection> {
  let database: number;
  try {
    database = redisUrlDatabase(url, '--redis-url (or REDIS_URL)');
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}; with --cluster-nodes it names no database, or database 0`);
  }
  if (database !== 0) {
    throw new CliError(
      `--redis-url (or REDIS_URL) names database ${database}, but --cluster-nodes (or REDIS_CLUSTER_NODES) is given and a Redis Cluster ` +
        'has database 0 only; drop the database from the URL',
    );
  }
  let cluster: RedisConnection;
  try {
    cluster = createRedisConnection({ REDIS_URL: '', REDIS_CLUSTER_NODES: nodes, REDIS_LIVENESS_TIMEOUT_MS: livenessMs }, { name: 'replay-cli' });
  } catch (error) {
    throw new CliError(`--cluster-nodes: ${error instanceof Error ? error.message : String(error)}`);
  }
  cluster.on('error', () => undefined);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS).unref(),
  );
  try {
    await Promise.race([masterNodes(cluster), timeout]);
  } catch (error) {
    cluster.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot reach the Redis Cluster at ${nodes}: ${reason}`, refusedAccess(reason) ? EXIT_USAGE : EXIT_REDIS);
  }
  return cluster;
}

function parseIsoDate(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`"${value}" is not an ISO date, e.g. 2025-06-01T08:30:00Z`);
  }
  return date;
}

/** An option's default from the environment (undefined when unset), read as the option is: a value that does not read names its variable. */
/** Some of the services' variables, checked as a service checks them (the same rules and defaults); the rest at their defaults. */
function serviceSettings(values: Record<string, string | undefined>): Environment {
  try {
    return loadEnvironment(values);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.problems.join('; '));
    throw error;
  }
}

/** REDIS_LIVENESS_TIMEOUT_MS as the services read it. */
function livenessSetting(env: CliIo['env']): number {
  return serviceSettings({ REDIS_LIVENESS_TIMEOUT_MS: env.REDIS_LIVENESS_TIMEOUT_MS }).REDIS_LIVENESS_TIMEOUT_MS;
}

/**
 * PRIORITY_HEADSTART_MS_PER_POINT and DEADLINE_LEAD_MS as the services read them, so an import
 * never scores the queue with a value the services would refuse.
 */
function queueSettings(env: CliIo['env']): Environment {
  return serviceSettings({ PRIORITY_HEADSTART_MS_PER_POINT: env.PRIORITY_HEADSTART_MS_PER_POINT, DEADLINE_LEAD_MS: env.DEADLINE_LEAD_MS });
}

function environmentValue<T>(env: CliIo['env'], name: string, parse: (value: string) => T): T | undefined {
  const value = env[name];
  if (!value) return undefined;
  try {
    return parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The log heads to keep, each as `--anchor` takes it. A partition with no event yet has no head
 * to anchor: it is named apart, not printed as `<partition>:` with nothing after it.
 */
function logHeadsLine(heads: readonly string[]): string {
  const kept = heads.flatMap((head, partition) => (head ? [`${partition}:${head}`] : []));
  const empty = heads.flatMap((head, partition) => (head ? [] : [String(partition)]));
  const none = empty.length ? ` (no events yet, so no head: partition${empty.length === 1 ? '' : 's'} ${empty.join(', ')})` : '';
  return `Log heads (keep a copy elsewhere; verify --anchor <partition>:<hash> later finds a log rewritten up to them): ${kept.join(' ') || 'none'}${none}`;
}

/** One `--anchor <partition>:<hash>` (a log head as verify prints it), added to those before it. */
function collectAnchor(value: string, previous: LogAnchor[]): LogAnchor[] {
  const match = /^(\d{1,4}):([0-9a-f]{40})$/.exec(value);
  if (!match)
    throw new InvalidArgumentError(`"${value}" is not <partition>:<hash>, a log head as verify prints it (e.g. 0:3f786850e387550fdab836ed7e6dc881de23001b)`);
  return [...previous, { partition: Number(match[1]), hash: match[2] }];
}

/** --out: `-` is stdout, as for most tools that write a file (a file of that name is `./-`). */
function parseOut(value: string): string {
  return value === '-' ? '/dev/stdout' : value;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  return n;
}

function parseEventType(value: string): string {
  if (!(MISSION_EVENT_TYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`"${value}" is not an event type (${MISSION_EVENT_TYPES.join(', ')})`);
  }
  return value;
}

// ---- Output for people ----

/**
 * Whether `state` at this point (--at, --version, or now) would fold the entry: one without the time
 * or version asked by is taken to. An entry without its own time is no earlier than the event before
 * it (a mission's events are never dated before the one they follow): a point before that one is before it.
 */
function foldsAcross(entry: UnreadableLogEntry, point: { at?: Date; version?: number }, events: readonly MissionEvent[]): boolean {
  if (point.version !== undefined) return entry.version === undefined || entry.version <= point.version;
  if (!point.at) return true;
  const { version } = entry;
  const at = entry.at ?? (version === undefined ? undefined : events.filter((event) => event.version < version).at(-1)?.at);
  return !(Date.parse(at ?? '') > point.at.getTime());
}

function historyTable(rows: TimelineRow[], wide: boolean): string {
  const header = ['VER', 'AT', 'TYPE', 'ACTOR', ...(wide ? ['CORRELATION', 'CAUSATION'] : []), 'SUMMARY'];
  const body = rows.map((r) => [String(r.version ?? '?'), r.at, r.type, r.actor, ...(wide ? [r.correlationId, r.causationId] : []), r.summary]);
  return formatTable(header, body, { align: ['right'] });
}

function stateTable(state: Mission): string {
  const rows: [string, string | number][] = [
    ['title', state.title],
    ['type', state.type],
    ['status', state.status],
    ['version', state.version],
    ['priority', `${state.priority} (score ${state.priorityScore})`],
    ['attempts', state.attempts],
    ['agent', state.assignedAgentId ?? '-'],
    ['previous agents', state.previousAgentIds.join(', ') || '-'],
    [
      'evaluation',
      state.evaluation ? `${state.evaluation.score.toFixed(2)} ${state.evaluation.passed ? 'pass' : 'fail'} (attempt ${state.evaluation.attempt})` : '-',
    ],
    ['feedback', state.feedback ?? '-'],
    ['review', state.review ? reviewLine(state.review) : '-'],
    ['review rounds', state.reviewRounds ?? 0],
    ['last error', state.lastError ?? '-'],
    // Personal fields are not shown: the log holds them as tokens (README, Guest data); whom they are about is.
    ['data subjects', state.subjects?.join(', ') || '-'],
    ['erased subjects', state.erasedSubjects?.join(', ') || '-'],
    ['created', state.createdAt],
    ['updated', state.updatedAt],
  ];
  return keyValueTable(rows);
}

/** The review of the current result in one line: its rule, and the decision or how long it waits. */
function reviewLine(review: MissionReview): string {
  const asked = `rule ${review.rule}, attempt ${review.attempt}, asked ${review.requestedAt}`;
  if (!review.decision) return `${asked}, waiting${review.overdueAt ? ` (overdue since ${review.overdueAt})` : ''}`;
  const edited = review.originalOutput ? ' with edits' : '';
  return `${asked}, ${review.decision}${edited} by ${review.reviewedBy ?? '?'} at ${review.reviewedAt ?? '?'}`;
}

function keyValueTable(rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `  ${key.padEnd(width)}  ${forTerminal(String(value))}`).join('\n');
}

function findingsTable(findings: Finding[]): string {
  return formatTable(
    ['KIND', 'MISSION', 'VER', 'LOG ID', 'DETAIL'],
    findings.map((f) => [f.kind, f.missionId || '-', f.version === undefined ? '-' : String(f.version), f.logId || '-', f.detail]),
    { align: ['left', 'left', 'right'] },
  );
}

/** One cli-progress bar per phase, with rate and ETA, on stderr when it is a terminal. */
class ProgressView {
  private bar: SingleBar | undefined;
  private phase = '';
  private phaseStarted = 0;
  private readonly totals = new Map<string, number>();

  constructor(private readonly stream: NodeJS.WriteStream | undefined) {}

  get enabled(): boolean {
    return this.stream !== undefined;
  }

  /** For phases whose total the library cannot know (an import reads a stream). */
  setTotal(phase: string, total: number): void {
    this.totals.set(phase, total);
  }

  readonly listener: ProgressListener = (progress: Progress) => {
    if (!this.stream) return;
    const total = progress.total ?? this.totals.get(progress.phase) ?? progress.done;
    if (progress.phase !== this.phase || !this.bar) {
      this.stop();
      this.phase = progress.phase;
      this.phaseStarted = Date.now();
      this.bar = new SingleBar({
        stream: this.stream,
        format: '{phase} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}',
        barCompleteChar: '#',
        barIncompleteChar: '.',
        hideCursor: true,
        etaBuffer: 20,
        fps: 10,
      });
      this.bar.start(Math.max(total, 1), 0, { phase: progress.phase.padEnd(18), rate: '0' });
    }
    const seconds = (Date.now() - this.phaseStarted) / 1000;
    this.bar.setTotal(Math.max(total, progress.done, 1));
    this.bar.update(progress.done, { rate: seconds >= 0.5 ? String(Math.round(progress.done / seconds)) : '-' });
  };

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** Codes of a write whose reader is gone: a pipe's (EPIPE), a socket's (ECONNRESET), a stream destroyed after either. */
const READER_GONE = ['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED'];

/**
 * Why an export's file failed: the system's error, or its reader gone, said as such. Not how many
 * events that reader got: each write hands it a batch of up to DEFAULT_LOG_BATCH events, of which
 * a pipe takes what fits, so a count would say none, or all, of what it holds.
 */
function describeWriteFailure(error: NodeJS.ErrnoException): string {
  return error.code !== undefined && READER_GONE.includes(error.code) ? `the reader went away (${error.code})` : error.message;
}

/** What a prefix holds that an export does not carry: live schedules, webhook subscriptions and registered agents. */
interface NotExported {
  schedules: number;
  webhookSubscriptions: number;
  agents: number;
}

async function notExported(redis: RedisConnection, keys: KeyLayout): Promise<NotExported> {
  // Three hash tags ({s}, {a}, the webhooks'): three commands, not one MULTI, on Redis Cluster.
  const [schedules, webhookSubscriptions, agents] = await Promise.all([
    redis.hlen(keys.schedules),
    redis.hlen(new WebhookKeys(keys).subscriptions),
    redis.hlen(keys.agents),
  ]);
  return { schedules, webhookSubscriptions, agents };
}

/** `1 schedule, 2 webhook subscriptions and 43 agents`, naming only what there is; '' for nothing. */
function describeLeftOut({ schedules, webhookSubscriptions, agents }: NotExported): string {
  const named = [
    [schedules, 'schedule'],
    [webhookSubscriptions, 'webhook subscription'],
    [agents, 'agent'],
  ].flatMap(([count, what]) => (count ? [`${count} ${what}${count === 1 ? '' : 's'}`] : []));
  return named.length > 1 ? `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}` : (named[0] ?? '');
}

if (require.main === module) {
  // `replay history <id> | head`: done, exit 0.
  exitQuietlyWhenStdoutCloses(EXIT_OK);
  runReplay(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      setTimeout(() => process.exit(code), 2_000).unref();
    },
    (error: unknown) => {
      process.stderr.write(`replay: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT_USAGE;
    },
  );
}
