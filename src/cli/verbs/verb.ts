import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from '../command.js';
import type { ManagerClient } from '../manager-client/client.js';
import type { TaskInfo, TaskRef } from '../manager-client/records.js';

export type VerbOptions = NonNullable<ParseArgsConfig['options']>;
export type OptionValue = string | boolean | (string | boolean)[] | undefined;

/** One verb of a group, e.g. `vm snapshot create`: its words, usage, examples and action. */
export interface Verb {
  /** The words after the group's name: ['list'], ['snapshot', 'create']. */
  readonly words: readonly string[];
  readonly summary: string;
  /** Positionals and flags after the words, e.g. 'VM [--deep] [--no-wait]'. */
  readonly usage: string;
  /** Whole command lines, each shown under "examples:" by --help. */
  readonly examples: readonly string[];
  /** Flags beyond the common ones (--json, --profile, --help; --no-wait for task verbs). */
  readonly options?: VerbOptions;
  /** Starts a manager task: gets --no-wait and a progress bar. */
  readonly task?: boolean;
  /** Longer explanation printed by --help. */
  readonly details?: readonly string[];
  run(ctx: VerbContext): Promise<number>;
}

export interface VerbContext {
  readonly io: CliIo;
  /** The full command, e.g. 'vm encrypt', for messages. */
  readonly command: string;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly profilePath: string;
  /** A string flag's value (undefined when absent). */
  str(flag: string): string | undefined;
  bool(flag: string): boolean;
  /** Every value of a flag declared `multiple: true`. */
  list(flag: string): readonly string[];
  /** An integer flag within [min, max], or a usage error naming the flag. */
  int(flag: string, min: number, max: number): number | undefined;
  /** The i-th positional, or a usage error naming it. */
  arg(i: number, name: string): string;
  /** A usage error for this verb (exit code 2, usage text appended). */
  usageError(message: string): Error;
  /** The manager client from the profile (read lazily: `--help` needs none). */
  client(): Promise<ManagerClient>;
  /** Prints `doc` as the one JSON document with --json, else the human lines. */
  emit(doc: unknown, human: () => readonly string[]): void;
  /**
   * Follows a task the manager started: returns its final state, or undefined with --no-wait
   * (after printing the task id). A failed task throws TASK_FAILED.
   */
  follow(task: TaskRef, label: string): Promise<TaskInfo | undefined>;
}
