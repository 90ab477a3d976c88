import { Agent, allows, api, Caller } from '../api';
import { useLiveEvents, useThrottled } from '../live';
import { ErrorNote, Outcome, PageTitle, useAction, useLoaded } from '../parts';

export function AgentsPage({ caller }: { caller: Caller }) {
  const { value: agents, error, reload } = useLoaded(() => api<Agent[]>('GET', '/api/agents'), []);
  // Load changes with assignments and the ends of attempts.
  const live = useLiveEvents(
    { type: 'MissionAssigned,MissionCompleted,MissionFailed,MissionEvaluated,MissionCancelled,MissionDeadLettered' },
    useThrottled(reload, 1_000),
  );
  const { busy, outcome, failure, run } = useAction(reload);
  const operator = allows(caller.role, 'operator');

  const setStatus = (agent: Agent, status: 'paused' | 'online') =>
    run(async () => {
      await api('PATCH', `/api/agents/${agent.id}`, { status, reason: status === 'paused' ? 'paused in the console' : 'resumed in the console' });
      return `${agent.name} is ${status}.`;
    });

  return (
    <section aria-labelledby="agents-title">
      <PageTitle live={live}>
        <span id="agents-title">Agents</span>
      </PageTitle>
      <Outcome text={outcome} />
      <ErrorNote error={error ?? failure} />
      <div class="table-wrap">
        <table>
          <caption>Agents, their load against capacity, credits and quality</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Load</th>
              <th scope="col">Credits</th>
              <th scope="col">Quality</th>
              <th scope="col">Skills</th>
              {operator && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {(agents ?? []).map((agent) => (
              <tr key={agent.id}>
                <td>
                  {agent.name} <span class="muted">{agent.id}</span>
                </td>
                <td>
                  <span class={`status status-${agent.status}`}>{agent.status}</span>
                </td>
                <td>
                  <meter min={0} max={agent.capacity} value={agent.load} aria-label={`${agent.name} load`} /> {agent.load}/{agent.capacity}
                </td>
                <td>{agent.credits}</td>
                <td>{agent.quality === null ? '—' : agent.quality.toFixed(2)}</td>
                <td>{agent.skills.join(', ')}</td>
                {operator && (
                  <td>
                    {agent.status === 'paused' ? (
                      <button type="button" aria-label={`Resume ${agent.name}`} disabled={busy} onClick={() => void setStatus(agent, 'online')}>
                        Resume
                      </button>
                    ) : (
                      <button type="button" aria-label={`Pause ${agent.name}`} disabled={busy} onClick={() => void setStatus(agent, 'paused')}>
                        Pause
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
