// The task module of the null-test example (PyMW's null_test.py): workers load this file.
import { defineTask } from '@tsmw/core';

/** Does nothing but hand its input back: what is left of a task's time is the transport's overhead. */
export const echo = defineTask('null-test', (input: Uint8Array): Uint8Array => input);
