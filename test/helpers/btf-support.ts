/** Feature sets for testing BTF sanitisation: everything supported, nothing, and each feature off alone. */

import type { BtfSupport } from "../../src/btf/index.js";

export const FULL: BtfSupport = {
  funcs: true,
  funcLinkage: true,
  datasec: true,
  qmarkDatasec: true,
  float: true,
  declTag: true,
  typeTag: true,
  enum64: true,
};
export const FEATURES = Object.keys(FULL) as (keyof BtfSupport)[];
export const NONE = Object.fromEntries(FEATURES.map((feature) => [feature, false])) as unknown as BtfSupport;

/** Each feature turned off alone, then all of them, with a label for test names. */
export const VARIANTS: [string, BtfSupport][] = [
  ...FEATURES.map((feature): [string, BtfSupport] => [`without ${feature}`, { ...FULL, [feature]: false }]),
  ["without anything", NONE],
];
