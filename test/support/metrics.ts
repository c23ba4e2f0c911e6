/**
 * The sum of every sample of `name` in a Prometheus text exposition (`name{labels} value` or `name value` lines), as
 * the services' /metrics serve it; undefined when it has no sample (a labelled counter before its first count).
 */
export function metricTotal(exposition: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of exposition.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      total = (total ?? 0) + Number(line.split(' ').pop());
  return total;
}
