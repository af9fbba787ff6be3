// The benchmark's task module for tsmw.
import { defineTask } from '@tsmw/core';
import { countHits } from './monte-pi.mjs';

export const add = defineTask('add', (input) => input.a + input.b);
export const montePi = defineTask('montePi', (input) => countHits(input.darts, input.seed));
