import 'reflect-metadata';
import { runService } from '@app/runtime';
import { intakeService } from './intake.definition';

void runService(intakeService);
