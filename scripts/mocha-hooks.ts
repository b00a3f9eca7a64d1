// Root hooks for every test run: keep the library's log quiet unless asked.
// Tests that assert on logging install their own observer; TORSION_TEST_LOG=1
// shows everything the library logs while the tests run.
import { setLogObservers, textFileObserver } from '../packages/core/src/log.js';

export const mochaHooks = {
  beforeAll(): void {
    setLogObservers(process.env.TORSION_TEST_LOG === '1' ? [textFileObserver(process.stderr)] : []);
  },
};
