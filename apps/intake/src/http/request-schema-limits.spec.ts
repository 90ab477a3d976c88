import { Controller, Get, INestApplication, Post, Type } from '@nestjs/common';
import { ApiBody, DocumentBuilder, ParameterObject, SchemaObject, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { getMetadataStorage } from 'class-validator';
import { RegisterAgentBody, UpdateAgentBody } from '@app/agents';
import { MISSION_EVENT_TYPES, MISSION_STATUSES, MissionCreateDto, MissionSourceDto } from '@app/mission';
import { ThroughputQuery } from '../console/throughput.query';
import { DeadLetterListQuery } from '../dead-letters/dead-letter-list.query';
import { RequeueFilterBody } from '../dead-letters/requeue-filter.body';
import { CancelMissionBody } from '../missions/cancel-mission.body';
import { ListMissionsQuery } from '../missions/list-missions.query';
import { EventRangeQuery, MissionAtQuery } from '../missions/time-travel.query';
import { DailyReportQuery } from '../reports/daily-report.query';
import { RetentionPlanQuery } from '../retention/retention-plan.query';
import { ApproveMissionBody } from '../reviews/approve-mission.body';
import { RejectMissionBody } from '../reviews/reject-mission.body';
import { ReviewInboxQuery } from '../reviews/review-inbox.query';
import { CreateScheduleBody } from '../schedules/create-schedule.body';
import { StreamQuery } from '../stream/stream.query';
import { EraseSubjectBody } from '../subjects/erase-subject.body';
import { CreateWebhookBody, ListDeliveriesQuery } from '../webhooks/webhook.bodies';
import { QueryDto } from './query-dto.decorator';

/** Every request body and query class of the intake, and the nested ones they validate. */
const REQUEST_CLASSES: Type<unknown>[] = [
  RegisterAgentBody,
  UpdateAgentBody,
  MissionCreateDto,
  MissionSourceDto,
  ApproveMissionBody,
  RejectMissionBody,
  CancelMissionBody,
  RequeueFilterBody,
  CreateScheduleBody,
  CreateWebhookBody,
  EraseSubjectBody,
  ListMissionsQuery,
  ReviewInboxQuery,
  MissionAtQuery,
  EventRangeQuery,
  DeadLetterListQuery,
  DailyReportQuery,
  RetentionPlanQuery,
  StreamQuery,
  ThroughputQuery,
  ListDeliveriesQuery,
];

const source = (pattern: unknown) => (pattern instanceof RegExp ? pattern.source : String(pattern));

/**
 * What a class-validator rule demands of the property's schema in the OpenAPI document (the
 * schema of an array's items for a rule with `each`), or undefined for a rule that has no
 * OpenAPI counterpart (clean text, a payload's limits, …).
 */
function problem(name: string, constraints: unknown[], target: SchemaObject, property: SchemaObject): string | null | undefined {
  const [first] = constraints;
  const expect = (ok: boolean, what: string) => (ok ? null : what);
  switch (name) {
    case 'isInt':
      return expect(target.type === 'integer', 'type integer');
    case 'isNumber':
      return expect(target.type === 'number' || target.type === 'integer', 'type number');
    case 'isString':
      return expect(target.type === 'string', 'type string');
    case 'isBoolean':
      return expect(target.type === 'boolean', 'type boolean');
    case 'isArray':
      return expect(property.type === 'array', 'type array');
    case 'min':
      return expect(target.minimum === first, `minimum ${String(first)}`);
    case 'max':
      return expect(target.maximum === first, `maximum ${String(first)}`);
    case 'minLength':
      return expect(target.minLength === first, `minLength ${String(first)}`);
    case 'maxLength':
      return expect(target.maxLength === first, `maxLength ${String(first)}`);
    case 'arrayMinSize':
      return expect(property.minItems === first, `minItems ${String(first)}`);
    case 'arrayUnique':
      return expect(property.uniqueItems === true, 'uniqueItems');
    case 'isNotEmpty':
      return expect(property.type !== 'string' || (property.minLength ?? 0) >= 1, 'minLength 1');
    case 'arrayMaxSize':
      return expect(property.maxItems === first, `maxItems ${String(first)}`);
    case 'matches':
      return expect(target.pattern === source(first), `pattern ${source(first)}`);
    case 'isIn':
      return expect(
        Array.isArray(target.enum) && JSON.stringify([...target.enum].sort()) === JSON.stringify([...(first as unknown[])].sort()),
        `enum ${JSON.stringify(first)}`,
      );
    case 'isIsoTime':
    case 'isIsoInstant':
      return expect(target.format === 'date-time' || target.format === 'date', 'format date-time (or date)');
    default:
      return undefined;
  }
}

/** The schemas @nestjs/swagger makes of these classes, as in the intake's document (components.schemas, by class name). */
async function schemasOf(types: Type<unknown>[]): Promise<Record<string, SchemaObject>> {
  @Controller()
  class Schemas {}
  types.forEach((type, i) => {
    const name = `route${i}`;
    Object.defineProperty(Schemas.prototype, name, { value: () => undefined });
    const descriptor = Object.getOwnPropertyDescriptor(Schemas.prototype, name) as PropertyDescriptor;
    Post(name)(Schemas.prototype, name, descriptor);
    ApiBody({ type })(Schemas.prototype, name, descriptor);
  });
  const app: INestApplication = (await Test.createTestingModule({ controllers: [Schemas] }).compile()).createNestApplication({ logger: false });
  try {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    return (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
  } finally {
    await app.close();
  }
}

describe('request schemas of the OpenAPI document against the validation the intake runs', () => {
  let schemas: Record<string, SchemaObject>;
  beforeAll(async () => {
    schemas = await schemasOf(REQUEST_CLASSES);
  });

  it.each(REQUEST_CLASSES.map((type) => [type.name, type] as const))(
    'given %s, then every limit its validators enforce is in its schema, so a client that checks bodies by the document is not refused for a limit it could not see',
    (_name, type) => {
      const schema = schemas[type.name];
      expect(schema).toBeDefined();
      const resolve = (candidate: SchemaObject & { $ref?: string; allOf?: (SchemaObject & { $ref?: string })[] }): SchemaObject => {
        const ref = candidate.$ref ?? candidate.allOf?.[0]?.$ref;
        return ref ? { ...schemas[ref.split('/').pop() as string], ...candidate } : candidate;
      };
      const missing: string[] = [];
      for (const rule of getMetadataStorage().getTargetValidationMetadatas(type, '', true, false)) {
        const property = resolve((schema.properties?.[rule.propertyName] ?? {}) as SchemaObject);
        const target = rule.each ? resolve((property.items ?? {}) as SchemaObject) : property;
        const name = rule.name ?? rule.type;
        const found = problem(name, rule.constraints ?? [], target, property);
        if (found) missing.push(`${rule.propertyName}${rule.each ? '[]' : ''}: ${name} needs ${found}`);
      }
      expect(missing).toEqual([]);
    },
  );

  it("given the live stream's type and status, then the document gives them as comma lists of the values the route takes, as one parameter each", async () => {
    @Controller()
    class Stream {
      @Get('stream')
      read(@QueryDto() _query: StreamQuery): void {}
    }
    const app: INestApplication = (await Test.createTestingModule({ controllers: [Stream] }).compile()).createNestApplication({ logger: false });
    try {
      const parameters = (SwaggerModule.createDocument(app, new DocumentBuilder().build()).paths['/stream'].get?.parameters ?? []) as ParameterObject[];
      const list = (name: string) => {
        const parameter = parameters.find((candidate) => candidate.name === name);
        const schema = parameter?.schema as SchemaObject | undefined;
        return { style: parameter?.style, explode: parameter?.explode, type: schema?.type, values: (schema?.items as SchemaObject | undefined)?.enum };
      };
      expect(list('type')).toEqual({ style: 'form', explode: false, type: 'array', values: [...MISSION_EVENT_TYPES] });
      expect(list('status')).toEqual({ style: 'form', explode: false, type: 'array', values: [...MISSION_STATUSES] });
    } finally {
      await app.close();
    }
  });
});
