// Matrix sources shared by the compat tests, written the way users write them.

export const HEADER = `apiVersion: imagewright.dev/v1
kind: CompatibilityMatrix
`;

/** Operator 0.2 runs image 0.1.x, operator 0.3 runs image 0.2.x; crossing lines is incompatible. */
export const KAFKA_MATRIX = `${HEADER}registry: 127.0.0.1:5000
organisation: stackable
tagScheme: stackable
rules:
  # operator 0.2: image line 0.1
  - operator: ">=0.2.0 <0.3.0"
    product: kafka
    productVersions: ["3.6.1", "3.7.0"]
    images: ">=0.1.0 <0.2.0"
    state: compatible
  - operator: ">=0.2.0 <0.3.0"
    product: kafka
    productVersions: "*"
    images: ">=0.2.0"
    state: incompatible
    note: image 0.2 moved the config directory
  # operator 0.3: image line 0.2
  - operator: ">=0.3.0 <0.4.0"
    product: kafka
    productVersions: ["3.6.1", "3.7.0"]
    images: ">=0.2.0 <0.3.0"
    state: compatible
  - operator: ">=0.3.0 <0.4.0"
    product: kafka
    productVersions: "*"
    images: "<0.2.0"
    state: incompatible
    note: operator 0.3 expects the new config directory
  - operator: ">=0.3.0 <0.4.0"
    product: kafka
    productVersions: ["3.8.0"]
    images: ["0.2.0"] # listed one by one
    state: unsupported
    note: not in the test suite yet
`;
