import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { REDIS } from '@app/runtime';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { missionNotFound } from '../missions/mission-not-found';
import { MissionChainView } from './console-views';
import { checkMissionChain, MissionChainCheck } from './mission-chain';

@ApiTags('missions')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/missions')
export class MissionChainController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
  ) {}

  @Get(':id/verify')
  @ApiOperation({
    summary: "Check a mission's hash chain",
    description:
      "Needs role **reader** (any API key but a `client` key). Whether each of the mission's stored events links to the one before it by SHA-1 and the mission's head names the last " +
      '(an edited, removed or inserted event breaks it), and whether the mission as stored, what `GET /api/missions/:id` answers, is the fold of those events ' +
      '(a read model changed beside an intact chain). `replay verify` checks the whole log.',
  })
  @ApiIdParam('mission')
  @ApiOkResponse({ type: MissionChainView, description: 'The result; `verified` false lists the problems.', headers: RATE_LIMIT_HEADERS })
  // Stored data changed past reading is what it reports (verified: false, the problems named), not a 409.
  @ApiErrorResponses({ role: 'reader', notFound: 'No mission with this id.', id: 'mission', unreadableConflict: false })
  async verify(@Param('id', new IdPipe('mission')) id: string): Promise<MissionChainCheck> {
    const check = await checkMissionChain(this.redis, this.keys, id);
    if (!check) throw missionNotFound(id);
    return check;
  }
}
