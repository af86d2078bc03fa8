// Versioning: product, image and operator versions, tag schemes (registry and git
// tags, both ways) and the ordering of tags. Pure functions, no I/O.

export {
  compareProductVersions,
  isProductVersion,
  parseProductVersion,
  PRODUCT_VERSION_PATTERN,
  type ProductVersion,
} from "./product-version.ts";
export {
  bumpImageVersion,
  compareImageVersions,
  compareOperatorVersions,
  isImageVersion,
  parseImageVersion,
  parseOperatorVersion,
  type VersionPart,
} from "./semantic-version.ts";
export { checkGitTag, checkOciTag, isGitTag, isOciTag, OCI_TAG_MAX_LENGTH, OCI_TAG_PATTERN } from "./tag-grammar.ts";
export { isProductName, PLACEHOLDERS } from "./template.ts";
export {
  DEFAULT_VENDOR,
  floatingTags,
  formatGitTag,
  formatTag,
  parseGitTag,
  parseTag,
  readGitTag,
  readTag,
  TAG_SCHEME_PRESETS,
  tagScheme,
  type ImageCoordinates,
  type TagKind,
  type TagReading,
  type TagScheme,
  type TagSchemeConfig,
} from "./scheme.ts";
export {
  compareImageCoordinates,
  newestImageVersion,
  orderTags,
  resolveFloatingTag,
  type IgnoredTag,
  type OrderedTags,
} from "./ordering.ts";
