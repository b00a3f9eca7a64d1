/**
 * The Node reactor's open resources: {@link OpenResources} plus the write
 * high-water mark its TCP ports and connectors hand to new transports.
 *
 * Tests: test/node-reactor.test.ts (shutdown), test/tcp.integration.test.ts
 * @module
 */
import { OpenResources } from '../reactor-kit/open-resources.js';

/** The open resources of one {@link NodeReactor}. */
export class Registry extends OpenResources {
  /** Write high-water mark given to new transports, in bytes. */
  readonly writeHighWaterMark: number;

  constructor(writeHighWaterMark: number) {
    super();
    this.writeHighWaterMark = writeHighWaterMark;
  }
}
