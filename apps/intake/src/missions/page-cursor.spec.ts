import { BadRequestException } from '@nestjs/common';
import { RequestValidationPipe } from '../http/request-validation.pipe';
import { ReviewInboxQuery } from '../reviews/review-inbox.query';
import { ListMissionsQuery } from './list-missions.query';
import { decodeCursor, encodeCursor, PageCursor } from './page-cursor';

const pipe = new RequestValidationPipe();
const asQuery = (metatype: typeof ListMissionsQuery | typeof ReviewInboxQuery, query: Record<string, string>) =>
  pipe.transform(query, { type: 'query', metatype });

describe('page cursors through the query validation', () => {
  it.each([6, 256])(
    'given the widest cursor the API issues for %i log partitions, when it comes back as ?cursor=, then both lists take it and it decodes',
    async (partitions) => {
      const widest: PageCursor[] = Array.from({ length: partitions }, () => ({ s: -Number.MAX_SAFE_INTEGER, k: Number.MAX_SAFE_INTEGER }));
      const cursor = encodeCursor(widest);

      // It was refused past 200 characters: with 6 partitions or more, no list had a second page.
      await expect(asQuery(ListMissionsQuery, { cursor })).resolves.toMatchObject({ cursor });
      await expect(asQuery(ReviewInboxQuery, { cursor })).resolves.toMatchObject({ cursor });
      expect(decodeCursor(cursor, partitions, Infinity)).toEqual(widest);
    },
  );

  it('given a cursor longer than any the API issues, or not base64url, then it is a 400', async () => {
    const tooLong = encodeCursor(Array.from({ length: 257 }, () => ({ s: -Number.MAX_SAFE_INTEGER, k: Number.MAX_SAFE_INTEGER })));
    await expect(asQuery(ListMissionsQuery, { cursor: tooLong })).rejects.toBeInstanceOf(BadRequestException);
    await expect(asQuery(ListMissionsQuery, { cursor: 'not a cursor' })).rejects.toBeInstanceOf(BadRequestException);
  });
});
