// The worker file of piscina and tinypool: one function, called once per task.
import { countHits } from './monte-pi.mjs';

export default function run(input) {
  return input.darts === undefined ? input.a + input.b : countHits(input.darts, input.seed);
}
