import { isMissionType, Mission, REVIEW_BASIS } from '@app/mission/browser';

/** A payload field as shown: text as written (`[redacted]` to a reader key), other values as JSON, `—` when there is none. */
const payloadText = (value: unknown): string =>
  value === undefined || value === null || value === '' ? '—' : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * The request as it was sent, as rows of a `dl`: the staff's summary, then the payload fields a
 * result is judged by (REVIEW_BASIS: a guest's own words in their lines, their language, a
 * pricing's rates). The review card and the mission's page show the same rows.
 */
export function RequestRows({ mission }: { mission: Mission }) {
  const basis = isMissionType(mission.type) ? REVIEW_BASIS[mission.type] : [];
  return (
    <>
      <div>
        <dt>Request</dt>
        <dd class="as-written">{mission.description || '—'}</dd>
      </div>
      {basis.map(({ key, label }) => (
        <div key={key}>
          <dt>{label}</dt>
          <dd class="as-written">{payloadText(mission.payload[key])}</dd>
        </div>
      ))}
    </>
  );
}

/** The rest of the request (a room number, a booking), folded: the judge's no_invented_facts holds the reply to all of it. */
export function WholePayload({ mission }: { mission: Mission }) {
  return (
    <details>
      <summary>Whole payload</summary>
      <pre>{JSON.stringify(mission.payload, null, 2)}</pre>
    </details>
  );
}
