// fast-check generators for the versioning tests: valid product versions, image versions,
// product names and vendor words, sized so that every formatted tag fits in 128 characters.
import fc from "fast-check";
import semver from "semver";

const alnum = fc.constantFrom(..."0123456789abcxyzABCRM");
const digit = fc.constantFrom(..."0123456789");

const segment = fc.string({ unit: alnum, minLength: 1, maxLength: 4 });
const numericSegment = fc.oneof(fc.nat({ max: 30 }).map(String), fc.nat({ max: 100_000 }).map(String), fc.string({ unit: digit, minLength: 1, maxLength: 3 }));

/** Product versions: digits first, dot-separated alphanumeric segments; mostly numeric, like real ones. */
export const productVersions: fc.Arbitrary<string> = fc
  .tuple(
    fc.tuple(digit, fc.string({ unit: alnum, maxLength: 3 })).map(([d, rest]) => d + rest),
    fc.array(fc.oneof({ weight: 3, arbitrary: numericSegment }, { weight: 1, arbitrary: segment }), { maxLength: 4 }),
  )
  .map(([first, rest]) => [first, ...rest].join("."));

const prereleaseIdentifier = fc.oneof(
  fc.nat({ max: 50 }).map(String),
  fc.stringMatching(/^[0-9]{0,2}[A-Za-z-][0-9A-Za-z-]{0,4}$/),
);

/** Image versions: strict SemVer, sometimes with a pre-release, never with build metadata. */
export const imageVersions: fc.Arbitrary<string> = fc
  .tuple(fc.nat({ max: 30 }), fc.nat({ max: 120 }), fc.nat({ max: 2000 }), fc.option(fc.array(prereleaseIdentifier, { minLength: 1, maxLength: 3 }), { freq: 3 }))
  .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre === null ? "" : "-" + pre.join(".")}`)
  .filter((v) => semver.valid(v) === v);

/** Released image versions only (no pre-release). */
export const releasedImageVersions: fc.Arbitrary<string> = fc
  .tuple(fc.nat({ max: 30 }), fc.nat({ max: 120 }), fc.nat({ max: 2000 }))
  .map(([major, minor, patch]) => `${major}.${minor}.${patch}`);

/** A catalog's products, deliberately including names that are prefixes of one another. */
export const PRODUCTS = ["kafka", "kafka-native", "kcat", "trino", "spark-k8s", "zookeeper", "hbase", "hbase-operator-tools"] as const;
export const products: fc.Arbitrary<string> = fc.constantFrom(...PRODUCTS);

export const vendors: fc.Arbitrary<string> = fc.constantFrom("stackable", "acme", "Example", "my-org", "x");

export const rcs: fc.Arbitrary<number> = fc.oneof(fc.nat({ max: 12 }), fc.nat({ max: 1_000_000 }));
