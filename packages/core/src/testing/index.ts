/**
 * `@torsion/core/testing`: test doubles for protocols, factories and code that
 * uses a reactor, in the style of Twisted's `twisted.internet.testing`.
 * No dependency beyond Node built-ins and `@torsion/core` itself, so they work
 * under any test runner. Only what test authors use is exported (see
 * docs/testing.md and docs/simulated-reactor.md); the helpers the doubles
 * share stay private.
 *
 * Tests: test/testing/*.test.ts, test/types/doubles.test-d.ts
 * @module
 */
export { Clock } from '../clock.js';
export { fixedChunker, randomChunker, type Chunker } from './chunkers.js';
export { EchoingProtocol } from './echoing-protocol.js';
export { Eventual } from './eventual.js';
export { HalfCloseRecordingProtocol } from './half-close-recording-protocol.js';
export { FakeTransport, type FakeTransportOptions } from './fake-transport.js';
export { FakeUDPPort, type SentDatagram } from './fake-udp-port.js';
export { FakeProcessTransport, type FakeChildListener } from './fake-process.js';
export {
  connectedServerAndClient,
  connectedServerAndClientOverTLS,
  IOPump,
  type ClientSide,
  type ConnectedPair,
  type ConnectionOptions,
  type IOPumpOptions,
  type ProtocolBuilder,
  type PumpClock,
  type ServerSide,
  type TLSConnectionOptions,
} from './io-pump.js';
export { LogCapture } from './log-capture.js';
export {
  FakeConnector,
  FakeListeningPort,
  FakeSSLConnector,
  FakeSSLListeningPort,
  MemoryReactor,
  MemoryReactorClock,
  type AdoptedPortRecord,
  type ProcessRecord,
  type FakeConnection,
  type SSLClientRecord,
  type SSLServerRecord,
  type TCPClientRecord,
  type TCPServerRecord,
  type TriggerRecord,
  type UDPPortRecord,
  type UNIXClientRecord,
  type UNIXServerRecord,
} from './memory-reactor.js';
export { RecordingClientFactory } from './recording-client-factory.js';
export { RecordingDatagramProtocol, type ReceivedDatagram } from './recording-datagram-protocol.js';
export { RecordingFactory } from './recording-factory.js';
export { RecordingProtocol, type DataSink } from './recording-protocol.js';
export { RecordingProcessProtocol } from './recording-process-protocol.js';
export { SeededRandom } from './seeded-random.js';
export { serveOnLoopback, type LoopbackServer } from './serve-on-loopback.js';
export { SimulatedConnector } from './simulated/simulated-connector.js';
export { SimulatedHost } from './simulated/simulated-host.js';
export type { LinkConditions, ResolvedLinkConditions } from './simulated/simulated-link.js';
export {
  SimulatedNetwork,
  type HostReference,
  type TraceEvent,
} from './simulated/simulated-network.js';
export { SimulatedPort } from './simulated/simulated-port.js';
export {
  ScriptedChild,
  SimulatedProcesses,
  type ProcessScript,
} from './simulated/simulated-processes.js';
export { SimulatedSSLConnector } from './simulated/simulated-ssl-connector.js';
export { SimulatedSSLPort } from './simulated/simulated-ssl-port.js';
export { SimulatedUDPPort } from './simulated/simulated-udp-port.js';
export { SimulatedUNIXConnector } from './simulated/simulated-unix-connector.js';
export { SimulatedUNIXFiles } from './simulated/simulated-unix-files.js';
export { SimulatedUNIXPort } from './simulated/simulated-unix-port.js';
export type { DatagramStats } from './simulated/simulated-udp-network.js';
export {
  SimulatedReactor,
  type RunUntilIdleOptions,
  type SimulatedReactorOptions,
} from './simulated/simulated-reactor.js';
export { SimulatedConnection, SimulatedTransport } from './simulated/simulated-transport.js';
export {
  StringTransport,
  StringTransportWithDisconnection,
  type ProducerState,
  type StringTransportOptions,
  type StringTransportWithDisconnectionOptions,
} from './string-transport.js';
export {
  makeTestCertificates,
  writeTestCertificates,
  type TestCertificateFiles,
  type TestCertificates,
  type TestKeyPair,
} from './test-certificates.js';
