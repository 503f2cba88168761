/** Environment variable that makes training budgets count CPU time (benchmarks on shared machines). */
export const BUDGET_CPU_CORES_ENV = 'RLR_BUDGET_CPU_CORES';

/** The clock `--max-minutes` and `--snapshot-minutes` count on, in seconds, and what it measures. */
export interface BudgetClock {
  now: () => number;
  /** For logs and run.json: `wall` or `cpu/<n>`. */
  kind: string;
}

/**
 * Wall time by default. With `RLR_BUDGET_CPU_CORES=n` (n > 0): the process's CPU time (user +
 * system, all threads, workers included: `process.cpuUsage()`) divided by n, i.e. "minutes on n
 * dedicated cores" — what a benchmark on a machine shared with other jobs should count.
 * @throws for a value of the variable that is not a positive number
 */
export function budgetClock(env: NodeJS.ProcessEnv = process.env): BudgetClock {
  const raw = env[BUDGET_CPU_CORES_ENV];
  if (raw === undefined || raw === '') return { now: () => performance.now() / 1000, kind: 'wall' };
  const cores = Number(raw);
  if (!(cores > 0)) throw new Error(`${BUDGET_CPU_CORES_ENV}=${raw} is not a positive number of cores; unset it for wall-clock budgets`);
  return {
    now: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6 / cores;
    },
    kind: `cpu/${cores}`,
  };
}
