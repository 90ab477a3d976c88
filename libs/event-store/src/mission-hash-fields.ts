/**
 * The fields of a mission's hash (`PartitionKeys.mission`), declared once. The Lua scripts get
 * this table as the constant `MISSION_FIELDS` (see LuaScript's `constants`), so no field name is
 * known only to Lua; mission-hash-fields.spec.ts checks that no script spells one itself.
 */
export const MISSION_HASH_FIELDS = {
  /** Version: the number of events the mission has. */
  version: 'v',
  /** Status, as counted in the status counters. */
  status: 'st',
  /** The mission's state JSON (the read model). */
  state: 's',
  /** SHA-1 of the mission's last stored event (the head of its hash chain). */
  lastEventHash: 'h',
  /** Ready-queue score it was last queued with; a returned lease puts it back with it. */
  readyScore: 'rs',
  /** When it was last queued (ms): its score in the ready-since zset. */
  enqueuedAt: 'ea',
  /** Priority level it was last queued at: its field in the ready-by-level counts. */
  priorityLevel: 'pl',
  /** Its required skills, comma-separated: its field in the ready-by-skills counts and the name of its per-skill-set ready queue. */
  skillSet: 'sk',
  /**
   * W3C traceparent of the last traced append (only while tracing is on): work that picks the
   * mission up from a queue rather than from a message (the orchestrator's assignment) continues
   * the mission's trace from it.
   */
  traceParent: 'tp',
  /**
   * While dead-lettered, the reason its MissionDeadLettered gives (written and removed with the
   * dead-letter queue entry), so the dead-letter list needs no read of the log. A mission
   * dead-lettered before this field was written has none: the list reads its reason from the log.
   */
  deadLetterReason: 'dr',
} as const;
