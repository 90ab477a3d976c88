import { OdooClient } from './odoo-client';

/** The first Odoo release whose message_post takes `body_is_html`. */
const BODY_IS_HTML_SINCE = 17;

/** How the connector posts to a record's chatter: an internal note, or a comment that notifies the followers. */
export type ChatterPostAs = 'note' | 'comment';

/**
 * Posts `body` to the record's chatter unless a post holding `marker` is there already (a crash
 * after a post and before it was recorded must not post twice); the message id either way, and
 * whether this call posted it. Only the connector's own posts count (authored by its user's
 * partner): a guest's mail lands in the same chatter, and mission ids are predictable, so a mail
 * quoting the marker would otherwise stop the post and be recorded as it.
 */
export async function postToChatterOnce(
  odoo: OdooClient,
  target: { model: string; recordId: number },
  marker: string,
  body: () => Promise<string> | string,
  postAs: ChatterPostAs,
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
  const messageId = await odoo.executeKw<number>(target.model, 'message_post', [[target.recordId]], {
    body: await body(),
    // From Odoo 17 a body sent as text (RPC cannot send Markup) is escaped unless marked as HTML:
    // staff saw the tags. Odoo 16 takes it as HTML and knows no such argument.
    ...((await odoo.serverMajorVersion()) >= BODY_IS_HTML_SINCE ? { body_is_html: true } : {}),
    message_type: 'comment',
    subtype_xmlid: postAs === 'note' ? 'mail.mt_note' : 'mail.mt_comment',
  });
  return { messageId, posted: true };
}

export const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
