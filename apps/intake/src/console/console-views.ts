import { ApiProperty } from '@nestjs/swagger';
import type { MinuteThroughput } from '@app/mission-queue';
import { ApiClient } from '../auth/api-client';
import { ROLES } from '../auth/api-key';
import { MissionChainCheck } from './mission-chain';

export class CallerView implements ApiClient {
  @ApiProperty({ description: 'The name of the API key: the `actor` of every change it makes.', example: 'night-desk' })
  name: string;

  @ApiProperty({ enum: [...ROLES], description: 'What the key may do.', example: 'operator' })
  role: ApiClient['role'];
}

export class MissionChainView implements MissionChainCheck {
  @ApiProperty({ format: 'uuid', example: '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e' })
  missionId: string;

  @ApiProperty({ description: "True when the mission's hash chain is intact and the mission as stored is the fold of its events.", example: true })
  verified: boolean;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events checked: 0 when the list of them is gone (a problem says so).', example: 6 })
  events: number;

  @ApiProperty({ type: [String], description: 'What is wrong, one line each; empty when verified.', example: [] })
  problems: string[];
}

export class MinuteThroughputView implements MinuteThroughput {
  @ApiProperty({ format: 'date-time', description: 'Start of the minute.', example: '2026-12-03T08:00:00.000Z' })
  minute: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions enqueued (created, retried or requeued) in it.', example: 12 })
  enqueued: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions dequeued (leased to the orchestrator) in it.', example: 11 })
  dequeued: number;
}
