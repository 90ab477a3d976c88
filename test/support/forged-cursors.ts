/**
 * List cursors a forger might send (`?cursor=` of GET /api/missions and /api/reviews, ctl's
 * `--cursor`), each one the API must refuse as not issued: the bytes of the format
 * (page-cursor-format.ts) with something wrong, and the JSON of intakes before it.
 */
const FORMAT = 2;
const BINDING = Buffer.alloc(9);
const bytes = (...positions: Buffer[]) => Buffer.concat([Buffer.of(FORMAT), BINDING, ...positions]).toString('base64url');
const score = (value: bigint) => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(value);
  return buffer;
};
/** Of an older intake: JSON with a binding and positions counting the entries passed at a score. */
const counting = (positions: object[]) => Buffer.from(JSON.stringify({ f: 'AAAAAAAAAAAA', p: positions })).toString('base64url');
/** A well-formed cursor of `partitions` partitions not read yet (a binding of no list): what a deployment with another LOG_PARTITIONS refuses. */
export const unreadCursor = (partitions: number) => bytes(...Array.from({ length: partitions }, () => Buffer.of(0)));
/** One unread partition, 11 bytes: 15 characters whose last carries 2 bits no byte holds. */
const unread = unreadCursor(1);

export const FORGED_CURSORS: Record<string, string> = {
  'a score past a safe integer': bytes(Buffer.of(1), score(2n ** 62n)),
  'an unknown position tag': bytes(Buffer.of(7), score(0n)),
  'a position cut short': bytes(Buffer.of(2), score(1_746_091_800_000n), Buffer.alloc(5)),
  'no position': bytes(),
  'another spelling of the same bytes': `${unread.slice(0, -1)}${unread.at(-1) === 'A' ? 'B' : 'A'}`,
  'a counting cursor of an older intake': counting([{ s: 1_746_091_800_000, k: 1 }]),
  'a counting cursor with k = 1e21': counting([{ s: null, k: 1e21 }]),
};
