import { DynamicModule, Module } from '@nestjs/common';
import { Environment, readReviewPolicy } from '@app/config';
import { LlmJudge, RuleBasedJudge } from '@app/evaluation';
import { llmClientFromEnvironment } from '@app/llm';
import { CoreModule } from '@app/runtime';
import { EvaluationMetrics } from './evaluation/evaluation-metrics';
import { EvaluationConsumer } from './evaluation/evaluation.consumer';
import { EvaluationService, REVIEW_POLICY } from './evaluation/evaluation.service';

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
        // Checked when the environment was loaded, so it reads here without a problem.
        { provide: REVIEW_POLICY, useValue: readReviewPolicy(env.REVIEW_POLICY_FILE) },
        EvaluationService,
      ],
    };
  }
}
