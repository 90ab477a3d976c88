import { KeyLayout } from '@app/event-store';
import { DailyReportProjection } from './daily-report.projection';
import { Projection } from './projection';

/** Every projection the intake runs, and the CLI can rebuild. */
export function projectionCatalog(keys: KeyLayout): Projection[] {
  return [new DailyReportProjection(keys)];
}
