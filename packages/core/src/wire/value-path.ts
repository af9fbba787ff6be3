/**
 * Where the encoder was when it had to stop, built only after it stopped. The encoder keeps no
 * path while it works: a refusal is thrown from the value that cannot cross, and each container
 * it passes on its way out adds one step (the container and how its child was reached). Strings
 * are made only here, on the error path.
 */

/** How a container reached the child the encoder was writing. */
export const StepKind = {
  /** An object's property (`.name` or `["a b"]`). */
  Property: 0,
  /** An array's item (`[3]`). */
  Index: 1,
  /** A Map's key, by its position (`.keys()[2]`). */
  MapKey: 2,
  /** A Map's value, by its key (`.get("a")`, or `.values()[2]` for a key that is not a primitive). */
  MapValue: 3,
  /** A Set's member, by its position (`.values()[2]`). */
  SetMember: 4,
} as const;
export type StepKind = (typeof StepKind)[keyof typeof StepKind];

export interface PathStep {
  readonly container: object;
  readonly kind: StepKind;
  /** The property name, or the position. */
  readonly key: string | number;
  /** A Map value's key. */
  readonly mapKey?: unknown;
}

/** Why the encoder stopped. */
export const RefusalKind = {
  /** A value that cannot cross (`reason` says why). */
  Unsupported: 0,
  /** Nesting deeper than the wire allows: a circular reference, or a value that deep. */
  TooDeep: 1,
  /** The encoding grew past the size cap: maybe a circular reference, else too large. */
  TooLarge: 2,
  /** Reading the value threw (a getter, a proxy). */
  Threw: 3,
} as const;
export type RefusalKind = (typeof RefusalKind)[keyof typeof RefusalKind];

/** Thrown inside the encoder, never seen outside it. Not an `Error`: no stack is captured. */
export class Refusal {
  /** Innermost first: the container of the refused value, then its container, and so on. */
  readonly steps: PathStep[] = [];

  constructor(
    readonly kind: RefusalKind,
    readonly reason: string,
    /** The value refused (for TooDeep, the container one level too deep). */
    readonly value: unknown,
    readonly cause?: unknown,
  ) {}

  /** Called by each container on the way out. */
  passing(container: object, kind: StepKind, key: string | number, mapKey?: unknown): this {
    this.steps.push(mapKey === undefined ? { container, kind, key } : { container, kind, key, mapKey });
    return this;
  }
}

const identifier = /^[A-Za-z_$][\w$]*$/;

function formatStep(step: PathStep, atRoot: boolean): string {
  // atRoot: the first step from an empty root (an envelope's field) has no leading dot.
  switch (step.kind) {
    case StepKind.Property: {
      const key = String(step.key);
      if (identifier.test(key)) return atRoot ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    }
    case StepKind.Index:
      return `[${step.key}]`;
    case StepKind.MapKey:
      return `.keys()[${step.key}]`;
    case StepKind.MapValue: {
      const literal = primitiveLiteral(step.mapKey);
      return literal === undefined ? `.values()[${step.key}]` : `.get(${literal})`;
    }
    case StepKind.SetMember:
      return `.values()[${step.key}]`;
  }
}

function primitiveLiteral(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'object':
      return value === null ? 'null' : undefined;
    default:
      return undefined;
  }
}

/** Paths with more steps than this show their first and last steps around an ellipsis. */
const FULL_PATH_STEPS = 24;
const KEPT_STEPS = 8;

/**
 * The path of the value reached after `count` of `steps` (0: the root). Very deep paths are
 * shortened: `input[0][0][0]...(990 more)...[0][0]`.
 */
export function pathOf(root: string, steps: readonly PathStep[], count: number): string {
  const formatted: string[] = [];
  const format = (index: number): string => formatStep(steps[index]!, index === 0 && root === '');
  if (count <= FULL_PATH_STEPS) {
    for (let index = 0; index < count; index += 1) formatted.push(format(index));
    return root + formatted.join('');
  }
  for (let index = 0; index < KEPT_STEPS; index += 1) formatted.push(format(index));
  formatted.push(`...(${count - 2 * KEPT_STEPS} more)...`);
  for (let index = count - KEPT_STEPS; index < count; index += 1) formatted.push(format(index));
  return root + formatted.join('');
}

/**
 * The first value on the way down that is one of its own containers: `[index, indexOfContainer]`,
 * or undefined when there is no cycle. `chain[i]` is the value at depth i (root first).
 */
export function findCycle(chain: readonly unknown[]): [number, number] | undefined {
  const seen = new Map<unknown, number>();
  for (let index = 0; index < chain.length; index += 1) {
    const value = chain[index];
    if (typeof value !== 'object' || value === null) continue;
    const earlier = seen.get(value);
    if (earlier !== undefined) return [index, earlier];
    seen.set(value, index);
  }
  return undefined;
}

/** A short description of a value for a message: its class name, or its type. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') {
    let name: unknown;
    try {
      name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    } catch {
      name = undefined;
    }
    return typeof name === 'string' && name !== '' ? name : typeof value;
  }
  return typeof value;
}
