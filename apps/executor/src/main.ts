import 'reflect-metadata';
import { runService } from '@app/runtime';
import { executorService } from './executor.definition';

void runService(executorService);
