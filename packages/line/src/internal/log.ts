/**
 * The `torsion.line` logger, for the warnings the receivers log themselves
 * (a peer dropped for a bad netstring or an over-long asynchat frame).
 * Exceptions from user callbacks are not logged here: they propagate to the
 * transport, which logs them once (see FramingReceiver).
 *
 * Tests: test/netstring-receiver.test.ts, test/async-chat.test.ts, test/starttls.test.ts
 * @module
 */
import { Logger } from '@torsion/core';

/** The package's logger. */
export const log = new Logger('torsion.line');
