import 'reflect-metadata';
import './one-process-instrumentation';
import { runServicesInOneProcess } from '@app/runtime';
import { evaluatorService } from '../apps/evaluator/src/evaluator.definition';
import { executorService } from '../apps/executor/src/executor.definition';
import { intakeService } from '../apps/intake/src/intake.definition';
import { orchestratorService } from '../apps/orchestrator/src/orchestrator.definition';

/** The four services in one Node process (`npm start`'s default on one machine; `--split` runs four). */
void runServicesInOneProcess([intakeService, orchestratorService, executorService, evaluatorService]);
