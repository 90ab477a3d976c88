/** Contradictory rate limits: every attempt fails its evaluation, so the mission goes round until it is dead-lettered. */
export const IMPOSSIBLE_PRICING = {
  type: 'pricing',
  title: 'Rate for the fair weekend',
  description: 'Set the weekend rate.',
  priority: 'high',
  payload: { minRate: 189, maxRate: 169, currency: 'EUR' },
};
