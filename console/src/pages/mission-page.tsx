import { useState } from 'preact/hooks';
import { Mission, MissionEvent, MissionStatus, ShownMission } from '@app/mission/browser';
import { allows, api, Caller } from '../api';
import { localTime } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { ErrorNote, Outcome, PageTitle, useAction, useDocumentTitle, useLoaded } from '../parts';
import { RequestRows, WholePayload } from '../request-view';
import { UnavailableGuestDataNote } from '../unavailable';
import { missionsListAddress } from './missions-page';

interface ChainCheck {
  verified: boolean;
  events: number;
  problems: string[];
}

const FINISHED: readonly MissionStatus[] = ['succeeded', 'cancelled'];

/**
 * What a cancel stops, by the mission's status: the confirmation said "Its agent stops working on
 * it" for a dead-lettered mission or one awaiting review too, which no agent works on.
 */
function whatCancelStops(status: MissionStatus | undefined): string {
  switch (status) {
    case 'scheduled':
      return 'It will not start at its scheduled time.';
    case 'queued':
      return 'It leaves the queue; no agent will work on it.';
    case 'assigned':
    case 'running':
      return 'Its agent stops working on it.';
    case 'evaluating':
      return 'Its result, being judged, will not be delivered.';
    case 'awaiting_review':
      return 'Its result leaves the review inbox undecided and will not be delivered.';
    case 'dead_lettered':
      return 'It leaves the dead letters and can no longer be requeued.';
    default:
      return 'No agent will work on it any more.';
  }
}

export function MissionPage({ id, caller }: { id: string; caller: Caller }) {
  const mission = useLoaded(() => api<ShownMission>('GET', `/api/missions/${id}`), [id]);
  const events = useLoaded(() => api<MissionEvent[]>('GET', `/api/missions/${id}/events`), [id]);
  const chain = useLoaded(() => api<ChainCheck>('GET', `/api/missions/${id}/verify`), [id]);
  const reload = useThrottled(() => {
    mission.reload();
    events.reload();
    chain.reload();
  }, 300);
  const live = useLiveEvents({ missionId: id }, reload);
  const [version, setVersion] = useState('');
  const { busy, outcome, failure, run, heading } = useAction(reload);
  // The tab says which mission: every one's was "Mission".
  useDocumentTitle(mission.value ? `${mission.value.title} — Mission` : 'Mission');
  const atVersion = events.value?.find((event) => String(event.version) === version);
  // By version, not by the event's time: events appended together share it (created and queued), and a time named the last of them.
  const past = useLoaded(
    () => (atVersion ? api<Mission>('GET', `/api/missions/${id}?version=${atVersion.version}`) : Promise.resolve(undefined)),
    [id, atVersion?.version],
  );

  const cancel = () => {
    if (!window.confirm(`Cancel this mission? ${whatCancelStops(mission.value?.status)} This cannot be undone.`)) return;
    void run(async () => {
      await api('POST', `/api/missions/${id}/cancel`, { reason: 'cancelled in the console' });
      return 'The mission was cancelled.';
    });
  };
  const current = mission.value;

  return (
    <section aria-labelledby="mission-title">
      <p>
        <a href={missionsListAddress()}>← Missions</a>
      </p>
      <PageTitle live={live} headingRef={heading}>
        <span id="mission-title" dir="auto">
          {current?.title ?? 'Mission'}
        </span>
      </PageTitle>
      {/* Above all else on the page: what it shows of the guest cannot be trusted, and it needs an operator. As the stream said it, or the intake answered the mission. */}
      <UnavailableGuestDataNote missionId={id} listed={current} />
      <ErrorNote error={mission.error ?? failure} />
      {current && (
        <>
          <div class="actions">
            {chain.value && (
              <span class={`badge ${chain.value.verified ? 'verified' : 'broken'}`}>
                {/* Not "hash chain broken": the chain may hold while the mission shown is not the fold of its events. */}
                {chain.value.verified
                  ? `Hash chain verified (${chain.value.events} events)`
                  : `Not verified: ${chain.value.problems.length} ${chain.value.problems.length === 1 ? 'problem' : 'problems'}`}
              </span>
            )}
            {allows(caller.role, 'submitter') && !FINISHED.includes(current.status) && (
              <button type="button" class="danger" disabled={busy} onClick={cancel}>
                Cancel mission
              </button>
            )}
          </div>
          {/* As text, not a hover title: the keyboard and a screen reader never reached that. */}
          {chain.value && !chain.value.verified && (
            <ul class="error" aria-label="Verification problems">
              {chain.value.problems.map((problem, at) => (
                <li key={at}>{problem}</li>
              ))}
            </ul>
          )}
          <Outcome text={outcome} />
          <MissionFields mission={current} />
          {/* What was asked and what came of it: before, only the timeline's raw event data showed either. */}
          <h2>Request</h2>
          <dl class="fields review-basis">
            <RequestRows mission={current} />
          </dl>
          <WholePayload mission={current} />
          <MissionResult mission={current} />
        </>
      )}
      <h2>Timeline</h2>
      <ErrorNote error={events.error} />
      {/* Nothing loaded yet, or refused: no empty timeline, nor versions to choose from. */}
      {events.value && (
        <>
          <div class="table-wrap">
            <table>
              <caption>Every event of the mission, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Time</th>
                  <th scope="col">Event</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Data</th>
                </tr>
              </thead>
              <tbody>
                {events.value.map((event) => (
                  <tr key={event.eventId}>
                    <td>{event.version}</td>
                    <td>{localTime(event.at)}</td>
                    <td>{event.type}</td>
                    <td>{event.actor}</td>
                    <td>
                      <pre>{JSON.stringify(event.data, null, 1)}</pre>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h2>State at an earlier version</h2>
          <p class="hint">The mission as it was when that event was recorded (events written in the same instant show together).</p>
          <label>
            Version
            <select value={version} onChange={(event) => setVersion(event.currentTarget.value)}>
              <option value="">choose…</option>
              {events.value.map((event) => (
                <option key={event.version} value={String(event.version)}>
                  {event.version} · {event.type}
                </option>
              ))}
            </select>
          </label>
          <ErrorNote error={past.error} />
          {past.value && <MissionFields mission={past.value} />}
        </>
      )}
    </section>
  );
}

/** The latest attempt's output and the judge's verdict on it, or that there is none yet. */
function MissionResult({ mission }: { mission: Mission }) {
  return (
    <>
      <h2>Result</h2>
      {mission.result ? (
        <>
          <dl class="fields review-basis">
            <div>
              <dt>Model</dt>
              <dd>{mission.result.model}</dd>
            </div>
            <div>
              <dt>Judge's verdict</dt>
              <dd class="as-written">
                {mission.evaluation
                  ? `score ${mission.evaluation.score} (${mission.evaluation.passed ? 'passed' : 'failed'}): ${mission.evaluation.reason}`
                  : 'not judged yet'}
              </dd>
            </div>
          </dl>
          <pre aria-label={`Output of attempt ${mission.attempts}`}>{JSON.stringify(mission.result.output, null, 2)}</pre>
        </>
      ) : (
        <p class="hint">No result yet.</p>
      )}
    </>
  );
}

function MissionFields({ mission }: { mission: Mission }) {
  const rows: [string, string][] = [
    ['Status', mission.status],
    ['Type', mission.type],
    ['Priority', `${mission.priority} (score ${mission.priorityScore})`],
    ['Attempts', String(mission.attempts)],
    ['Agent', mission.assignedAgentId ?? '—'],
    ['Score', mission.evaluation ? `${mission.evaluation.score} (${mission.evaluation.passed ? 'passed' : 'failed'})` : '—'],
    ['Last error', mission.lastError ?? '—'],
    ['Version', String(mission.version)],
    ['Created', localTime(mission.createdAt)],
    ['Updated', localTime(mission.updatedAt)],
  ];
  return (
    <dl class="fields">
      {rows.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
