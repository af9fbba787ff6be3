import { createTwoFilesPatch } from 'diff';
import { projectRelative, type ChangePlan, type PlannedWrite } from './change-plan.js';

const decoder = new TextDecoder();

function describeContent(write: PlannedWrite): string {
  if (write.content.kind === 'copy' && write.content.sha256 === '') return `size known once downloaded, from ${write.content.origin}`;
  if (write.content.kind === 'copy') return `${write.content.size.toLocaleString('en-US')} bytes, sha256 ${write.content.sha256.slice(0, 16)}…, from ${write.content.origin}`;
  return `${write.content.bytes.length.toLocaleString('en-US')} bytes`;
}

/**
 * What `--dry-run` prints: a unified diff per text file (against /dev/null for a new or removed
 * one), one line per binary file, one line per command. Exactly what the plan would do.
 */
export function formatPlan(plan: ChangePlan): string {
  const parts: string[] = [];
  for (const write of plan.writes) {
    const path = projectRelative(plan, write.path);
    if (write.text && write.content.kind === 'bytes') {
      const before = write.before === undefined ? '' : decoder.decode(write.before);
      const after = decoder.decode(write.content.bytes);
      if (before === after) parts.push(`mode ${path}: ${write.mode.toString(8)}\n`);
      else parts.push(createTwoFilesPatch(write.exists ? `a/${path}` : '/dev/null', `b/${path}`, before, after, undefined, undefined, { context: 3 }).replace(/^=+\n/, ''));
    } else {
      parts.push(`${write.exists ? 'replace' : 'create'} binary ${path} (${describeContent(write)}, mode ${write.mode.toString(8)})\n`);
    }
  }
  for (const deletion of plan.deletes) {
    const path = projectRelative(plan, deletion.path);
    if (deletion.text && deletion.before !== undefined) parts.push(createTwoFilesPatch(`a/${path}`, '/dev/null', decoder.decode(deletion.before), '', undefined, undefined, { context: 3 }).replace(/^=+\n/, ''));
    else parts.push(`delete ${path} (${deletion.size.toLocaleString('en-US')} bytes)\n`);
  }
  for (const directory of plan.emptyDirectories) parts.push(`remove directory ${projectRelative(plan, directory)} if empty\n`);
  for (const command of plan.commands) parts.push(`run: ${[command.program, ...command.args].join(' ')}   # ${command.reason}\n`);
  if (parts.length === 0) parts.push('nothing to change\n');
  return parts.join('');
}

/** The plan for `--json`: paths relative to the project, no file contents. */
export function planSummary(plan: ChangePlan): {
  changes: { path: string; action: 'create' | 'update' | 'delete'; bytes: number }[];
  commands: { command: string; reason: string }[];
} {
  return {
    changes: [
      ...plan.writes.map((write) => ({
        path: projectRelative(plan, write.path),
        action: write.exists ? ('update' as const) : ('create' as const),
        bytes: write.content.kind === 'bytes' ? write.content.bytes.length : write.content.size,
      })),
      ...plan.deletes.map((deletion) => ({ path: projectRelative(plan, deletion.path), action: 'delete' as const, bytes: deletion.size })),
    ],
    commands: plan.commands.map((command) => ({ command: [command.program, ...command.args].join(' '), reason: command.reason })),
  };
}
