import { BadRequestException, Controller, Get, HttpException, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { ApiClient, ApiKeyStore, OpenToClients, RequiresRole } from '../auth';
import { ApiCaller, ApiCallerClient } from '../auth/api-caller.decorator';
import { ApiErrorResponses, RATE_LIMIT_HEADERS } from '../http/api-responses';
import { QueryDto } from '../http/query-dto.decorator';
import { SingleHeader } from '../http/single-header.decorator';
import { EventStreamService } from './event-stream.service';
import { beyondHead, openPosition, parsePosition } from './log-position';
import { StreamTokenView } from './stream-token.view';
import { StreamToken, StreamTokens } from './stream-tokens';
import { MAX_POSITION_LENGTH, StreamQuery } from './stream.query';

/** What the keys that seal a client key's stream positions are derived for (ApiKeyStore.signingKeys). */
const POSITION_KEY_PURPOSE = 'brain stream position v1';
export const NOT_SENT_TO_THIS_KEY = 'Last-Event-ID is not a stream position this API key was sent: reconnect without it';

@ApiTags('stream')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/stream')
export class StreamController {
  constructor(
    private readonly stream: EventStreamService,
    private readonly tokens: StreamTokens,
    private readonly apiKeys: ApiKeyStore,
  ) {}

  @Get()
  @OpenToClients()
  @ApiOperation({
    summary: 'Live stream of mission events (Server-Sent Events)',
    description:
      'Needs role **reader** (any API key; a **client** key gets only the events of the missions it created), sent as a header or, for EventSource, as `?token=` from POST /api/stream/tokens. ' +
      'Each event of the log that passes the filters is one SSE message: `id` is the log position after it (sealed for a client key: opaque, and only that key resumes from it), `data` the event as JSON (as in GET /api/missions/{id}/events; ' +
      'guest data in plain for a submitter, client, reviewer or operator key, `[redacted]` for a reader key or its token). ' +
      'Without a position the stream starts with the events appended from now on (or, with `from=start`, at the first event of the log); with `Last-Event-ID` (or `lastEventId`) it resumes right after that position, so a reconnecting client misses nothing. ' +
      'The first message (SSE event type `connected`) has the starting position as `id` and `data`, so a client that drops before any event resumes from there. ' +
      'Events of one mission come in their order; events of different log partitions are merged by time. A `ping` event follows `connected` at once, then comes every SSE_HEARTBEAT_MS, with that interval in milliseconds as `data`: a client that gets no message for three intervals can take the connection for dead. ' +
      'An `unavailable` event (no `id`) comes before events whose guest data this intake cannot open (a subject key wrapped under a master key it is not configured with): its `data` is the 503 error body the API answers for that, naming the master key ids, once per stream and key; those events follow with each personal field as `[unavailable]`. ' +
      'A client that leaves events unread for SSE_SLOW_CLIENT_MS is disconnected; beyond SSE_MAX_CLIENTS open streams per intake, or SSE_MAX_CLIENTS_PER_KEY of one API key, the answer is a 429.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description:
      "Resume after this position: the `id` of the last event received. A position of another LOG_PARTITIONS, or one past the end of the log in any partition (another deployment's, or damaged), is a 400.",
    schema: { type: 'string', maxLength: MAX_POSITION_LENGTH, example: '1764745200000-0' },
  })
  @ApiOkResponse({
    description:
      'The stream; it stays open. An intake that shuts down ends its streams, and one asked for then ends at once with only a `retry:` line: the client reconnects after it (to another instance or the restarted one) where it left off.',
    headers: RATE_LIMIT_HEADERS,
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example: 'id: 1764745200000-0\ndata: {"eventId":"…","type":"MissionCreated","missionId":"…","version":1,…}\n\nevent: ping\ndata: 15000\n\n',
      },
    },
  })
  @ApiErrorResponses({
    role: 'reader',
    clients: true,
    badRequest:
      'A filter is not valid (an unknown event type or status, a malformed mission id) or the position is not one of this deployment (another LOG_PARTITIONS, or past the end of the log), or, for a client key, not one this key was sent.',
    invalidField: { field: 'type', problem: 'each value in type must be one of the following values: MissionCreated, …' },
    tooManyRequests:
      'Or, with `Retry-After: 5`, SSE_MAX_CLIENTS streams are open on this intake instance (`too many open live streams on this intake; retry later`), or SSE_MAX_CLIENTS_PER_KEY of this API key.',
  })
  async open(
    @QueryDto() query: StreamQuery,
    @SingleHeader('Last-Event-ID') lastEventId: string | undefined,
    @Res() response: Response,
    @ApiCallerClient() caller: ApiClient,
  ): Promise<void> {
    // An empty header is none: it hid the query's position, and the stream began at "now", events lost.
    const resumeFrom = lastEventId || query.lastEventId;
    const positionKeys = this.apiKeys.clientSealingKeys(caller, POSITION_KEY_PURPOSE);
    let position = undefined;
    if (resumeFrom !== undefined && resumeFrom !== '') {
      if (resumeFrom.length > MAX_POSITION_LENGTH) throw new BadRequestException('Last-Event-ID is too long to be a stream position');
      const opened = positionKeys ? openPosition(resumeFrom, positionKeys, MAX_POSITION_LENGTH) : resumeFrom;
      if (opened === undefined) throw new BadRequestException(NOT_SENT_TO_THIS_KEY);
      const parsed = parsePosition(opened, this.stream.partitions);
      if ('problem' in parsed) throw new BadRequestException(parsed.problem);
      const beyond = beyondHead(parsed, await this.stream.now());
      if (beyond !== null) throw new BadRequestException(beyond);
      position = parsed;
    }
    // Express answers HEAD with the GET handler: the headers, and no stream that would never end.
    if (response.req.method === 'HEAD') {
      response.status(200).type('text/event-stream').end();
      return;
    }
    position ??= query.from === 'start' ? this.stream.start : await this.stream.now();
    // Checked after the last wait and right before the stream opens: requests that arrive together
    // cannot all pass the check first and then open beyond SSE_MAX_CLIENTS (or the key's share).
    const refusal = this.stream.refusal(caller.name);
    if (refusal !== null) {
      response.setHeader('Retry-After', '5');
      throw new HttpException(refusal, HttpStatus.TOO_MANY_REQUESTS);
    }
    this.stream.open(
      response,
      caller,
      position,
      {
        ...(query.type ? { types: new Set(query.type) } : {}),
        ...(query.status ? { statuses: new Set(query.status) } : {}),
        ...(query.missionId ? { missionId: query.missionId } : {}),
      },
      positionKeys?.[0],
    );
  }

  @Post('tokens')
  @RequiresRole('reader')
  @OpenToClients()
  @ApiOperation({
    summary: 'A short-lived token for the live stream',
    description:
      'Needs role **reader** (any API key; a **client** key too, whose stream the token opens carries only its own missions). A token that authenticates GET /api/stream as this key for 60 s, as `?token=`, ' +
      'for EventSource in a browser, which cannot send headers. It opens nothing else. Takes no body.',
  })
  @ApiCreatedResponse({ type: StreamTokenView, description: 'The token.', headers: RATE_LIMIT_HEADERS })
  @ApiErrorResponses({ role: 'reader', clients: true, noBody: true, invalidField: { field: 'body', problem: 'this route takes no body: send none, or {}' } })
  issue(@ApiCaller() caller: string): StreamToken {
    return this.tokens.issue(caller);
  }
}
