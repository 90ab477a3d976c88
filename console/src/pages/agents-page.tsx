import { useEffect } from 'preact/hooks';
import { AgentPublicView } from '@app/agents/browser';
import { allows, api, Caller } from '../api';
import { useLiveEvents, useThrottled } from '../live';
import { ErrorNote, Outcome, PageTitle, useAction, useLoaded } from '../parts';

/**
 * How often the page reads the agents again on its own: a pause, a resume or a new agent is no
 * mission event, so the live stream does not tell of another operator's change.
 */
const AGENTS_REFRESH_MS = 10_000;

/** What an operator may do with an agent in each status, and the reason its event records. */
const STATUS_ACTIONS = {
  online: { verb: 'Pause', to: 'paused', reason: 'paused in the console' },
  paused: { verb: 'Resume', to: 'online', reason: 'resumed in the console' },
  offline: { verb: 'Bring online', to: 'online', reason: 'brought online in the console' },
} as const;

export function AgentsPage({ caller }: { caller: Caller }) {
  const { value: agents, error, reload } = useLoaded(() => api<AgentPublicView[]>('GET', '/api/agents'), []);
  // Load changes with assignments and the ends of attempts.
  const live = useLiveEvents(
    { type: 'MissionAssigned,MissionCompleted,MissionFailed,MissionEvaluated,MissionCancelled,MissionDeadLettered' },
    useThrottled(reload, 1_000),
  );
  useEffect(() => {
    const timer = window.setInterval(reload, AGENTS_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
  const { busy, outcome, failure, run, heading } = useAction(reload);
  const operator = allows(caller.role, 'operator');

  const changeStatus = (agent: AgentPublicView) => {
    const { to, reason } = STATUS_ACTIONS[agent.status];
    return run(async () => {
      await api('PATCH', `/api/agents/${agent.id}`, { status: to, reason });
      return `${agent.name} is ${to}.`;
    });
  };

  return (
    <section aria-labelledby="agents-title">
      <PageTitle live={live} headingRef={heading}>
        <span id="agents-title">Agents</span>
      </PageTitle>
      <Outcome text={outcome} />
      <ErrorNote error={error ?? failure} />
      {/* Nothing loaded yet, or refused: no table, which would say there are no agents. */}
      {agents && (
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
              {agents.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    {agent.name} <span class="muted">{agent.id}</span>
                  </td>
                  <td>
                    <span class={`status status-${agent.status}`}>{agent.status}</span>
                    {agent.statusChange && (
                      <span class="muted">
                        {' '}
                        {agent.statusChange.reason} ({agent.statusChange.by})
                      </span>
                    )}
                  </td>
                  <td>
                    <meter min={0} max={agent.capacity} value={agent.load} aria-label={`${agent.name} load`} /> {agent.load}/{agent.capacity}
                  </td>
                  <td>{agent.credits}</td>
                  <td>{agent.quality === null ? '—' : agent.quality.toFixed(2)}</td>
                  <td>{agent.skills.join(', ')}</td>
                  {operator && (
                    <td>
                      <button
                        type="button"
                        aria-label={`${STATUS_ACTIONS[agent.status].verb} ${agent.name}`}
                        disabled={busy}
                        onClick={() => void changeStatus(agent)}
                      >
                        {STATUS_ACTIONS[agent.status].verb}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
