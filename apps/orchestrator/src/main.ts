import 'reflect-metadata';
import { runService } from '@app/runtime';
import { orchestratorService } from './orchestrator.definition';

void runService(orchestratorService);
