import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Mission, MissionPage, ReviewInboxItem } from '@app/mission';
import { RequiresRole } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, LIST_SCAN_REFUSAL, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { MissionView, ReviewPageView } from '../http/openapi-schemas';
import { QueryDto } from '../http/query-dto.decorator';
import { MissionCommandsService } from '../missions/mission-commands.service';
import { ListScanInterceptor } from '../rate-limit/list-scan-limit';
import { ApproveMissionBody } from './approve-mission.body';
import { RejectMissionBody } from './reject-mission.body';
import { ReviewInboxQuery } from './review-inbox.query';
import { ReviewInboxService } from './review-inbox.service';

const MISSION_ID_PARAM = ApiIdParam('mission');
const missionId = new IdPipe('mission');
const NOT_AWAITING =
  'The mission is not awaiting review: another reviewer decided first, or no review was asked for. Or its guest data is damaged (it fails its ' +
  'integrity check where it is stored; the mission reads `unavailable`): nothing is recorded, nor sent, until an operator mends it.';
const NOT_AWAITING_EXAMPLE = 'cannot approve mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e: mission is succeeded, not awaiting_review';

/** Human review of results the review policy holds (REVIEW_POLICY_FILE): the inbox, approve, reject. */
@ApiTags('reviews')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api')
export class ReviewsController {
  constructor(
    private readonly inbox: ReviewInboxService,
    private readonly commands: MissionCommandsService,
  ) {}

  @Get('reviews')
  @ApiOperation({
    summary: 'The review inbox',
    description:
      'Needs role **reader** (any API key but a `client` key). Missions awaiting review, the longest-waiting first, filtered by type and priority, in pages of `limit`; ' +
      "pass `nextCursor` back as `cursor` for the next page. Each mission's `review` names the policy rule that asked for it and, once overdue, `overdueAt`; " +
      'its `lastReviewRound` says whether a rejection now would dead-letter it (its MAX_REVIEW_ROUNDS-th since its last requeue) rather than queue another attempt.',
  })
  @ApiOkResponse({ type: ReviewPageView, description: 'A page of missions awaiting review.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reader',
    badRequest:
      'A query parameter is invalid (unknown type/priority, limit outside 1..200) or the cursor is not one this API issued for this list with these filters (start again without a cursor then).',
    invalidField: { field: 'limit', problem: 'limit must not be greater than 200' },
    tooManyRequests: LIST_SCAN_REFUSAL,
  })
  @UseInterceptors(ListScanInterceptor)
  list(@QueryDto() query: ReviewInboxQuery): Promise<MissionPage<ReviewInboxItem>> {
    return this.inbox.page(query);
  }

  @Post('missions/:id/approve')
  @RequiresRole('reviewer')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Approve a result under review',
    description:
      'Needs role **reviewer** (or operator). The mission succeeds; MissionApproved records the reviewer (the API key name), the `note` and, ' +
      "when given, the edited `output`, which replaces the agent's (the original stays in `review.originalOutput` and in MissionCompleted). " +
      'The body is optional. 409 when the mission is not awaiting review, e.g. when another reviewer decided first, or when its guest data is damaged (nothing is recorded).',
  })
  @MISSION_ID_PARAM
  @ApiBody({ type: ApproveMissionBody, required: false })
  @ApiOkResponse({ type: MissionView, description: 'The mission, succeeded.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reviewer',
    badRequest:
      "The body fails validation, or `output` does not have the agent's output's fields, each of the same kind, fails the type's output schema, or (pricing) has no positive rate in the mission's currency, " +
      'or a text of a field kept in plain (every field of a pricing or maintenance edit, `language` of a guest_support one) holds an `@` in any form: ' +
      '`details` names each such text (`output.steps[3]`).',
    invalidField: { field: 'output', problem: 'reply is required' },
    notFound: 'No mission with this id.',
    id: 'mission',
    conflict: NOT_AWAITING,
    conflictExample: NOT_AWAITING_EXAMPLE,
    jsonBody: true,
  })
  approve(@Param('id', missionId) id: string, @Body() body: ApproveMissionBody, @ApiCaller() caller: string): Promise<Mission> {
    return this.commands.approve(id, { note: body.note, output: body.output, attempt: body.attempt }, caller);
  }

  @Post('missions/:id/reject')
  @RequiresRole('reviewer')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Reject a result under review',
    description:
      'Needs role **reviewer** (or operator). MissionRejected records the reviewer and the `feedback`; the mission is queued for another ' +
      'attempt whose prompt carries the feedback (as data), or, on the MAX_REVIEW_ROUNDS-th rejection, dead-lettered with the reason ' +
      '`rejected in N of N review rounds`. 409 when the mission is not awaiting review, e.g. when another reviewer decided first, or when its guest data is damaged (nothing is recorded).',
  })
  @MISSION_ID_PARAM
  @ApiBody({ type: RejectMissionBody })
  @ApiOkResponse({ type: MissionView, description: 'The mission, queued again or dead-lettered.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'reviewer',
    badRequest: 'The body fails validation: `feedback` missing, empty, longer than 2000 characters, or with control characters.',
    invalidField: { field: 'feedback', problem: 'feedback must be a string' },
    notFound: 'No mission with this id.',
    id: 'mission',
    conflict: NOT_AWAITING,
    conflictExample: NOT_AWAITING_EXAMPLE.replace('approve', 'reject'),
    jsonBody: true,
  })
  reject(@Param('id', missionId) id: string, @Body() body: RejectMissionBody, @ApiCaller() caller: string): Promise<Mission> {
    return this.commands.reject(id, body.feedback, caller, body.attempt);
  }
}
