'use strict';
// Mocha's spec output, followed by the one summary line CI reads:
// "N passed, N failed" (plus ", N skipped" when tests were skipped). With
// TORSION_TEST_TALLY set, the counts are also appended to that file as one JSON
// line, so scripts/run-tests.mjs can add up several runs (Node, then Bun).
const { appendFileSync } = require('node:fs');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats ?? this.stats;
      const skipped = pending > 0 ? `, ${pending} skipped` : '';
      process.stdout.write(`${passes} passed, ${failures} failed${skipped}\n`);
      const tally = process.env.TORSION_TEST_TALLY;
      if (tally) appendFileSync(tally, `${JSON.stringify({ passes, failures, pending })}\n`);
    });
  }
}

module.exports = SummaryReporter;
