import { PickType } from '@nestjs/swagger';
import { ListMissionsQuery } from '../missions/list-missions.query';

/** The inbox's filters and paging: those of the mission list (same rules, same cursor format). */
export class ReviewInboxQuery extends PickType(ListMissionsQuery, ['type', 'priority', 'cursor', 'limit'] as const) {}
