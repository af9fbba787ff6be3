/** One example of a command, as `--help` shows it. */
export interface CommandExample {
  /** The switches after `npm run example --`, such as `monte-pi -n 2`. */
  readonly command: string;
  readonly description: string;
  /** Runs long (the full default size); the CLI's test checks it parses but does not run it. */
  readonly long?: boolean;
}

/** How the examples are started from the repository's root. */
export const commandPrefix = 'npm run example --';

/** The group of an example's own switches in `--help` (listed first). */
export const exampleGroup = 'Options:';

/**
 * The "Examples:" section of a command's `--help`: each command on a line of its own, whole,
 * so that it can be copied and run as printed, with its description indented below.
 */
export function formatExamples(examples: readonly CommandExample[], note?: string): string {
  const lines = ['Examples:'];
  for (const example of examples) lines.push(`  ${commandPrefix} ${example.command}`, `      ${example.description}`);
  return note === undefined ? lines.join('\n') : `${lines.join('\n')}\n\n${note}`;
}
