import { ArgumentMetadata, BadRequestException, Type } from '@nestjs/common';
import { UpdateAgentBody } from '@app/agents';
import { ThroughputQuery } from '../console/throughput.query';
import { DeadLetterListQuery } from '../dead-letters/dead-letter-list.query';
import { ListMissionsQuery } from '../missions/list-missions.query';
import { MissionAtQuery } from '../missions/time-travel.query';
import { ReviewInboxQuery } from '../reviews/review-inbox.query';
import { StreamQuery } from '../stream/stream.query';
import { ListDeliveriesQuery } from '../webhooks/webhook.bodies';
import { parseQuery } from './query-parser';
import { FieldErrorBody, RequestValidationPipe } from './request-validation.pipe';

const pipe = new RequestValidationPipe();

/** A query string as the intake's query parser hands it to the pipe. */
const query = (metatype: Type, search: string): Promise<unknown> => pipe.transform(parseQuery(search), { type: 'query', metatype } as ArgumentMetadata);

async function detailsOf(answer: Promise<unknown>): Promise<FieldErrorBody[]> {
  const error: unknown = await answer.then(
    () => undefined,
    (refused: unknown) => refused,
  );
  expect(error).toBeInstanceOf(BadRequestException);
  return ((error as BadRequestException).getResponse() as { details: FieldErrorBody[] }).details;
}

const unknown = (name: string): FieldErrorBody => ({ field: name, problems: [`property ${name} should not exist`] });

describe('RequestValidationPipe', () => {
  describe('keys named after members of Object.prototype', () => {
    it.each([ListMissionsQuery, DeadLetterListQuery, ReviewInboxQuery])(
      'given one in the query of %p, then each is a property that should not exist',
      async (metatype) => {
        // class-transformer skipped them (their value on a new instance is a function), so the whitelist never saw them: a 200.
        const names = ['hasOwnProperty', 'toString', 'valueOf', 'constructor', '__proto__'];
        for (const name of names) expect(await detailsOf(query(metatype, `${name}=1`))).toEqual([unknown(name)]);
      },
    );

    it('given one in a body, then it is a property that should not exist, beside the problems of the declared fields', async () => {
      const body = (value: object) => pipe.transform(value, { type: 'body', metatype: UpdateAgentBody });
      expect(await detailsOf(body({ toString: 'x' }))).toEqual([unknown('toString')]);
      expect(await detailsOf(body({ valueOf: { a: 1 } }))).toEqual([unknown('valueOf')]);
      expect(await detailsOf(body({ isPrototypeOf: 1, bogus: 1 }))).toEqual([unknown('isPrototypeOf'), unknown('bogus')]);
      const both = await detailsOf(body({ toString: 'x', capacity: 'many' }));
      expect(both.map((detail) => detail.field)).toEqual(['toString', 'capacity']);
    });
  });

  describe('a query parameter whose bytes are not UTF-8', () => {
    it('given one percent-escaped or raw, then one detail names each such parameter; the others are checked as usual', async () => {
      // Read as U+FFFD, `title=%FF` filtered for a title the client never sent.
      const notUtf8 = (name: string): FieldErrorBody => ({ field: name, problems: [`${name} is not valid UTF-8 (once its percent-escapes are decoded)`] });
      expect(await detailsOf(query(ListMissionsQuery, 'title=%FF'))).toEqual([notUtf8('title')]);
      // An overlong "/", a surrogate encoded as UTF-8, and the raw byte 0xFF as Node hands a URL's bytes on (Latin-1).
      expect(await detailsOf(query(ListMissionsQuery, 'title=%C0%AF&agentId=%ED%A0%80&type=pricing&limit=x'))).toEqual([
        notUtf8('title'),
        notUtf8('agentId'),
        { field: 'limit', problems: [expect.stringMatching(/^limit must be/)] },
      ]);
      expect(await detailsOf(query(ListMissionsQuery, 'title=a\u00ff'))).toEqual([notUtf8('title')]);
      await expect(query(ListMissionsQuery, 'title=%C3%A9t%C3%A9%20%EF%BF%BD')).resolves.toMatchObject({ title: '\u00e9t\u00e9 \ufffd' });
    });
  });

  describe('a query parameter given more than once', () => {
    it('given a scalar parameter twice, then one detail says it may be given only once, whatever its rules', async () => {
      // They read "type must be one of the following values: …", "limit must be an integer number", "title must be a string".
      const details = await detailsOf(query(ListMissionsQuery, 'type=pricing&type=pricing&limit=1&limit=2&title=a&title=b&priority=urgent'));
      expect(details).toEqual([
        { field: 'type', problems: ['type may be given only once'] },
        { field: 'limit', problems: ['limit may be given only once'] },
        { field: 'title', problems: ['title may be given only once'] },
        { field: 'priority', problems: [expect.stringMatching(/^priority must be one of the following values: /)] },
      ]);
      expect(await detailsOf(query(DeadLetterListQuery, 'offset=1&offset=1'))).toEqual([{ field: 'offset', problems: ['offset may be given only once'] }]);
      expect(await detailsOf(query(ListDeliveriesQuery, 'status=dead&status=dead'))).toEqual([
        { field: 'status', problems: ['status may be given only once'] },
      ]);
      expect(await detailsOf(query(StreamQuery, 'from=now&from=start'))).toEqual([{ field: 'from', problems: ['from may be given only once'] }]);
    });

    it("given the live stream's list parameters repeated or comma-separated, then they are one list", async () => {
      await expect(query(StreamQuery, 'type=MissionCreated&type=MissionDeadLettered,MissionCancelled&status=queued')).resolves.toMatchObject({
        type: ['MissionCreated', 'MissionDeadLettered', 'MissionCancelled'],
        status: ['queued'],
      });
    });

    it('given a value of a list parameter repeated past the list’s size, then it counts once: one type asked for is no list too long', async () => {
      // 19 × MissionCreated read "type must contain no more than 18 elements".
      const repeated = Array.from({ length: 19 }, () => 'type=MissionCreated').join('&');
      await expect(query(StreamQuery, `${repeated}&status=queued,queued`)).resolves.toMatchObject({ type: ['MissionCreated'], status: ['queued'] });
      expect(await detailsOf(query(StreamQuery, 'type=MissionCreated,Bogus,Bogus'))).toEqual([
        { field: 'type', problems: [expect.stringMatching(/^each value in type must be one of the following values/)] },
      ]);
    });
  });

  describe('whole-number query parameters', () => {
    it.each([
      [ListMissionsQuery, 'limit'],
      [ReviewInboxQuery, 'limit'],
      [ListDeliveriesQuery, 'limit'],
      [DeadLetterListQuery, 'limit'],
      [DeadLetterListQuery, 'offset'],
      [ThroughputQuery, 'minutes'],
    ])('given %p.%s in another notation than digits, or empty, then it is not an integer', async (metatype, name) => {
      // Number() read `0x2`, `0b11`, `1e1` and ` 2` as 2, 3, 10 and 2, and an empty value as 0.
      for (const value of ['0x2', '0b11', '1e1', '%202', '2%20', '+2', '', '1.0']) {
        expect({ value, details: await detailsOf(query(metatype, `${name}=${value}`)) }).toEqual({
          value,
          details: [{ field: name, problems: [`${name} must be an integer number`] }],
        });
      }
    });

    it('given digits, with a minus sign for a negative one, then they are the number', async () => {
      await expect(query(DeadLetterListQuery, 'limit=007&offset=-3')).resolves.toEqual(Object.assign(new DeadLetterListQuery(), { limit: 7, offset: -3 }));
      await expect(query(ListMissionsQuery, 'limit=200')).resolves.toMatchObject({ limit: 200 });
    });

    it.each([
      [MissionAtQuery, 'version'],
      [DeadLetterListQuery, 'limit'],
      [DeadLetterListQuery, 'offset'],
    ])('given %p.%s beyond the safe integers, then it is a 400 that quotes the bound, not a number the digits were rounded to', async (metatype, name) => {
      // `version=9007199254740993` was looked up as 9007199254740992 (a 404 quoting that number); `offset=9007199254740993` passed.
      for (const value of ['9007199254740992', '9007199254740993', '99999999999999999999']) {
        expect({ value, details: await detailsOf(query(metatype, `${name}=${value}`)) }).toEqual({
          value,
          details: [{ field: name, problems: [`${name} must not be greater than 9007199254740991`] }],
        });
      }
      await expect(query(metatype, `${name}=9007199254740991`)).resolves.toMatchObject({ [name]: Number.MAX_SAFE_INTEGER });
    });

    it('given a negative whole number beyond the safe integers where negatives are taken, then it is a 400 too', async () => {
      expect(await detailsOf(query(DeadLetterListQuery, 'offset=-9007199254740993'))).toEqual([
        { field: 'offset', problems: ['offset must not be less than -9007199254740991'] },
      ]);
      await expect(query(DeadLetterListQuery, 'offset=-9007199254740991')).resolves.toMatchObject({ offset: -Number.MAX_SAFE_INTEGER });
    });

    it("given a parameter with bounds of its own beyond the safe integers, then its own bound's message is the one said", async () => {
      expect(await detailsOf(query(ListMissionsQuery, 'limit=99999999999999999999'))).toEqual([
        { field: 'limit', problems: ['limit must not be greater than 200'] },
      ]);
      expect(await detailsOf(query(MissionAtQuery, 'version=0'))).toEqual([{ field: 'version', problems: ['version must not be less than 1'] }]);
    });

    // Digits beyond the largest double (309 and more) were read as Infinity: "must be an integer number", not the bound.
    it('given more digits than a double holds, then the bound is named as for any number too large or too small', async () => {
      const nines = '9'.repeat(400);
      expect(await detailsOf(query(ListMissionsQuery, `limit=${nines}`))).toEqual([{ field: 'limit', problems: ['limit must not be greater than 200'] }]);
      expect(await detailsOf(query(MissionAtQuery, `version=${nines}`))).toEqual([
        { field: 'version', problems: ['version must not be greater than 9007199254740991'] },
      ]);
      expect(await detailsOf(query(DeadLetterListQuery, `offset=-${nines}`))).toEqual([
        { field: 'offset', problems: ['offset must not be less than -9007199254740991'] },
      ]);
      // Leading zeros are no size: 400 digits of which the last is 7 is 7.
      await expect(query(ListMissionsQuery, `limit=${'0'.repeat(399)}7`)).resolves.toMatchObject({ limit: 7 });
    });
  });
});
