/** What one bench run measures and how hard; the CLI (scripts/bench.ts) and the smoke test fill it. */
export interface BenchOptions {
  /** Missions of the throughput phase; 0 skips it. */
  missions: number;
  /** Missions per `MissionClient.createMany` call in the throughput phase. */
  submitBatch: number;
  /** Offered rate of the latency phase, missions/s; 0 skips it. */
  rate: number;
  /** Length of the latency phase, s. */
  duration: number;
  /** MOCK_LLM_LATENCY_MS of the services (informational here: the caller starts the services). */
  llmLatencyMs: number;
  /** Length of the HTTP phase, s. */
  httpSeconds: number;
  httpConnections: number;
  skipHttp: boolean;
  /** Events of the synthetic log for the replay figures; 0 skips the synthetic log. */
  replayEvents: number;
  /**
   * Who writes the synthetic log: scripts/make-audit-log.ts when it is built ('auto'), or
   * MissionStore.append from here ('append', also the fallback).
   */
  syntheticWriter: 'auto' | 'make-audit-log' | 'append';
  /** Skips rebuild/verify altogether (the run's log and the synthetic one). */
  skipReplay: boolean;
  /**
   * Multiplies every agent's capacity (agents API) before the phases; 1 = the registry as seeded
   * from fixtures/agents.json (43 slots), which bounds throughput by itself.
   */
  agentCapacityScale: number;
  /** Finished missions sampled for the footprint. */
  footprintSample: number;
  /** A phase that makes no progress for this long fails the run. */
  stallTimeoutS: number;
  /** Upper bound of waiting for a phase's missions to finish. */
  phaseTimeoutS: number;
  smoke: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  missions: 20_000,
  submitBatch: 500,
  rate: 500,
  duration: 20,
  llmLatencyMs: 0,
  httpSeconds: 10,
  httpConnections: 50,
  skipHttp: false,
  replayEvents: 500_000,
  syntheticWriter: 'auto',
  skipReplay: false,
  agentCapacityScale: 1,
  footprintSample: 500,
  stallTimeoutS: 60,
  phaseTimeoutS: 900,
  smoke: false,
};

/** `--smoke`: every phase runs, each small and short, so CI sees the whole pipeline work in well under a minute. */
export const SMOKE_OPTIONS: Partial<BenchOptions> = {
  missions: 300,
  rate: 100,
  duration: 3,
  httpSeconds: 2,
  httpConnections: 10,
  replayEvents: 3_000,
  footprintSample: 100,
  stallTimeoutS: 30,
  phaseTimeoutS: 120,
  smoke: true,
};
