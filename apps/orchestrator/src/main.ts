import 'reflect-metadata';
import './instrumentation';
import { runService } from '@app/runtime';
import { orchestratorService } from './orchestrator.definition';

void runService(orchestratorService);
