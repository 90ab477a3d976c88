import 'reflect-metadata';
import './instrumentation';
import { runService } from '@app/runtime';
import { executorService } from './executor.definition';

void runService(executorService);
