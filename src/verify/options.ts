// The suites' names and tunable options, apart from the suites themselves so that the
// command line can show them without loading the Kafka client.

export const SUITES = ["kafka"] as const;
export type SuiteName = (typeof SUITES)[number];

export function isSuiteName(name: string): name is SuiteName {
  return (SUITES as readonly string[]).includes(name);
}

export interface KafkaSuiteOptions {
  /** Messages produced and consumed in steps 3–5. */
  messages: number;
  partitions: number;
  /** How long a broker may take from start to serving clients. */
  readyTimeoutMs: number;
  /** Brokers and controllers of the step-7 cluster. */
  clusterBrokers: number;
  clusterControllers: number;
  /** JVM heap per container; small so that a whole cluster fits on a CI machine. */
  heap: string;
}

export const KAFKA_SUITE_DEFAULTS: KafkaSuiteOptions = {
  messages: 1000,
  partitions: 3,
  readyTimeoutMs: 120_000,
  clusterBrokers: 3,
  clusterControllers: 3,
  heap: "-Xmx384m -Xms384m",
};
