import { DynamicModule, Module } from '@nestjs/common';
import { Environment, readReviewPolicy } from '@app/config';
import { LlmJudge, RuleBasedJudge } from '@app/evaluation';
import { observedLlmClientFromEnvironment } from '@app/llm';
import { CoreModule, MetricsRegistry } from '@app/runtime';
import { ServiceTracer } from '@app/tracing';
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
        ...(env.JUDGE === 'llm'
          ? [
              {
                provide: LlmJudge,
                inject: [MetricsRegistry, ServiceTracer],
                useFactory: (registry: MetricsRegistry, tracer: ServiceTracer) =>
                  new LlmJudge(observedLlmClientFromEnvironment(env, registry, tracer), env.EXECUTION_TIMEOUT_MS),
              },
            ]
          : []),
        EvaluationMetrics,
        // Checked when the environment was loaded, so it reads here without a problem.
        { provide: REVIEW_POLICY, useValue: readReviewPolicy(env.REVIEW_POLICY_FILE) },
        EvaluationService,
      ],
    };
  }
}
