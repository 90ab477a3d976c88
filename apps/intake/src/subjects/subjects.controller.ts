import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { RequiresRole } from '../auth';
import { ApiCaller } from '../auth/api-caller.decorator';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { ApiIdParam, IdPipe } from '../http/id.pipe';
import { EraseSubjectBody } from './erase-subject.body';
import { SubjectAccessView, SubjectErasureView } from './subject-views';
import { SubjectAccess, SubjectErasure, SubjectsService } from './subjects.service';

const SUBJECT_NOT_FOUND = 'No data key and no mission for this subject.';
const subjectId = new IdPipe('subject');

/** A data subject's rights (GDPR Art. 15 and 17) over the missions about them; README, "Guest data". */
@ApiTags('subjects')
@ApiBearerAuth()
@ApiSecurity('api-key')
@RequiresRole('operator')
@Controller('api/subjects')
export class SubjectsController {
  constructor(
    private readonly subjects: SubjectsService,
    @InjectPinoLogger(SubjectsController.name) private readonly logger: PinoLogger,
  ) {}

  @Get(':subjectId')
  @ApiOperation({
    summary: 'Everything held about a data subject (access request)',
    description:
      'Needs role **operator**. Every mission about the subject, with each personal field in plain, as one JSON document; ' +
      'fields of an erased subject read "[erased]"; those of a mission whose guest data was altered where it is stored read "[unavailable]", ' +
      'its entry saying why (`unavailable`), and the rest of the document is given as usual. Each answer is logged (`guest data accessed`: the caller, the subject id and ' +
      'how many missions were returned; no personal data).',
  })
  @ApiIdParam('subject')
  @ApiOkResponse({ type: SubjectAccessView, description: 'The subject and their missions.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'operator', notFound: SUBJECT_NOT_FOUND, id: 'subject' })
  async access(@Param('subjectId', subjectId) id: string, @ApiCaller() caller: string): Promise<SubjectAccess> {
    const access = await this.subjects.access(id);
    // An operator reading a guest's data in plain must leave a trace, as an erasure does with its
    // events: who, whom (the pseudonymous id) and how much; the data itself never goes to the log.
    this.logger.info({ actor: caller, subjectId: id, missions: access.missions.length }, 'guest data accessed');
    return access;
  }

  @Delete(':subjectId')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Erase a data subject (erasure request)',
    description:
      "Needs role **operator**. Records the erasure as pending (caller and reason, no personal data), then destroys the subject's " +
      'data key, so their personal fields read "[erased]" everywhere from then on (API, live stream, webhooks, replay); the log keeps ' +
      'the ciphertext, so its hash chains still verify. Then records SubjectErased (with the caller as actor and the reason) on each ' +
      'of their missions, and cancels those not finished. One a crash interrupted is completed by the intake within two ERASURE_SWEEP_MS, ' +
      'or by repeating the request, with the actor and reason of the erasure pending; nothing else changes. Another process may ' +
      'still read the fields for up to DATA_KEY_CACHE_TTL_MS.',
  })
  @ApiIdParam('subject')
  @ApiOkResponse({ type: SubjectErasureView, description: 'What the erasure did.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({
    role: 'operator',
    badRequest: 'The body has no reason, or one that is not one line of at most 500 characters.',
    invalidField: { field: 'reason', problem: 'reason should not be empty' },
    notFound: SUBJECT_NOT_FOUND,
    id: 'subject',
    jsonBody: true,
  })
  erase(@Param('subjectId', subjectId) id: string, @Body() body: EraseSubjectBody, @ApiCaller() caller: string): Promise<SubjectErasure> {
    return this.subjects.erase(id, body.reason, caller);
  }
}
