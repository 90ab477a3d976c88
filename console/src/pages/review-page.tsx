import { RefCallback } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { MissionPage, ReviewInboxItem, ShownMission } from '@app/mission/browser';
import { allows, api, ApiFailure, Caller, query, UNREACHABLE } from '../api';
import { localTime } from '../format';
import { useLiveEvents, useThrottled } from '../live';
import { Announced, ErrorNote, HeldButton, Outcome, PageTitle, useFocusRescue, useLoaded } from '../parts';
import { RequestRows, WholePayload } from '../request-view';
import { listViewOf, showListView } from '../route';
import { UnavailableGuestDataNote } from '../unavailable';

/** Results per page: each comes with its output to read and edit. */
const REVIEWS_PER_PAGE = 20;

/** `address`: the address's query, which holds the pages turned (`#/review?cursor=…`). */
export function ReviewPage({ caller, address }: { caller: Caller; address: string }) {
  // No filters: the inbox is one list, the longest waiting first.
  const { filters, cursors } = listViewOf(address, []);
  const path = `/api/reviews${query({ cursor: cursors.at(-1), limit: String(REVIEWS_PER_PAGE) })}`;
  const inbox = useLoaded((signal) => api<MissionPage<ReviewInboxItem>>('GET', path, undefined, { signal }), [path]);
  // Said here, not in the card: the card leaves the inbox with the decision, and the focus with it.
  const [notice, setNotice] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // A page turned to a single page (back to the first, all on it) takes the pager away, and the focus on it to the heading.
  const rescueFocus = useFocusRescue(heading, inbox.value !== undefined, [inbox.value]);
  const [paged, setPaged] = useState(false);
  const turn = (pageCursors: string[]) => {
    setPaged(true);
    rescueFocus();
    showListView('review', { filters, cursors: pageCursors });
  };
  // Cards the user typed into (feedback, an edit), by card key: one that leaves the inbox by
  // another's hand (decided, cancelled) stays, so what was typed is not lost without a word. So does
  // one whose decision failed here (failedHere).
  const [typedIn, setTypedIn] = useState<ReadonlyMap<string, ReviewInboxItem>>(new Map());
  const keep = (key: string, mission: ReviewInboxItem) => setTypedIn((current) => (current.has(key) ? current : new Map(current).set(key, mission)));
  const forget = (key: string) =>
    setTypedIn((current) => {
      if (!current.has(key)) return current;
      const next = new Map(current);
      next.delete(key);
      return next;
    });
  /** Cards decided here: their leaving the inbox is said as the decision, not as another's. */
  const decidedHere = useRef(new Set<string>());
  /**
   * Cards whose decision here failed without a refusal (mayHaveBeenRecorded): kept, with their error,
   * when they leave the inbox, which the decision may have done after all. A 500 that came after the
   * decision was recorded unmounted the card, its error with it, and blamed another reviewer.
   */
  const failedHere = useRef(new Set<string>());
  /** Each card's element by card key, to move the focus to. */
  const cards = useRef(new Map<string, HTMLElement>());
  /** The cards to decide as last rendered: a decision answers after renders its closure did not see. */
  const toDecide = useRef<string[]>([]);
  const decided = (key: string, text: string) => {
    decidedHere.current.add(key);
    failedHere.current.delete(key);
    forget(key);
    setNotice(text);
    // The decided card leaves, and the focus with it: it goes on to the next card to decide (the one
    // before, after the last), so a keyboard reviewer works down the inbox without finding their
    // place again from the top; to the heading once none is left.
    const open = toDecide.current.filter((other) => other === key || !decidedHere.current.has(other));
    const at = open.indexOf(key);
    const next = open[at + 1] ?? open[at - 1];
    (cards.current.get(next ?? '') ?? heading.current)?.focus();
    inbox.reload();
  };
  // A result decided by another reviewer, or cancelled, leaves the page: said, and a focus that was
  // in its card goes to the heading (to the card, kept, when its decision failed here), not the
  // body, where the next Tab would start at the top.
  const shownBefore = useRef<ReadonlyMap<string, ReviewInboxItem> | null>(null);
  useEffect(() => {
    // None while a page turned to loads: what it showed did not leave the inbox.
    if (!inbox.value) {
      shownBefore.current = null;
      return;
    }
    const before = shownBefore.current;
    const now = new Map(inbox.value.items.map((mission) => [cardKey(mission), mission]));
    shownBefore.current = now;
    if (!before) return;
    const left = [...before].filter(([key]) => !now.has(key) && !decidedHere.current.delete(key));
    // One whose decision failed here says so on its card, which stays: maybe it was this reviewer's.
    const blamed = left.filter(([key]) => !failedHere.current.has(key)).map(([, mission]) => mission.title);
    if (blamed.length > 0) setNotice(`${blamed.join(', ')}: left the inbox, decided by another reviewer or cancelled.`);
    if (left.length === 0) return;
    const failed = left.find(([key]) => failedHere.current.has(key));
    const focused = document.activeElement;
    if (!focused || focused === document.body || !focused.isConnected) (cards.current.get(failed?.[0] ?? '') ?? heading.current)?.focus();
  }, [inbox.value]);
  // Into the inbox (awaiting_review) and out of it (approved; rejected and queued again, or dead-lettered by the last round; cancelled).
  const live = useLiveEvents({ status: 'awaiting_review,queued,succeeded,dead_lettered,cancelled' }, useThrottled(inbox.reload, 500));
  const items = inbox.value?.items ?? [];
  const inInbox = new Set(items.map(cardKey));
  const gone = [...typedIn].filter(([key]) => !inInbox.has(key)).map(([, mission]) => mission);
  toDecide.current = items.map(cardKey);
  return (
    <section aria-labelledby="review-title">
      <PageTitle live={live} headingRef={heading}>
        <span id="review-title">Review</span>
      </PageTitle>
      <Outcome text={notice} />
      <ErrorNote error={inbox.error} />
      {/* A later page emptied (by the decisions taken on it) says where the rest is: it said nothing at all. */}
      {items.length === 0 &&
        inbox.value &&
        (cursors.length === 0 ? <p>Nothing waits for review.</p> : <p>Nothing more recent waits for review; go to Longer waiting for the earlier results.</p>)}
      {[...items, ...gone].map((mission) => {
        // A newer attempt under review is another card: nothing typed about the one before carries over to it.
        const key = cardKey(mission);
        return (
          <ReviewItem
            key={key}
            cardRef={(card) => {
              if (card) cards.current.set(key, card);
              else cards.current.delete(key);
            }}
            mission={mission}
            mayReview={allows(caller.role, 'reviewer')}
            left={!inInbox.has(key)}
            onTyped={(dirty) => {
              if (dirty) keep(key, mission);
              else if (!failedHere.current.has(key)) forget(key);
            }}
            onDismiss={() => {
              failedHere.current.delete(key);
              forget(key);
              heading.current?.focus();
            }}
            onDone={(text) => decided(key, text)}
            onFailed={(failure) => {
              if (mayHaveBeenRecorded(failure)) {
                failedHere.current.add(key);
                keep(key, mission);
              }
              inbox.reload();
            }}
          />
        );
      })}
      <Announced text={inbox.value && `${items.length} results on this page, the longest waiting first`} />
      {/* Kept while the page asked for loads (the focus is on its button), held, not disabled, so the focus stays; gone with a single page, when the focus goes to the heading. */}
      {(cursors.length > 0 || inbox.value?.nextCursor || (!inbox.value && paged)) && (
        <div class="pager">
          <HeldButton held={cursors.length === 0} onClick={() => turn(cursors.slice(0, -1))}>
            Longer waiting
          </HeldButton>
          <HeldButton held={!inbox.value?.nextCursor} onClick={() => inbox.value?.nextCursor && turn([...cursors, inbox.value.nextCursor])}>
            More recent
          </HeldButton>
        </div>
      )}
    </section>
  );
}

const cardKey = (mission: ShownMission) => `${mission.id}:${mission.attempts}`;

/**
 * What a rejection did, by the mission it answered: queued for another attempt, or, in its last
 * review round (MAX_REVIEW_ROUNDS), dead-lettered, which a reviewer cannot see on Dead letters.
 */
function rejectedAs(after: ShownMission): string {
  return after.status === 'dead_lettered' ? 'rejected; that was its last review round, so it was dead-lettered: an operator can requeue it.' : 'rejected.';
}

/** The edited output, or why it is no JSON: the parser's words (where it broke), and the usual cause. */
function parsedEdit(edited: string): { output: unknown; invalid?: undefined } | { output?: undefined; invalid: string } {
  try {
    return { output: JSON.parse(edited) as unknown };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { invalid: `The edited output is not valid JSON: ${why}. Write a line break inside a text as \\n.` };
  }
}

/**
 * Whether a decision that failed may have been recorded all the same: no answer came, or the
 * intake's own failure (5xx), which may come after the append. Not a refusal (4xx), which records nothing.
 */
function mayHaveBeenRecorded(failure: unknown): boolean {
  return !(failure instanceof ApiFailure) || failure.status === UNREACHABLE || failure.status >= 500;
}

/** Why each decision button of a card waits, when it does. */
const UNSAVED = "The output is edited: Approve would approve the agent's result as it was, so it waits until you use Edit and approve, or undo the edits.";
const NOT_EDITED = 'Edit the output first: Edit and approve approves the output as you edited it.';
const NO_FEEDBACK = 'Write feedback first: a rejection tells the agent what to change.';
/** Said by Reject, and its description, when a rejection would dead-letter the mission (lastReviewRound): it is said afterwards too (rejectedAs). */
const LAST_ROUND = 'Last review round: a rejection dead-letters it, and only an operator can requeue it.';
/** Why a card whose guest data is damaged offers no decision; the intake refuses each with a 409 too. */
const NO_DECISION_ON_DAMAGED =
  'No decision can be taken on this result while its guest data is damaged: Approve would send the guest a reply no one here could read, and Reject ' +
  'would send the request to an agent that cannot read it either. Once an operator has mended it, it can be decided here; meanwhile an operator can cancel the mission on its page.';

interface ReviewItemProps {
  /** The card's element, focusable from code: a decision on the card before moves the focus to it. */
  cardRef: RefCallback<HTMLElement>;
  mission: ReviewInboxItem;
  mayReview: boolean;
  /** The result left the inbox by another's hand while the user had typed in its card. */
  left: boolean;
  onTyped: (dirty: boolean) => void;
  onDismiss: () => void;
  onDone: (text: string) => void;
  /**
   * A decision refused (another reviewer's came first, the mission was cancelled), or failed: the
   * inbox is read again, as the other pages do after an action, so the card does not keep offering a
   * decision that cannot be taken while the live stream, which would have said so, is down.
   */
  onFailed: (failure: unknown) => void;
}

function ReviewItem({ cardRef, mission, mayReview, left, onTyped, onDismiss, onDone, onFailed }: ReviewItemProps) {
  const original = JSON.stringify(mission.result?.output ?? {}, null, 2);
  const [edited, setEdited] = useState(original);
  const [feedback, setFeedback] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  /** Why a button pressed could not act (an edit pending, no feedback yet), said below them. */
  const [said, setSaid] = useState<string | null>(null);
  const approveButton = useRef<HTMLButtonElement>(null);
  // Its output reads [unavailable]: nothing here is what would be sent, or what the agent was asked.
  // Only as the intake answers it now, which refuses the decisions alike: a live stream's note (kept
  // for the session) may be of an event mended since, or of the log alone, and held the card undecidable.
  const damaged = mission.unavailable !== undefined;
  const decidable = mayReview && !damaged;
  const editing = edited !== original;
  const dirty = editing || feedback.trim() !== '';
  useEffect(() => onTyped(dirty), [dirty]);
  // `attempt`: the decision is taken on the result shown here only; a newer one under review meanwhile is a 409.
  // `done`: what the decision did, said from the mission it answers (a rejection may have dead-lettered it).
  const act = async (path: string, body: object, done: (after: ShownMission) => string) => {
    setBusy(true);
    try {
      const after = await api<ShownMission>('POST', `/api/missions/${mission.id}/${path}`, { ...body, attempt: mission.attempts });
      setFailure(null);
      onDone(`${mission.title}: ${done(after)}`);
    } catch (caught) {
      setFailure(caught);
      onFailed(caught);
    } finally {
      setBusy(false);
    }
  };
  // Why the edit is no JSON, by the textarea (its description, and marked invalid) while it is not:
  // it said "not valid JSON" alone, and a line break typed into a text is the usual cause.
  const [invalidEdit, setInvalidEdit] = useState<string | null>(null);
  const editAndApprove = () => {
    const parsed = parsedEdit(edited);
    setInvalidEdit(parsed.invalid ?? null);
    if (parsed.invalid === undefined) void act('approve', { output: parsed.output }, () => 'approved with edits.');
  };
  // Per card, as the card's key: a card kept for what was typed in it stands beside the newer attempt's card of the same mission.
  const card = `${mission.id}-${mission.attempts}`;
  const ids = {
    title: `title-${card}`,
    output: `output-${card}`,
    invalid: `invalid-${card}`,
    feedback: `feedback-${card}`,
    unsaved: `unsaved-${card}`,
    lastRound: `last-round-${card}`,
  };

  return (
    <article ref={cardRef} tabIndex={-1} class="review" aria-labelledby={ids.title}>
      <h2 id={ids.title}>
        <a href={`#/missions/${mission.id}`} dir="auto">
          {mission.title}
        </a>
      </h2>
      <UnavailableGuestDataNote missionId={mission.id} listed={mission} compact />
      <p class="muted">
        {/* When the result came in for review: updatedAt moves on with MissionReviewOverdue, which is no news of the result. */}
        {mission.type} · {mission.priority} · attempt {mission.attempts} ·{' '}
        {mission.review ? `review asked for ${localTime(mission.review.requestedAt)}` : `updated ${localTime(mission.updatedAt)}`}
      </p>
      {/* What to judge the result by: the request as it was sent (the staff's summary, then the payload fields the rubric and the review policy turn on: a guest's own words in their lines, their language, a pricing's rates), which review rule held the result, and why the judge passed it. */}
      <dl class="fields review-basis">
        <RequestRows mission={mission} />
        {mission.review && (
          <div>
            <dt>Held by rule</dt>
            <dd>
              {mission.review.rule}
              {mission.review.overdueAt ? ` · overdue since ${localTime(mission.review.overdueAt)}` : ''}
            </dd>
          </div>
        )}
        {mission.evaluation && (
          <div>
            <dt>Judge's verdict</dt>
            <dd class="as-written">
              score {mission.evaluation.score}: {mission.evaluation.reason}
            </dd>
          </div>
        )}
      </dl>
      <WholePayload mission={mission} />
      {left && (
        <p class="error" role="note">
          {failure && mayHaveBeenRecorded(failure)
            ? "This result has left the inbox since your decision failed (below): it may have been recorded all the same (the mission's timeline says), or another reviewer decided it, or it was cancelled."
            : 'This result has left the inbox: another reviewer decided it, or it was cancelled.'}{' '}
          Nothing can be decided here any more; what you typed stays below to copy.{' '}
          <button type="button" class="link" onClick={onDismiss}>
            Dismiss
          </button>
        </p>
      )}
      <label for={ids.output}>Output</label>
      <textarea
        id={ids.output}
        rows={8}
        readOnly={!decidable}
        value={edited}
        aria-invalid={invalidEdit ? 'true' : undefined}
        aria-describedby={invalidEdit ? ids.invalid : undefined}
        onInput={(event) => {
          const value = event.currentTarget.value;
          setEdited(value);
          setSaid(null);
          // Said again as the text is mended (the place moves), and gone once it is JSON.
          if (invalidEdit) setInvalidEdit(parsedEdit(value).invalid ?? null);
        }}
      />
      {invalidEdit && (
        <p id={ids.invalid} role="alert" class="error">
          {invalidEdit}
        </p>
      )}
      {mayReview && damaged && !left && <p class="muted">{NO_DECISION_ON_DAMAGED}</p>}
      {decidable && (
        <>
          <label for={ids.feedback}>Feedback (for Reject)</label>
          <textarea
            id={ids.feedback}
            dir="auto"
            rows={2}
            value={feedback}
            onInput={(event) => {
              setFeedback(event.currentTarget.value);
              setSaid(null);
            }}
          />
        </>
      )}
      {decidable && !left && (
        <>
          {editing && (
            <p id={ids.unsaved} class="muted">
              {UNSAVED} {/* It goes with the edits: the focus goes to Approve, which it lets act again. */}
              <button
                type="button"
                class="link"
                disabled={busy}
                onClick={() => {
                  setEdited(original);
                  setInvalidEdit(null);
                  setSaid(null);
                  approveButton.current?.focus();
                }}
              >
                Undo edits
              </button>
            </p>
          )}
          {/* Held, not disabled, while they cannot act: reachable by Tab, with why as their description, said when pressed. */}
          <div class="actions">
            <HeldButton
              held={busy || editing}
              reason={editing ? UNSAVED : undefined}
              describedBy={editing ? ids.unsaved : undefined}
              onHeld={setSaid}
              buttonRef={approveButton}
              onClick={() => void act('approve', {}, () => 'approved.')}
            >
              Approve
            </HeldButton>
            <HeldButton held={busy || !editing} reason={busy ? undefined : NOT_EDITED} onHeld={setSaid} onClick={editAndApprove}>
              Edit and approve
            </HeldButton>
            <HeldButton
              class="danger"
              held={busy || feedback.trim() === ''}
              reason={busy ? undefined : NO_FEEDBACK}
              onHeld={setSaid}
              notedBy={mission.lastReviewRound ? ids.lastRound : undefined}
              onClick={() => void act('reject', { feedback: feedback.trim() }, rejectedAs)}
            >
              Reject
            </HeldButton>
            {/* Before the rejection, not only after it: the reviewer may approve with an edit instead. */}
            {mission.lastReviewRound && (
              <span id={ids.lastRound} class="last-round">
                {LAST_ROUND}
              </span>
            )}
          </div>
          <Outcome text={said} />
        </>
      )}
      <ErrorNote error={failure} />
    </article>
  );
}
