/** The fields of the agents API the bench reads. */
interface AgentView {
  id: string;
  capacity: number;
  status?: string;
}

async function call(url: string, apiKey: string, init: RequestInit = {}): Promise<unknown> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

/** The registry as the agents API shows it (seeded from fixtures/agents.json on a fresh prefix): agents and the slots of those online. */
export async function agentCapacity(baseUrl: string, apiKey: string): Promise<{ agents: number; slots: number }> {
  const agents = (await call(`${baseUrl}/api/agents`, apiKey)) as AgentView[];
  return { agents: agents.length, slots: agents.filter((a) => (a.status ?? 'online') === 'online').reduce((sum, a) => sum + a.capacity, 0) };
}

/** Largest capacity the agents API accepts. */
const MAX_CAPACITY = 1_000;

/**
 * Multiplies every agent's capacity through the agents API (PATCH, operator role), so that the
 * pipeline rather than the seeded 43 slots bounds the throughput. Off by default: the headline
 * figures are for the registry as shipped.
 */
export async function scaleAgentCapacity(
  baseUrl: string,
  operatorKey: string,
  scale: number,
): Promise<{ agents: number; slotsBefore: number; slotsAfter: number }> {
  const agents = (await call(`${baseUrl}/api/agents`, operatorKey)) as AgentView[];
  let [slotsBefore, slotsAfter] = [0, 0];
  for (const agent of agents) {
    const capacity = Math.min(MAX_CAPACITY, Math.max(1, Math.round(agent.capacity * scale)));
    slotsBefore += agent.capacity;
    slotsAfter += capacity;
    if (capacity !== agent.capacity) {
      await call(`${baseUrl}/api/agents/${encodeURIComponent(agent.id)}`, operatorKey, { method: 'PATCH', body: JSON.stringify({ capacity }) });
    }
  }
  return { agents: agents.length, slotsBefore, slotsAfter };
}
