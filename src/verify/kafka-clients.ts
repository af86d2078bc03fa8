// The host side of the Kafka suite: @platformatic/kafka (a maintained, pure-JS
// client) reaching the brokers through their published ports, plain or mutual TLS.

import { Admin, ConfigResourceTypes, Consumer, Producer, type ClusterMetadata } from "@platformatic/kafka";
import type { ConnectionOptions } from "node:tls";

export interface Endpoint {
  bootstrap: string[];
  tls?: ConnectionOptions;
}

const common = (endpoint: Endpoint, clientId: string) => ({
  clientId,
  bootstrapBrokers: endpoint.bootstrap,
  connectTimeout: 3000,
  timeout: 10_000,
  ...(endpoint.tls === undefined ? {} : { tls: endpoint.tls }),
});

/** One metadata round trip: answers when the broker serves clients, throws otherwise. */
export async function clusterMetadata(endpoint: Endpoint, topics: string[] = []): Promise<ClusterMetadata> {
  const admin = new Admin({ ...common(endpoint, "imagewright-verify-probe"), retries: 0 });
  try {
    return await admin.metadata({ topics, forceUpdate: true });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export async function createTopic(endpoint: Endpoint, topic: string, partitions: number, replicas: number): Promise<void> {
  const admin = new Admin({ ...common(endpoint, "imagewright-verify-admin"), retries: 5 });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export async function brokerConfig(endpoint: Endpoint, brokerId: number, keys: string[]): Promise<Map<string, string | null | undefined>> {
  const admin = new Admin({ ...common(endpoint, "imagewright-verify-admin"), retries: 3 });
  try {
    const [description] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: String(brokerId), configurationKeys: keys }],
    });
    return new Map((description?.configs ?? []).map((config) => [config.name, config.value]));
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** The messages a step produces: value i goes to partition i mod P, so the order each partition must keep is known. */
export interface MessagePlan {
  topic: string;
  partitions: number;
  /** Per partition, the values in production order. */
  values: Buffer[][];
}

export function planMessages(topic: string, partitions: number, count: number, seed: string): MessagePlan {
  const values: Buffer[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < count; i++) {
    const partition = i % partitions;
    // A payload that differs per message and run, so a stale or mixed-up record cannot pass as intact.
    values[partition]!.push(Buffer.from(JSON.stringify({ seq: i, partition, run: seed, payload: `${seed}-${i}-`.repeat(8) })));
  }
  return { topic, partitions, values };
}

export async function produce(endpoint: Endpoint, plan: MessagePlan, batch = 200): Promise<number> {
  const producer = new Producer({ ...common(endpoint, "imagewright-verify-producer"), acks: -1, idempotent: true, retries: 5 });
  let acknowledged = 0;
  try {
    const all = plan.values.flatMap((values, partition) => values.map((value, index) => ({ value, partition, index })));
    all.sort((a, b) => a.index - b.index || a.partition - b.partition);
    for (let start = 0; start < all.length; start += batch) {
      const messages = all.slice(start, start + batch).map(({ value, partition }) => ({ topic: plan.topic, partition, value, key: Buffer.from(String(partition)) }));
      await producer.send({ messages });
      acknowledged += messages.length;
    }
  } finally {
    await producer.close().catch(() => undefined);
  }
  return acknowledged;
}

/** Reads the topic from the beginning until `expected` records arrived or the time is up. */
export async function consumeAll(endpoint: Endpoint, topic: string, partitions: number, expected: number, group: string, timeoutMs = 60_000): Promise<Buffer[][]> {
  const received: Buffer[][] = Array.from({ length: partitions }, () => []);
  // The first group join makes the broker create __consumer_offsets (50 partitions by
  // default); on a busy machine that takes longer than five one-second retries, and
  // JoinGroup answers COORDINATOR_NOT_AVAILABLE until it is done. Thirty retries stay
  // within the step's own time limit, so a broker that never serves groups still fails.
  const consumer = new Consumer({ ...common(endpoint, "imagewright-verify-consumer"), groupId: group, retries: 30 });
  let count = 0;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 500 });
    const timer = setTimeout(() => void stream.close().catch(() => undefined), timeoutMs);
    try {
      for await (const message of stream) {
        const slot = received[message.partition];
        if (slot === undefined) throw new Error(`record from partition ${message.partition}, but topic ${topic} has ${partitions}`);
        slot.push(Buffer.from(message.value));
        if (++count >= expected) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
    }
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
  return received;
}

/** Compares what came back with the plan: every value intact, in order, per partition; "" when equal. */
export function compareWithPlan(plan: MessagePlan, received: Buffer[][]): string {
  const problems: string[] = [];
  for (let partition = 0; partition < plan.partitions; partition++) {
    const sent = plan.values[partition] ?? [];
    const got = received[partition] ?? [];
    if (got.length !== sent.length) problems.push(`partition ${partition}: ${got.length} of ${sent.length} records`);
    const index = sent.findIndex((value, i) => got[i] !== undefined && !value.equals(got[i]));
    if (index >= 0) problems.push(`partition ${partition}: record ${index} differs (sent ${sent[index]!.toString().slice(0, 60)}…, got ${got[index]!.toString().slice(0, 60)}…)`);
  }
  return problems.join("; ");
}
