import { DynamicModule, Module } from '@nestjs/common';
import { Environment } from '@app/config';
import { LlmJudge, RuleBasedJudge } from '@app/evaluation';
import { llmClientFromEnvironment } from '@app/llm';
import { CoreModule } from '@app/runtime';
import { EvaluationMetrics } from './evaluation/evaluation-metrics';
import { EvaluationConsumer } from './evaluation/evaluation.consumer';
import { EvaluationService } from './evaluation/evaluation.service';

@Module({})
export class EvaluatorModule {
  static register(env: Environment): DynamicModule {
    return {
      module: EvaluatorModule,
      imports: [CoreModule.forRoot(env, 'evaluator')],
      controllers: [EvaluationConsumer],
      providers: [
        RuleBasedJudge,
        ...(env.JUDGE === 'llm' ? [{ provide: LlmJudge, useFactory: () => new LlmJudge(llmClientFromEnvironment(env), env.EXECUTION_TIMEOUT_MS) }] : []),
        EvaluationMetrics,
        EvaluationService,
      ],
    };
  }
}
