// The grammars a formatted tag must obey before anyone pushes it: the OCI
// distribution spec's tag grammar for registry tags, git's ref-name rules for git tags.

import { ImagewrightError } from "../errors/index.ts";

/** OCI distribution spec: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. */
export const OCI_TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const OCI_TAG_MAX_LENGTH = 128;

export function isOciTag(tag: string): boolean {
  return OCI_TAG_PATTERN.test(tag);
}

/** Throws invalid-input naming the first character that breaks the OCI tag grammar. */
export function checkOciTag(tag: string, what = "tag"): string {
  if (isOciTag(tag)) return tag;
  const input = `${what} ${JSON.stringify(tag)}`;
  const hint = "an OCI tag is 1 to 128 of [a-zA-Z0-9._-] and does not start with '.' or '-'";
  if (tag.length === 0) throw new ImagewrightError("invalid-input", `${what} is empty`, { input, hint });
  if (tag.length > OCI_TAG_MAX_LENGTH) {
    throw new ImagewrightError("invalid-input", `${what} is ${tag.length} characters long; an OCI tag has at most ${OCI_TAG_MAX_LENGTH}`, {
      input,
      place: `character ${OCI_TAG_MAX_LENGTH + 1}`,
      hint,
    });
  }
  const first = tag[0] ?? "";
  if (!/[a-zA-Z0-9_]/.test(first)) {
    throw new ImagewrightError("invalid-input", `${what} must not start with ${JSON.stringify(first)}`, { input, place: "character 1", hint });
  }
  const index = [...tag].findIndex((ch) => !/[a-zA-Z0-9._-]/.test(ch));
  const bad = [...tag][index] ?? "";
  throw new ImagewrightError("invalid-input", `${what} has ${JSON.stringify(bad)} at character ${index + 1}, which an OCI tag cannot contain`, {
    input,
    place: `character ${index + 1}`,
    hint,
  });
}

/** Characters git refuses anywhere in a ref name (git-check-ref-format(1)): controls, space, DEL and ~^:?*[\\ */
function gitForbiddenIndex(name: string): number {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || "~^:?*[\\".includes(name[i] ?? "")) return i;
  }
  return -1;
}

/** Why `name` is not a valid git tag name, with the 0-based character, or undefined when it is. */
export function gitTagProblem(name: string): { message: string; index: number } | undefined {
  if (name.length === 0) return { message: "is empty", index: 0 };
  const forbidden = gitForbiddenIndex(name);
  if (forbidden >= 0) {
    return { message: `has ${JSON.stringify(name[forbidden])} at character ${forbidden + 1}, which git refuses in a ref name`, index: forbidden };
  }
  const rules: Array<[RegExp, string]> = [
    [/\.\./, 'contains ".."'],
    [/@\{/, 'contains "@{"'],
    [/\/\//, 'contains "//"'],
    [/(^|\/)\./, 'has a component starting with "."'],
    [/\.lock(\/|$)/, 'has a component ending with ".lock"'],
    // git check-ref-format allows it, but `git tag -x` would read it as an option.
    [/^-/, 'starts with "-"'],
    [/^\/|\/$/, 'starts or ends with "/"'],
    [/\.$/, 'ends with "."'],
  ];
  for (const [pattern, message] of rules) {
    const match = pattern.exec(name);
    if (match !== null) return { message, index: match.index };
  }
  return undefined;
}

export function isGitTag(name: string): boolean {
  return gitTagProblem(name) === undefined;
}

/** Throws invalid-input when git would refuse `name` as a tag. */
export function checkGitTag(name: string, what = "git tag"): string {
  const problem = gitTagProblem(name);
  if (problem === undefined) return name;
  throw new ImagewrightError("invalid-input", `${what} ${JSON.stringify(name)} ${problem.message}`, {
    input: `${what} ${JSON.stringify(name)}`,
    place: `character ${problem.index + 1}`,
    hint: "see git-check-ref-format(1)",
  });
}
