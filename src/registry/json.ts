// JSON parsing that says where a document is broken. V8's SyntaxError does not
// always carry a position (Node 24 often quotes a snippet instead), so the
// offset comes from a small scanner that walks the grammar up to the first error.

export interface JsonErrorPlace {
  /** 0-based UTF-16 offset of the first character that cannot be right. */
  offset: number;
  line: number;
  column: number;
}

/** Where `text` stops being JSON, or undefined when it is valid. */
export function locateJsonError(text: string): JsonErrorPlace | undefined {
  let i = 0;
  const fail = (): never => {
    throw new Stop(i);
  };
  const space = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string): void => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c < " ") fail();
      if (c === "\\") {
        i++;
        const e = text[i];
        if (e === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              fail();
            }
          }
          i += 5;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail();
      }
      i++;
    }
    fail();
  };
  const number = (): void => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (/[1-9]/.test(text[i] ?? "")) while (/[0-9]/.test(text[i] ?? "")) i++;
    else fail();
    if (text[i] === ".") {
      i++;
      if (!/[0-9]/.test(text[i] ?? "")) fail();
      while (/[0-9]/.test(text[i] ?? "")) i++;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!/[0-9]/.test(text[i] ?? "")) fail();
      while (/[0-9]/.test(text[i] ?? "")) i++;
    }
  };
  const value = (depth: number): void => {
    if (depth > 1000) fail();
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ":") fail();
        i++;
        value(depth + 1);
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail();
      }
    } else if (c === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else number();
  };
  try {
    value(0);
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    return { offset: error.offset, line, column: error.offset - before.lastIndexOf("\n") };
  }
}

/** Unwinds the scanner at the first error; never escapes locateJsonError. */
class Stop extends Error {
  readonly offset: number;
  constructor(offset: number) {
    super(`JSON error at offset ${offset}`);
    this.offset = offset;
  }
}

/** `byte 33 (line 2, column 13)` for a document that is not JSON. */
export function jsonErrorPlace(text: string): string {
  const place = locateJsonError(text);
  if (place === undefined) return "byte 0";
  return `byte ${Buffer.byteLength(text.slice(0, place.offset))} (line ${place.line}, column ${place.column})`;
}
