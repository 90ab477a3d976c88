/** What the agents API answers (the fields the bench uses). */
interface AgentView {
  id: string;
  capacity: number;
  skills: string[];
  status?: string;
}

export interface AgentCapacity {
  agents: number;
  /** Slots of all online agents before and after scaling. */
  slotsBefore: number;
  slotsAfter: number;
  scale: number;
}

/** Largest capacity the agents API accepts. */
const MAX_CAPACITY = 1_000;

async function call(url: string, apiKey: string, init: RequestInit = {}): Promise<unknown> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

/** The registry as the agents API shows it (seeded from fixtures/agents.json on a fresh prefix). */
export async function agentCapacity(baseUrl: string, apiKey: string): Promise<{ agents: number; slots: number }> {
  const agents = (await call(`${baseUrl}/api/agents`, apiKey)) as AgentView[];
  const online = agents.filter((agent) => (agent.status ?? 'online') === 'online');
  return { agents: agents.length, slots: online.reduce((sum, agent) => sum + agent.capacity, 0) };
}

/**
 * Multiplies every agent's capacity through the agents API (PATCH, operator role), so that the
 * pipeline rather than the seeded 43 agent slots bounds the throughput. Off by default: the
 * headline figures are for the registry as shipped.
 */
export async function scaleAgentCapacity(baseUrl: string, operatorKey: string, scale: number): Promise<AgentCapacity> {
  const agents = (await call(`${baseUrl}/api/agents`, operatorKey)) as AgentView[];
  let before = 0;
  let after = 0;
  for (const agent of agents) {
    const capacity = Math.min(MAX_CAPACITY, Math.max(1, Math.round(agent.capacity * scale)));
    before += agent.capacity;
    after += capacity;
    if (capacity !== agent.capacity) {
      await call(`${baseUrl}/api/agents/${encodeURIComponent(agent.id)}`, operatorKey, { method: 'PATCH', body: JSON.stringify({ capacity }) });
    }
  }
  return { agents: agents.length, slotsBefore: before, slotsAfter: after, scale };
}
