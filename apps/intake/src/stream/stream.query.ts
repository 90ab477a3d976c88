import { ApiPropertyOptional, ApiPropertyOptions, BaseParameterObject } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MISSION_EVENT_TYPES, MISSION_ID_PATTERN, MISSION_STATUSES, MissionEventType, MissionStatus, SEALED_OVERHEAD_BYTES } from '@app/mission';

/**
 * `a,b,c` as a list, and a parameter given more than once (`type=a,b&type=c`) as one list of them
 * all, each value once: the size limit counts different values, so `type=a&type=a` asks for one
 * type. Anything else stays as it is and fails validation.
 */
const commaList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' || Array.isArray(value)
    ? [...new Set([value].flat().flatMap((item: unknown) => (typeof item === 'string' ? item.split(',').map((part) => part.trim()) : [item])))]
    : value;

/**
 * A comma list in the OpenAPI document: an array of these values sent as one parameter,
 * `type=a,b` (`style: form` without `explode`), which generated clients serialize as the route reads it.
 */
function commaListParameter(values: readonly string[]): ApiPropertyOptions {
  // @nestjs/swagger copies a query property's style and explode onto its parameter; its type for the options does not list them.
  const options: ApiPropertyOptions & Pick<BaseParameterObject, 'style' | 'explode'> = {
    type: 'array',
    items: { type: 'string', enum: [...values] },
    maxItems: values.length,
    style: 'form',
    explode: false,
  };
  return options;
}

/** 256 partitions (the most LOG_PARTITIONS allows) of `<20 digits>-<20 digits>` and their separators. */
const MAX_PLAIN_POSITION_LENGTH = 256 * 42;
/** The longest position the stream sends: a client key's is sealed (sealPosition), in base64url. */
export const MAX_POSITION_LENGTH = Math.ceil(((SEALED_OVERHEAD_BYTES + MAX_PLAIN_POSITION_LENGTH) * 4) / 3);

export class StreamQuery {
  @ApiPropertyOptional({
    ...commaListParameter(MISSION_EVENT_TYPES),
    description: 'Only events of these types, comma-separated.',
    example: ['MissionCreated', 'MissionDeadLettered'],
  })
  @IsOptional()
  @Transform(commaList)
  @ArrayMaxSize(MISSION_EVENT_TYPES.length)
  @IsIn(MISSION_EVENT_TYPES, { each: true })
  type?: MissionEventType[];

  @ApiPropertyOptional({
    ...commaListParameter(MISSION_STATUSES),
    description:
      'Only events that put their mission into one of these statuses, comma-separated (a failed attempt or a failed evaluation changes no status and never matches).',
    example: ['dead_lettered', 'succeeded'],
  })
  @IsOptional()
  @Transform(commaList)
  @ArrayMaxSize(MISSION_STATUSES.length)
  @IsIn(MISSION_STATUSES, { each: true })
  status?: MissionStatus[];

  @ApiPropertyOptional({ pattern: MISSION_ID_PATTERN, description: "Only this mission's events.", example: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e' })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(MISSION_ID_PATTERN), { message: 'missionId must be a mission id (a lowercase UUID)' })
  missionId?: string;

  @ApiPropertyOptional({
    maxLength: MAX_POSITION_LENGTH,
    description:
      'Resume after this position (an event `id` this stream sent), like the `Last-Event-ID` header, which wins when both are given. ' +
      'For clients that cannot set headers when they reconnect (a new EventSource).',
    example: '1764745200000-0',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_POSITION_LENGTH)
  lastEventId?: string;

  @ApiPropertyOptional({
    enum: ['now', 'start'],
    description: 'Without a position: `now` (the default) sends the events appended from now on, `start` replays the whole log first.',
    example: 'start',
  })
  @IsOptional()
  @IsIn(['now', 'start'])
  from?: 'now' | 'start';

  @ApiPropertyOptional({
    maxLength: 1_000,
    description: 'A stream token from `POST /api/stream/tokens`, for clients that cannot send headers (EventSource). Valid for 60 s, for this route only.',
    example: 'v1.eyJuIjoib3BzIiwiZSI6MTc2NDc0NTI2MDAwMH0.3q2-7w',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  token?: string;
}
