/**
 * Child processes (`IReactorProcess`): the process protocol's call order
 * (`connectionMade` first, `processEnded` last and once, after the exit and
 * every pipe), stdin to stdout through an echoing child, exit codes and
 * signals as ProcessDone / ProcessTerminated, `signalProcess` after the exit
 * (ProcessExitedAlready), descriptor 3, a child that closes stdout and runs
 * on, pausing the output, a producer on stdin, a missing executable
 * (ProcessSpawnError, never an exception), an exception in the protocol
 * (logged; it costs the process), and the argument checks.
 *
 * Run only for a reactor that has `spawnProcess`; for any other the whole
 * section is pending, with the reason. Children come from
 * {@link ProcessCommands} (real commands by default).
 * @module
 */
import { describe, it } from 'mocha';
import { expect } from 'chai';
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessSpawnError,
  ProcessTerminated,
} from '@torsion/core';
import type {
  Failure,
  IProcessTransport,
  IPushProducer,
  IReactor,
  IReactorProcess,
  SpawnProcessOptions,
} from '@torsion/core';
import { RecordingProcessProtocol } from '@torsion/core/testing';
import { reactorTest, type Harness, type TestSpec } from '../internal/harness.js';
import { REAL_PROCESS_COMMANDS } from '../internal/process-commands.js';
import type { SuiteSettings } from '../internal/settings.js';
import type { ProcessBehaviour } from '../options.js';
import { expectLoggedOnce } from './fault-isolation.js';

type ProcessReactor = IReactor & IReactorProcess;

function hasProcesses(reactor: IReactor): reactor is ProcessReactor {
  return typeof (reactor as Partial<IReactorProcess>).spawnProcess === 'function';
}

/** Why the section is pending for this reactor, or null when it runs. */
function whyNoProcesses(settings: SuiteSettings): string | null {
  let reactor: IReactor;
  try {
    reactor = settings.makeReactor();
  } catch {
    return null;
  }
  const has = hasProcesses(reactor);
  try {
    void Promise.resolve(settings.destroyReactor?.(reactor)).catch(() => undefined);
  } catch {
    // Cleanup of a reactor that was never run: nothing to report.
  }
  return has ? null : 'IReactorProcess (it has no spawnProcess)';
}

/** The error a reason wraps, checked to be a `type`. */
function errorOf<T extends Error>(reason: Failure, type: abstract new (...args: never[]) => T): T {
  const value: unknown = reason.value;
  if (!(value instanceof type)) {
    throw new Error(`expected a ${type.name}, got ${reason.getErrorMessage()}`);
  }
  return value;
}

/** Writes 64 KiB chunks to a child's stdin until `total` bytes, pausing when told. */
class StdinStreamer extends RecordingProcessProtocol implements IPushProducer {
  sent = 0;
  paused = false;
  readonly chunk = Buffer.alloc(64 * 1024, 'p');

  constructor(readonly total: number) {
    super();
    this.keep = false;
  }

  override connectionMade(): void {
    super.connectionMade();
    this.transport.registerProducer(this, true);
    this.resumeProducing();
  }

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
    while (this.isProducing() && this.sent < this.total) {
      this.sent += this.chunk.length;
      this.transport.write(this.chunk);
    }
    if (this.sent >= this.total) {
      this.transport.unregisterProducer();
      this.transport.closeStdin();
    }
  }

  stopProducing(): void {
    this.paused = true;
  }

  isProducing(): boolean {
    return !this.paused;
  }
}

/** Registers the process tests. */
export function processTests(settings: SuiteSettings): void {
  const commands = settings.processCommands ?? REAL_PROCESS_COMMANDS;
  const why = whyNoProcesses(settings);
  describe('processes', () => {
    if (why !== null) {
      it.skip(`every process test [reactor lacks: ${why}]`);
      return;
    }

    const test = (
      title: string,
      spec: TestSpec,
      body: (h: Harness, spawn: Spawner) => Promise<void> | void,
    ): void => {
      reactorTest(settings, title, { ...spec, needs: ['processes', ...(spec.needs ?? [])] }, (h) =>
        body(h, (protocol, behaviour, options) => {
          const reactor = h.reactor as ProcessReactor;
          const { executable, args } = commands.command(reactor, behaviour);
          return reactor.spawnProcess(protocol, executable, args, options);
        }),
      );
    };

    test(
      'an echoing child: connectionMade, the output, every pipe closing, processExited, then processEnded once with ProcessDone',
      {},
      async (_h, spawn) => {
        class Writer extends RecordingProcessProtocol {
          override connectionMade(): void {
            super.connectionMade();
            this.transport.write('hello ');
            this.transport.writeSequence(['through ', 'the child']);
            this.transport.closeStdin();
          }
        }
        const proto = new Writer();
        const transport = spawn(proto, 'echo');
        expect(transport.pid).to.be.a('number');
        expect(proto.events).to.deep.equal(['connectionMade']);
        const reason = await proto.ended;
        expect(reason.check(ProcessDone)).to.equal(ProcessDone);
        expect(proto.text()).to.equal('hello through the child');
        expect(proto.events[0]).to.equal('connectionMade');
        expect(proto.events.at(-1)).to.equal('processEnded');
        for (const fd of [0, 1, 2]) {
          expect(proto.events).to.include(`childConnectionLost ${String(fd)}`);
        }
        expect(proto.events.filter((e) => e === 'processExited')).to.have.length(1);
        expect(proto.endedCount).to.equal(1);
        expect(proto.connected).to.equal(false);
        expect(transport.pid).to.equal(null);
      },
    );

    test(
      'a non-zero exit: ProcessTerminated with exitCode 3 and no signal',
      {},
      async (_h, spawn) => {
        const proto = new RecordingProcessProtocol();
        spawn(proto, 'exit3');
        const err = errorOf(await proto.ended, ProcessTerminated);
        expect(err.exitCode).to.equal(3);
        expect(err.signal).to.equal(null);
        expect(proto.endedCount).to.equal(1);
      },
    );

    test(
      'signalProcess("TERM") ends a sleeping child with ProcessTerminated (SIGTERM); afterwards it throws ProcessExitedAlready',
      {},
      async (_h, spawn) => {
        const proto = new RecordingProcessProtocol();
        const transport = spawn(proto, 'sleep');
        transport.signalProcess('TERM');
        const err = errorOf(await proto.ended, ProcessTerminated);
        expect(err.signal).to.equal('SIGTERM');
        expect(err.signalNumber).to.equal(15);
        expect(err.exitCode).to.equal(null);
        expect(() => {
          transport.signalProcess('KILL');
        }).to.throw(ProcessExitedAlready);
      },
    );

    test('signalProcess("KILL") ends a sleeping child with SIGKILL', {}, async (_h, spawn) => {
      const proto = new RecordingProcessProtocol();
      spawn(proto, 'sleep').signalProcess('KILL');
      expect(errorOf(await proto.ended, ProcessTerminated).signal).to.equal('SIGKILL');
    });

    test('stdout reaches outReceived and stderr errReceived', {}, async (_h, spawn) => {
      const proto = new RecordingProcessProtocol();
      const seen: string[] = [];
      proto.outReceived = (data) => seen.push(`out:${data.toString()}`);
      proto.errReceived = (data) => seen.push(`err:${data.toString()}`);
      spawn(proto, 'stdoutAndStderr');
      await proto.ended;
      expect(seen.filter((s) => s.startsWith('out:')).join('')).to.equal('out:out');
      expect(seen.filter((s) => s.startsWith('err:')).join('')).to.equal('err:err');
      expect(proto.text(1)).to.equal('out');
      expect(proto.text(2)).to.equal('err');
    });

    test(
      'a child writing to descriptor 3 (childFDs 3: "r") reaches childDataReceived(3)',
      {},
      async (_h, spawn) => {
        const proto = new RecordingProcessProtocol();
        spawn(proto, 'writeFD3', { childFDs: { 0: 'w', 1: 'r', 2: 'r', 3: 'r' } });
        const reason = await proto.ended;
        expect(reason.check(ProcessDone)).to.equal(ProcessDone);
        expect(proto.text(3)).to.equal('three');
        expect(proto.events).to.include('childConnectionLost 3');
      },
    );

    test(
      'a child that closes stdout and runs on: outConnectionLost before processExited, processEnded after it',
      {},
      async (_h, spawn) => {
        const proto = new RecordingProcessProtocol();
        spawn(proto, 'closeStdoutAndRunOn');
        const reason = await proto.ended;
        expect(reason.check(ProcessDone)).to.equal(ProcessDone);
        expect(proto.text(1)).to.equal('bye');
        expect(proto.text(2)).to.equal('done');
        expect(proto.events.indexOf('childConnectionLost 1')).to.be.lessThan(
          proto.events.indexOf('processExited'),
        );
      },
    );

    test(
      'pauseProducing() holds the output and processEnded back; resumeProducing() delivers them',
      {},
      async (h, spawn) => {
        const proto = new RecordingProcessProtocol();
        const transport = spawn(proto, 'stdoutAndStderr');
        transport.pauseProducing();
        await proto.exited;
        await h.wait(0.1);
        expect(proto.text(1)).to.equal('');
        expect(proto.events).to.not.include('processEnded');
        transport.resumeProducing();
        await proto.ended;
        expect(proto.text(1)).to.equal('out');
      },
    );

    test(
      'a streaming producer on stdin sends 4 MiB through an echoing child, all of it comes back',
      {},
      async (_h, spawn) => {
        const total = 4 * 1024 * 1024;
        const proto = new StdinStreamer(total);
        spawn(proto, 'echo');
        const reason = await proto.ended;
        expect(reason.check(ProcessDone)).to.equal(ProcessDone);
        expect(proto.byteCounts.get(1)).to.equal(total);
      },
    );

    test(
      'a missing executable is no exception: connectionMade, then processExited and processEnded with ProcessSpawnError (ENOENT) on a later turn',
      {},
      async (_h, spawn) => {
        const proto = new RecordingProcessProtocol();
        const transport = spawn(proto, 'missing');
        expect(transport.pid).to.equal(null);
        expect(proto.events).to.deep.equal(['connectionMade']);
        transport.write('dropped');
        const err = errorOf(await proto.ended, ProcessSpawnError);
        expect(err.systemCode).to.equal('ENOENT');
        expect(proto.events).to.deep.equal(['connectionMade', 'processExited', 'processEnded']);
        expect(() => {
          transport.signalProcess('TERM');
        }).to.throw(ProcessExitedAlready);
      },
    );

    test(
      'an exception in outReceived is logged and costs the process: it is killed and processEnded still comes',
      { logsErrors: true },
      async (h, spawn) => {
        const error = new Error('conformance: outReceived failed');
        class Throws extends RecordingProcessProtocol {
          override outReceived(): void {
            throw error;
          }
        }
        const proto = new Throws();
        spawn(proto, 'writeThenSleep');
        const err = errorOf(await proto.ended, ProcessTerminated);
        expect(err.signal).to.equal('SIGKILL');
        expectLoggedOnce(h, error);
      },
    );

    test('bad arguments throw at once, naming the field', {}, (h) => {
      const reactor = h.reactor as ProcessReactor;
      const proto = new RecordingProcessProtocol();
      expect(() => reactor.spawnProcess(proto, '')).to.throw(RangeError, /executable/);
      expect(() => reactor.spawnProcess(proto, 'x', [7 as unknown as string])).to.throw(
        TypeError,
        /args\[0\]/,
      );
      expect(() => reactor.spawnProcess(proto, 'x', [], { childFDs: { 1: 'rw' as 'r' } })).to.throw(
        TypeError,
        /childFDs\[1\]/,
      );
      expect(() => reactor.spawnProcess(proto, 'x', [], { uid: -1 })).to.throw(
        RangeError,
        /options\.uid/,
      );
      expect(() => reactor.spawnProcess({} as unknown as RecordingProcessProtocol, 'x')).to.throw(
        TypeError,
        /processProtocol/,
      );
      expect(proto.events).to.deep.equal([]);
    });
  });
}

/** Starts the child behaving as `behaviour` on the reactor under test. */
type Spawner = (
  protocol: RecordingProcessProtocol,
  behaviour: ProcessBehaviour,
  options?: SpawnProcessOptions,
) => IProcessTransport;
