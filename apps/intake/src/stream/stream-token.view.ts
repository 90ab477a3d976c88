import { ApiProperty } from '@nestjs/swagger';
import { StreamToken } from './stream-tokens';

export class StreamTokenView implements StreamToken {
  @ApiProperty({ description: 'Pass as `?token=` to GET /api/stream; good for that route only.', example: 'v1.eyJuIjoib3BzIiwiZSI6MTc2NDc0NTI2MDAwMH0.3q2-7w' })
  token: string;

  @ApiProperty({ format: 'date-time', description: 'When the token stops being accepted (60 s after it was issued).', example: '2026-12-03T08:01:00.000Z' })
  expiresAt: string;
}
