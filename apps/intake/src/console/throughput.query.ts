import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class ThroughputQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 60, default: 15, description: 'How many full minutes, the last one first back.', example: 15 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60)
  minutes?: number;
}
