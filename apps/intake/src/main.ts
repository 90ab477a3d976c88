import 'reflect-metadata';
import './instrumentation';
import { runService } from '@app/runtime';
import { intakeService } from './intake.definition';

void runService(intakeService);
