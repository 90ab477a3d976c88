/** The four services, in pipeline order: the one list of them. */
export const SERVICE_NAMES = ['intake', 'orchestrator', 'executor', 'evaluator'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
