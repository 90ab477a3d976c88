/** What one bench run measures and how hard; the CLI (scripts/bench.ts) and the smoke test fill it. */
export interface BenchOptions {
  /** Missions of the throughput phase and of the BullMQ peer's flood; 0 skips both. */
  missions: number;
  /** Missions per `createMany` (system) or `addBulk` (BullMQ) call in the throughput phase. */
  submitBatch: number;
  /** Offered missions/s of the latency phase, the system's and the BullMQ peer's; 0 skips both. */
  rate: number;
  duration: number;
  /** MOCK_LLM_LATENCY_MS of the services (informational here: the caller starts them). */
  llmLatencyMs: number;
  /** The HTTP phase, the system's and the bare peer's. */
  httpSeconds: number;
  httpConnections: number;
  /**
   * When set, each HTTP load ends after this many requests instead of after httpSeconds (the rate
   * is still 2xx over the time taken): a short window on a machine busy with other work can end
   * before a single create is answered, which measures nothing. For the smoke test.
   */
  httpRequests?: number;
  skipHttp: boolean;
  /** Events of the synthetic log for the replay figures and the raw-read peer; 0 leaves them to the run's own log. */
  replayEvents: number;
  skipReplay: boolean;
  /** No peers, so no ratios. */
  skipPeers: boolean;
  /** Multiplies every agent's capacity (agents API) first; 1 = the 43 slots seeded from fixtures/agents.json. */
  agentCapacityScale: number;
  /** Finished missions sampled for the footprint. */
  footprintSample: number;
  /** A phase that makes no progress for this long fails; none waits longer than phaseTimeoutS. */
  stallTimeoutS: number;
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
  skipReplay: false,
  skipPeers: false,
  agentCapacityScale: 1,
  footprintSample: 500,
  stallTimeoutS: 60,
  phaseTimeoutS: 900,
  smoke: false,
};

/** `--smoke`: every phase and peer runs, each small and short, so CI sees the whole bench work in well under a minute. */
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
