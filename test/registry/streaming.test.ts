// Memory does not grow with blob size: a small and a ten times larger blob
// go up and come back through the client, and the peak RSS above the starting
// point must be about the same for both (chunks and stream buffers, not blobs).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

const PORTS = [15000, 15099] as const;
const MIB = 1024 * 1024;

/** A deterministic stream of `size` bytes generated 1 MiB at a time, never held whole. */
function generated(size: number, seed: number): Readable {
  return Readable.from(
    (function* () {
      const block = Buffer.alloc(MIB);
      for (let offset = 0; offset < size; offset += MIB) {
        block.writeUInt32LE(seed, 0);
        block.writeUInt32LE(offset / MIB, 4);
        yield Buffer.from(block.subarray(0, Math.min(MIB, size - offset)));
      }
    })(),
  );
}

async function digestOfStream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

describe("streaming through the registry client", () => {
  let registry: TestRegistry;
  let client: RegistryClient;

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
    client = new RegistryClient({ env: {} });
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  /** Peak RSS growth (MiB) while pushing and pulling one blob of `size` bytes. */
  async function peakGrowth(size: number, seed: number): Promise<number> {
    const descriptor = { mediaType: "application/octet-stream", digest: await digestOfStream(generated(size, seed)), size };
    const repo = client.repository(registry.host, `stream/blob-${seed}`);
    globalThis.gc?.();
    const start = process.memoryUsage().rss;
    let peak = start;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      await repo.putBlob(descriptor, generated(size, seed));
      let received = 0;
      await pipeline(
        await repo.getBlob(descriptor),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
            callback();
          },
        }),
      );
      assert.equal(received, size);
    } finally {
      clearInterval(sampler);
    }
    return (Math.max(peak, process.memoryUsage().rss) - start) / MIB;
  }

  it("uses about the same memory for a 32 MiB and a 320 MiB blob", async (t) => {
    const small = await peakGrowth(32 * MIB, 1);
    const large = await peakGrowth(320 * MIB, 2);
    const growth = `peak RSS growth: ${small.toFixed(0)} MiB for 32 MiB, ${large.toFixed(0)} MiB for 320 MiB`;
    t.diagnostic(growth);
    // Holding the blob would add 288 MiB; two 16 MiB chunks, stream buffers and GC timing account for tens (measured 60-105).
    assert.ok(large - small < 128, growth);
    assert.ok(large < 192, growth);
  });
});
