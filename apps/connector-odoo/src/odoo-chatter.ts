import { OdooClient, outcomeUnknown } from './odoo-client';
import { UncertainChatterPostError } from './uncertain-chatter-post-error';

/** The first Odoo release whose message_post takes `body_is_html`. */
const BODY_IS_HTML_SINCE = 17;

/**
 * How long after a post whose outcome is unknown a chatter search must come before a post is made
 * again: a few calls' time, and at least Odoo's limit_time_real (120 s by default), which ends a
 * worker's request still running, its transaction rolled back, with margin. Before it, a post still
 * running in Odoo may commit after the search, and a second one was posted.
 */
export function uncertainPostSettleMs(timeoutMs: number): number {
  return Math.max(4 * timeoutMs, 150_000);
}

/** How the connector posts to a record's chatter: an internal note, or a comment that notifies the followers. */
export type ChatterPostAs = 'note' | 'comment';

/**
 * Posts `body` to the record's chatter unless a post holding `marker` is there already (a crash
 * after a post and before it was recorded must not post twice); the message id either way, and
 * whether this call posted it. Only the connector's own posts count (authored by its user's
 * partner): a guest's mail lands in the same chatter, and mission ids are predictable, so a mail
 * quoting the marker would otherwise stop the post and be recorded as it.
 * A post whose outcome is unknown (sent, no answer in time) fails with an UncertainChatterPostError:
 * Odoo may commit it after the search of a quick retry, which then posted a second one (with
 * `comment`, a second mail to the guest). The caller keeps when (`uncertainSince`, ms): until
 * uncertainPostSettleMs after it (`now`), a search that finds nothing fails the same way, no post made.
 */
export async function postToChatterOnce(
  odoo: OdooClient,
  target: { model: string; recordId: number },
  marker: string,
  body: () => Promise<string> | string,
  postAs: ChatterPostAs,
  { uncertainSince, now }: { uncertainSince?: number; now: number },
): Promise<{ messageId: number; posted: boolean }> {
  const [earlier] = await odoo.executeKw<{ id: number }[]>(
    'mail.message',
    'search_read',
    [
      [
        ['model', '=', target.model],
        ['res_id', '=', target.recordId],
        ['body', 'ilike', marker],
        ['author_id', '=', await odoo.ownPartnerId()],
      ],
    ],
    { fields: ['id'], limit: 1 },
  );
  if (earlier) return { messageId: earlier.id, posted: false };
  if (uncertainSince !== undefined && now < uncertainSince + uncertainPostSettleMs(odoo.timeoutMs)) {
    throw new UncertainChatterPostError(
      `an earlier post of ${marker} to ${target.model} ${target.recordId} had no answer and is not in the chatter yet: Odoo may still commit it, so it is not posted again until that is sure`,
      false,
    );
  }
  const post = {
    body: await body(),
    // From Odoo 17 a body sent as text (RPC cannot send Markup) is escaped unless marked as HTML:
    // staff saw the tags. Odoo 16 takes it as HTML and knows no such argument.
    ...((await odoo.serverMajorVersion()) >= BODY_IS_HTML_SINCE ? { body_is_html: true } : {}),
    message_type: 'comment',
    subtype_xmlid: postAs === 'note' ? 'mail.mt_note' : 'mail.mt_comment',
  };
  try {
    return { messageId: await odoo.executeKw<number>(target.model, 'message_post', [[target.recordId]], post), posted: true };
  } catch (error) {
    if (!outcomeUnknown(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new UncertainChatterPostError(`${reason} (the post may have been made: the chatter is searched for it before any other)`, true);
  }
}

export const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
