import 'reflect-metadata';
import './instrumentation';
import { runService } from '@app/runtime';
import { evaluatorService } from './evaluator.definition';

void runService(evaluatorService);
