import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { LeaseRequest, messageValidation, MissionMessage, MissionsLeased, SubmitMissionCommand, validateSubmitMission } from '../../libs/messages/src';
import { Mission, MissionCreateDto } from '../../libs/mission/src';
import { fieldErrors, RequestValidationPipe } from '../../apps/intake/src/http/request-validation.pipe';
import { MissionFactory } from './missions';

/**
 * Per-message cost of validating what crosses a boundary, before (class-transformer +
 * class-validator, as the services did) and after (the hand-written checks), in µs of one core:
 *   npm run build && node dist/scripts/bench/validation-micro.js
 * Each case decodes the message with JSON.parse first, as the transport does, and that parse is
 * part of both figures; the difference is the validation alone.
 */
const factory = new MissionFactory();

function snapshot(index: number): Mission {
  const input = factory.mission();
  const at = new Date(1_770_000_000_000 + index).toISOString();
  return {
    id: `01964f3a-7c2e-7b1a-9d4e-${String(index).padStart(12, '0')}`,
    type: input.type,
    title: input.title,
    description: input.description,
    priority: input.priority,
    priorityScore: 42,
    requiredSkills: input.requiredSkills ?? ['guest_communication'],
    payload: input.payload,
    ...(input.source ? { source: input.source } : {}),
    status: 'evaluating',
    attempts: 1,
    assignedAgentId: 'agent-mila',
    previousAgentIds: [],
    result: { output: 'Dear guest, '.repeat(60), model: 'mock', tokens: 512, latencyMs: 3 } as unknown as Mission['result'],
    evaluation: null,
    feedback: null,
    lastError: null,
    correlationId: `corr-${index}`,
    version: 5,
    createdAt: at,
    updatedAt: at,
  };
}

/** The old stream pipe: ValidationPipe over the decorators. */
const classValidatorPipe = new ValidationPipe({ transform: true, whitelist: false, forbidUnknownValues: true });
const httpClassValidatorPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  exceptionFactory: (errors) => new BadRequestException({ message: 'request validation failed', details: fieldErrors(errors) }),
});
const httpPipe = new RequestValidationPipe();
/** ValidationPipe skips 'custom' params; a stream @Payload() arrives with a type it does validate. */
const payloadMeta = (metatype: new () => object) => ({ type: 'body' as const, metatype });

interface Case {
  name: string;
  json: string[];
  before: (data: unknown) => Promise<unknown>;
  after: (data: unknown) => Promise<unknown>;
}

const many = (count: number, make: (index: number) => unknown) => Array.from({ length: count }, (_, index) => JSON.stringify(make(index)));

const cases: Case[] = [
  {
    name: 'mission.completed / mission.assigned (MissionMessage, full state)',
    json: many(200, (i) => ({ mission: snapshot(i) })),
    before: (data) => classValidatorPipe.transform(data, payloadMeta(MissionMessage)),
    after: (data) => messageValidation.transform(data, payloadMeta(MissionMessage)),
  },
  {
    name: 'missions.leased (MissionsLeased, 100 states)',
    json: many(10, (i) => ({ requestId: `r${i}`, leaseUntil: 1_770_000_000_000, missions: Array.from({ length: 100 }, (_, j) => snapshot(i * 100 + j)) })),
    before: (data) => classValidatorPipe.transform(data, payloadMeta(MissionsLeased)),
    after: (data) => messageValidation.transform(data, payloadMeta(MissionsLeased)),
  },
  {
    name: 'queue.lease (LeaseRequest)',
    json: many(200, (i) => ({ requestId: `r${i}`, max: 50 })),
    before: (data) => classValidatorPipe.transform(data, payloadMeta(LeaseRequest)),
    after: (data) => messageValidation.transform(data, payloadMeta(LeaseRequest)),
  },
  {
    name: 'mission.submit (SubmitMissionCommand)',
    json: many(200, (i) => ({ mission: factory.mission(), idempotencyKey: `odoo-${i}` })),
    before: async (data) => {
      const value = plainToInstance(SubmitMissionCommand, data);
      return validate(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    },
    after: async (data) => validateSubmitMission(data),
  },
  {
    name: 'POST /api/missions body (MissionCreateDto)',
    json: many(200, () => factory.mission()),
    before: (data) => httpClassValidatorPipe.transform(data, { type: 'body', metatype: MissionCreateDto }),
    after: (data) => httpPipe.transform(data, { type: 'body', metatype: MissionCreateDto }),
  },
];

async function microsPerMessage(json: string[], run: (data: unknown) => Promise<unknown>, minMs: number): Promise<number> {
  let messages = 0;
  const started = process.cpuUsage();
  const until = performance.now() + minMs;
  do {
    for (const text of json) await run(JSON.parse(text));
    messages += json.length;
  } while (performance.now() < until);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / messages;
}

async function main(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const c of cases) {
    // Warm up both paths (JIT, class-validator's metadata caches), then measure each for ~1 s of CPU.
    await microsPerMessage(c.json, c.before, 300);
    await microsPerMessage(c.json, c.after, 300);
    const parseOnly = await microsPerMessage(c.json, async () => undefined, 500);
    const before = await microsPerMessage(c.json, c.before, 1_000);
    const after = await microsPerMessage(c.json, c.after, 1_000);
    rows.push({
      message: c.name,
      bytes: Math.round(c.json.reduce((sum, text) => sum + text.length, 0) / c.json.length),
      'JSON.parse µs': round(parseOnly),
      'before µs': round(before - parseOnly),
      'after µs': round(after - parseOnly),
      speed_up: `${round((before - parseOnly) / Math.max(0.01, after - parseOnly))}×`,
    });
  }
  console.table(rows);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

void main();
