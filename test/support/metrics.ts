/** Reading this process's Prometheus metrics in tests. */
import { metricsRegistry } from '../../src/observability/metrics.ts';

/** The value of metric `name` for the series with these labels (0 when there is none yet). */
export async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric(name)!.get();
  return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}
