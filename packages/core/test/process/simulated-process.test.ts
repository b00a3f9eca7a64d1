import { expect } from 'chai';
import type { Failure } from '../../src/failure.js';
import type { IPullProducer, IPushProducer } from '../../src/interfaces.js';
import { getProcessOutput, getProcessValue } from '../../src/process/get-process-output.js';
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessSpawnError,
  ProcessTerminated,
} from '../../src/process/process-errors.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { MemoryReactor } from '../../src/testing/memory-reactor.js';
import { RecordingProcessProtocol } from '../../src/testing/recording-process-protocol.js';
import type { ScriptedChild } from '../../src/testing/simulated/simulated-processes.js';
import { SimulatedReactor } from '../../src/testing/simulated/simulated-reactor.js';

function errorOf<T extends Error>(reason: Failure, type: abstract new (...args: never[]) => T): T {
  const value: unknown = reason.value;
  if (!(value instanceof type))
    throw new Error(`expected a ${type.name}, got ${reason.toString()}`);
  return value;
}

/** A streaming producer of `total` bytes in `chunk`-byte writes to a process's stdin; closes stdin after. */
class StdinFeeder extends RecordingProcessProtocol implements IPushProducer {
  sent = 0;
  paused = false;
  pauses = 0;
  resumes = 0;
  constructor(
    readonly total: number,
    readonly chunk: number,
  ) {
    super();
  }

  override connectionMade(): void {
    super.connectionMade();
    this.transport.registerProducer(this, true);
    this.#produce();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }

  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    this.#produce();
  }

  stopProducing(): void {
    this.paused = true;
  }

  #produce(): void {
    while (!this.paused && this.sent < this.total) {
      this.sent += this.chunk;
      this.transport.write(Buffer.alloc(this.chunk, 'x'));
    }
    if (!this.paused && this.sent === this.total) {
      this.sent = Infinity;
      this.transport.unregisterProducer();
      this.transport.closeStdin();
    }
  }
}

function endReason(proto: RecordingProcessProtocol): Failure {
  if (proto.reason === null) throw new Error('processEnded has not run');
  return proto.reason;
}

describe('MemoryReactor.spawnProcess and FakeProcessTransport', () => {
  it('records the call and connects the protocol to a fake child the test plays', () => {
    const reactor = new MemoryReactor();
    const proto = new RecordingProcessProtocol();
    const child = reactor.spawnProcess(proto, 'ls', ['-l'], { env: 'empty', path: '/tmp' });
    expect(reactor.processes).to.have.length(1);
    const record = reactor.processes[0];
    expect(record?.executable).to.equal('ls');
    expect(record?.args).to.deep.equal(['-l']);
    expect(record?.settings.env).to.deep.equal({});
    expect(record?.settings.cwd).to.equal('/tmp');
    expect(record?.process).to.equal(child);
    expect(child.pid).to.equal(1000);
    expect(proto.events).to.deep.equal(['connectionMade']);

    proto.transport.write('input');
    expect(child.writtenText()).to.equal('input');
    child.childWrites(1, 'out');
    child.childWrites(2, 'err');
    child.childExits(0);
    expect(proto.text(1)).to.equal('out');
    expect(proto.text(2)).to.equal('err');
    expect(errorOf(endReason(proto), ProcessDone)).to.be.instanceOf(ProcessDone);
    expect(proto.events).to.deep.equal([
      'connectionMade',
      'childConnectionLost 0',
      'processExited',
      'childConnectionLost 1',
      'childConnectionLost 2',
      'processEnded',
    ]);
  });

  it('processEnded waits for a pipe kept open after the exit, and for output held back by a pause', () => {
    const reactor = new MemoryReactor();
    const proto = new RecordingProcessProtocol();
    const child = reactor.spawnProcess(proto, 'x');
    child.childExits(3, { keepPipesOpen: true });
    expect(proto.events).to.include('processExited');
    expect(proto.events).to.not.include('processEnded');
    proto.transport.pauseProducing();
    child.childWrites(1, 'late');
    child.childClosesFD(1);
    child.childClosesFD(2);
    expect(proto.text()).to.equal('');
    expect(proto.events).to.not.include('processEnded');
    proto.transport.resumeProducing();
    expect(proto.text()).to.equal('late');
    expect(errorOf(endReason(proto), ProcessTerminated).exitCode).to.equal(3);
  });

  it('signalProcess records the signal; after the exit it throws ProcessExitedAlready', () => {
    const reactor = new MemoryReactor();
    const proto = new RecordingProcessProtocol();
    const child = reactor.spawnProcess(proto, 'x');
    proto.transport.signalProcess('TERM');
    proto.transport.signalProcess(9);
    expect(child.signals).to.deep.equal(['SIGTERM', 9]);
    child.childKilled('SIGTERM');
    expect(errorOf(endReason(proto), ProcessTerminated).signal).to.equal('SIGTERM');
    expect(() => {
      proto.transport.signalProcess('KILL');
    }).to.throw(ProcessExitedAlready);
  });

  it('an exception from the protocol is logged and costs the process: SIGKILL, pipes closed', () => {
    const capture = LogCapture.start();
    try {
      class Throws extends RecordingProcessProtocol {
        override errReceived(): void {
          throw new Error('bad stderr handling');
        }
      }
      const reactor = new MemoryReactor();
      const proto = new Throws();
      const child = reactor.spawnProcess(proto, 'x');
      child.childWrites(2, 'warning');
      expect(child.signals).to.deep.equal(['SIGKILL']);
      expect(child.isOpen(0)).to.equal(false);
      expect(child.isOpen(1)).to.equal(false);
      expect(capture.failures()[0]?.getErrorMessage()).to.equal('bad stderr handling');
      child.childKilled('SIGKILL');
      expect(proto.endedCount).to.equal(1);
    } finally {
      capture.stop();
    }
  });

  it('a streaming producer on stdin is paused above the high-water mark and resumed once the child read everything', () => {
    const reactor = new MemoryReactor();
    const feeder = new StdinFeeder(256 * 1024, 16 * 1024);
    const child = reactor.spawnProcess(feeder, 'slow');
    // 64 KiB is the mark: the write that goes over it (80 KiB unread) pauses the producer.
    expect(feeder.paused).to.equal(true);
    expect(feeder.pauses).to.equal(1);
    expect(child.unreadBytes()).to.equal(80 * 1024);
    expect(child.stdinProducer).to.equal(feeder);

    // Reading part of it is not enough: the producer resumes once the pipe is empty.
    expect(child.childReads(0, 50 * 1024)).to.have.length(50 * 1024);
    expect(feeder.paused).to.equal(true);
    expect(child.childReads()).to.have.length(30 * 1024);
    expect(feeder.resumes).to.equal(1);
    expect(feeder.paused).to.equal(true);
    expect(child.unreadBytes()).to.equal(80 * 1024);

    let read = 80 * 1024;
    while (child.unreadBytes() > 0) read += child.childReads().length;
    expect(read).to.equal(256 * 1024);
    expect(child.written()).to.have.length(256 * 1024);
    expect(child.isOpen(0)).to.equal(false);
    expect(() => child.childReads(1)).to.throw(
      RangeError,
      /childFD 1 is not a pipe the parent writes to/,
    );
  });

  it('a pull producer on stdin is asked for data at once and again each time the child read everything', () => {
    const reactor = new MemoryReactor();
    const proto = new RecordingProcessProtocol();
    const child = reactor.spawnProcess(proto, 'slow');
    let calls = 0;
    const producer: IPullProducer = {
      resumeProducing() {
        calls++;
        proto.transport.write(`chunk ${String(calls)};`);
      },
      stopProducing() {},
    };
    proto.transport.registerProducer(producer, false);
    expect(calls).to.equal(1);
    expect(child.childReads().toString()).to.equal('chunk 1;');
    expect(calls).to.equal(2);
    expect(child.childReads(0, 3).toString()).to.equal('chu');
    expect(calls).to.equal(2);
    child.childReads();
    expect(calls).to.equal(3);
    expect(child.writtenText()).to.equal('chunk 1;chunk 2;chunk 3;');
  });

  it('writeToChild refuses a descriptor that is not an input pipe; closeStdin closes fd 0', () => {
    const reactor = new MemoryReactor();
    const proto = new RecordingProcessProtocol();
    const child = reactor.spawnProcess(proto, 'x', [], { childFDs: { 0: 'w', 1: 'r', 3: 'w' } });
    expect(() => {
      proto.transport.writeToChild(1, 'no');
    }).to.throw(RangeError, /childFD 1/);
    proto.transport.writeToChild(3, 'three');
    expect(child.writtenText(3)).to.equal('three');
    proto.transport.closeStdin();
    expect(child.isOpen(0)).to.equal(false);
    expect(proto.events).to.include('childConnectionLost 0');
  });
});

describe('SimulatedReactor scripted processes', () => {
  it('a declared script writes at virtual times and exits with its code', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('worker', {
      output: [
        { at: 1, data: 'ready\n' },
        { at: 2, fd: 2, data: 'warn\n' },
      ],
      exit: { at: 5, exitCode: 3 },
    });
    const proto = new RecordingProcessProtocol();
    reactor.spawnProcess(proto, 'worker');
    const reason = await proto.ended;
    expect(reactor.seconds()).to.equal(5);
    expect(proto.text(1)).to.equal('ready\n');
    expect(proto.text(2)).to.equal('warn\n');
    expect(errorOf(reason, ProcessTerminated).exitCode).to.equal(3);
  });

  it('an echo script behaves as cat, and the test can read what the parent wrote', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('cat', { echo: true });
    class Echo extends RecordingProcessProtocol {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write('round trip');
        this.transport.closeStdin();
      }
    }
    const proto = new Echo();
    reactor.spawnProcess(proto, 'cat');
    const reason = await proto.ended;
    expect(proto.text()).to.equal('round trip');
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(reactor.processes.started[0]?.stdin).to.equal('round trip');
  });

  it('a signal kills a scripted child unless it handles it; an unknown executable fails to start', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('sleep', {});
    const sleeper = new RecordingProcessProtocol();
    reactor.spawnProcess(sleeper, 'sleep', ['30']).signalProcess('TERM');
    expect(errorOf(await sleeper.ended, ProcessTerminated).signal).to.equal('SIGTERM');

    const missing = new RecordingProcessProtocol();
    reactor.spawnProcess(missing, 'no-such-thing');
    expect(errorOf(await missing.ended, ProcessSpawnError).systemCode).to.equal('ENOENT');

    reactor.processes.define('locked', { spawnError: 'EACCES' });
    const locked = new RecordingProcessProtocol();
    reactor.spawnProcess(locked, 'locked');
    expect(errorOf(await locked.ended, ProcessSpawnError).systemCode).to.equal('EACCES');
  });

  it('a function script reacts to stdin and signals in virtual time', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('server', (child) => {
      child.onStdin = (data) => {
        child.after(0.5, () => {
          child.write(`got ${data.toString()}`);
        });
      };
      child.onSignal = (signal) => {
        child.write(`bye on ${String(signal)}`, 2);
        child.after(1, () => {
          child.exit(0);
        });
      };
    });
    const proto = new RecordingProcessProtocol();
    const transport = reactor.spawnProcess(proto, 'server');
    transport.write('ping');
    reactor.callLater(2, () => {
      transport.signalProcess('HUP');
    });
    await proto.ended;
    expect(proto.text()).to.equal('got ping');
    expect(proto.text(2)).to.equal('bye on SIGHUP');
    expect(reactor.seconds()).to.equal(3);
  });

  it('a producer feeding a child that stops reading is paused, and resumed once it reads again', async () => {
    const reactor = new SimulatedReactor();
    let stalledChild: ScriptedChild | null = null;
    reactor.processes.define('cat', {
      echo: true,
      run: (child) => {
        stalledChild = child;
        child.stopReading();
        child.after(10, () => {
          child.startReading();
        });
      },
    });
    const feeder = new StdinFeeder(1024 * 1024, 32 * 1024);
    const transport = reactor.spawnProcess(feeder, 'cat');
    expect(feeder.paused).to.equal(true);
    reactor.callLater(5, () => {
      // Still stalled: nothing was read, the producer waits.
      expect(feeder.resumes).to.equal(0);
      expect(transport.unreadBytes()).to.equal(96 * 1024);
    });
    const reason = await feeder.ended;
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(stalledChild).to.not.equal(null);
    expect(feeder.resumes).to.be.greaterThan(0);
    expect(feeder.text()).to.have.length(1024 * 1024);
    expect(reactor.seconds()).to.equal(10);
  });

  it('a child that reads late still gets what was written before stdin closed, then the end', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('late', {
      echo: true,
      run: (child) => {
        child.stopReading();
        child.after(3, () => {
          child.startReading();
        });
      },
    });
    class WriteAndClose extends RecordingProcessProtocol {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write('abc');
        this.transport.closeStdin();
      }
    }
    const proto = new WriteAndClose();
    reactor.spawnProcess(proto, 'late');
    const reason = await proto.ended;
    expect(proto.text()).to.equal('abc');
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(reactor.seconds()).to.equal(3);
  });

  it("a producer on stdin follows the reactor's writeHighWaterMark", async () => {
    const reactor = new SimulatedReactor({ writeHighWaterMark: 4096 });
    reactor.processes.define('cat', { echo: true });
    const feeder = new StdinFeeder(64 * 1024, 1024);
    reactor.spawnProcess(feeder, 'cat');
    expect(feeder.paused).to.equal(true);
    expect(feeder.sent).to.equal(5 * 1024);
    await feeder.ended;
    expect(feeder.text()).to.have.length(64 * 1024);
    expect(feeder.pauses).to.be.greaterThan(1);
  });

  it("a host (reactor.host(name)) spawns the simulation's scripted children", async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('date', { output: [{ at: 1, data: 'today\n' }], exit: { at: 2 } });
    const host = reactor.host('server');
    const proto = new RecordingProcessProtocol();
    host.spawnProcess(proto, 'date');
    const reason = await proto.ended;
    expect(proto.text()).to.equal('today\n');
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(reactor.processes.started).to.have.length(1);
    const out = await getProcessOutput('date', [], { reactor: host });
    expect(out.toString()).to.equal('today\n');
  });

  it('getProcessOutput and getProcessValue run on it', async () => {
    const reactor = new SimulatedReactor();
    reactor.processes.define('finger-db', (child) => {
      child.write(`user ${child.args.join(' ')}\n`);
      child.exit(child.args[0] === 'nobody' ? 1 : 0);
    });
    const out = await getProcessOutput('finger-db', ['alice'], { reactor });
    expect(out.toString()).to.equal('user alice\n');
    expect(await getProcessValue('finger-db', ['nobody'], { reactor })).to.equal(1);
  });
});
