import { Inject, Injectable } from '@nestjs/common';
import { Environment } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { cursorBinding, isLastReviewRound, MissionPage, ReviewInboxItem } from '@app/mission';
import { membersAfter, RedisConnection } from '@app/redis';
import { ENVIRONMENT, REDIS } from '@app/runtime';
import { MissionQueryService } from '../missions/mission-query.service';
import { decodeCursor, PageCursor, walkPartitions } from '../missions/page-cursor';
import { ReviewInboxQuery } from './review-inbox.query';

/**
 * The reviewers' inbox: missions awaiting review, oldest request first, over every partition's
 * inbox set (kept by the append script's effects, so it never disagrees with the log). Each says
 * whether a rejection now would be its last review round (MAX_REVIEW_ROUNDS), from the state the
 * page loads anyway: no read more.
 */
@Injectable()
export class ReviewInboxService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly missions: MissionQueryService,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  async page(query: ReviewInboxQuery): Promise<MissionPage<ReviewInboxItem>> {
    const start: PageCursor = { score: -Infinity, member: null };
    const binding = cursorBinding('GET /api/reviews', { type: query.type, priority: query.priority });
    const cursors = query.cursor ? decodeCursor(query.cursor, this.keys.partitions.length, -Infinity, binding) : this.keys.partitions.map(() => ({ ...start }));
    const page = await walkPartitions(cursors, {
      order: 'asc',
      binding,
      read: (index, cursor, count) => membersAfter(this.redis, this.keys.partitions[index].awaitingReview, cursor, { order: 'asc', end: '+inf', limit: count }),
      load: (ids) => this.missions.loadMany(ids),
      // A mission decided between the read of the set and the load of its state is not shown.
      matches: (mission) =>
        mission.status === 'awaiting_review' && (!query.type || mission.type === query.type) && (!query.priority || mission.priority === query.priority),
      limit: query.limit ?? 50,
    });
    return { ...page, items: page.items.map((mission) => ({ ...mission, lastReviewRound: isLastReviewRound(mission, this.env.MAX_REVIEW_ROUNDS) })) };
  }
}
