// Real child processes on NodeReactor: echo through cat, exit codes,
// signals, the processEnded ordering, a missing or non-executable executable,
// fd 3 both ways, a child that closes stdout and runs on, exceptions in the
// protocol, and many spawns with no leaked descriptors or zombies. Every
// child is short-lived and every wait bounded (mocha's timeout).
import { expect } from 'chai';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Failure } from '../../src/failure.js';
import type { IProcessProtocol } from '../../src/interfaces.js';
import { NodeReactor } from '../../src/node-reactor.js';
import {
  ProcessDone,
  ProcessExitedAlready,
  ProcessSpawnError,
  ProcessTerminated,
} from '../../src/process/process-errors.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { Eventual } from '../../src/testing/eventual.js';
import { RecordingProcessProtocol } from '../../src/testing/recording-process-protocol.js';

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Children of this process that are zombies (exited, not reaped). */
function zombieChildren(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSyncSafe(`/proc/${entry}/stat`);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' && Number(fields[1]) === process.pid) count++;
    } catch {
      // The process went away while we looked.
    }
  }
  return count;
}

function readFileSyncSafe(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The error a reason wraps, checked to be a `type`. */
function errorOf<T extends Error>(reason: Failure, type: abstract new (...args: never[]) => T): T {
  const value: unknown = reason.value;
  if (!(value instanceof type))
    throw new Error(`expected a ${type.name}, got ${reason.toString()}`);
  return value;
}

describe('NodeReactor.spawnProcess (real processes)', function () {
  this.timeout(20_000);
  let reactor: NodeReactor;
  let dir: string;

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    dir = mkdtempSync(join(tmpdir(), 'torsion-process-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('echoes through cat: connectionMade, the output, each pipe closing, processExited, then processEnded with ProcessDone', async () => {
    class Echo extends RecordingProcessProtocol {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write('hello ');
        this.transport.writeSequence(['cat', '\n']);
        this.transport.closeStdin();
      }
    }
    const proto = new Echo();
    const transport = reactor.spawnProcess(proto, 'cat');
    expect(transport.pid).to.be.a('number');
    expect(proto.events).to.deep.equal(['connectionMade']);
    const reason = await proto.ended;
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(proto.text()).to.equal('hello cat\n');
    expect(proto.events[0]).to.equal('connectionMade');
    expect(proto.events.at(-1)).to.equal('processEnded');
    for (const fd of [0, 1, 2])
      expect(proto.events).to.include(`childConnectionLost ${String(fd)}`);
    expect(proto.events.filter((e) => e === 'processExited')).to.have.length(1);
    expect(proto.endedCount).to.equal(1);
    expect(proto.connected).to.equal(false);
    expect(transport.pid).to.equal(null);
  });

  it("sh -c 'exit 3' ends with ProcessTerminated, exitCode 3", async () => {
    const proto = new RecordingProcessProtocol();
    reactor.spawnProcess(proto, 'sh', ['-c', 'exit 3']);
    const reason = await proto.ended;
    const err = errorOf(reason, ProcessTerminated);
    expect(reason.check(ProcessTerminated)).to.equal(ProcessTerminated);
    expect(err.exitCode).to.equal(3);
    expect(err.signal).to.equal(null);
  });

  it('signalProcess("TERM") kills a sleeping child: ProcessTerminated with SIGTERM; after the exit it throws ProcessExitedAlready', async () => {
    const proto = new RecordingProcessProtocol();
    const transport = reactor.spawnProcess(proto, 'sleep', ['30']);
    transport.signalProcess('TERM');
    const reason = await proto.ended;
    const err = errorOf(reason, ProcessTerminated);
    expect(err.signal).to.equal('SIGTERM');
    expect(err.signalNumber).to.equal(15);
    expect(err.exitCode).to.equal(null);
    expect(() => {
      transport.signalProcess('KILL');
    }).to.throw(ProcessExitedAlready);
    expect(() => {
      transport.signalProcess('NOPE' as 'TERM');
    }).to.throw(RangeError, /NOPE/);
  });

  it('processEnded waits for a pipe a grandchild still holds, after processExited', async () => {
    const proto = new RecordingProcessProtocol();
    // The shell exits at once; the background sleep keeps stdout open briefly.
    reactor.spawnProcess(proto, 'sh', ['-c', '(sleep 0.3; echo late) & exit 0']);
    await proto.exited;
    expect(proto.events).to.not.include('processEnded');
    await proto.ended;
    expect(proto.text()).to.equal('late\n');
    expect(proto.events.indexOf('processExited')).to.be.lessThan(
      proto.events.indexOf('childConnectionLost 1'),
    );
  });

  it('a child that closes its stdout and keeps running: outConnectionLost first, processEnded after the exit', async () => {
    const proto = new RecordingProcessProtocol();
    const closedOut = new Eventual<void>();
    proto.outConnectionLost = () => {
      closedOut.callback();
    };
    reactor.spawnProcess(proto, 'sh', ['-c', 'echo bye; exec 1>&-; sleep 0.3; echo done >&2']);
    await closedOut;
    expect(proto.events).to.not.include('processExited');
    const reason = await proto.ended;
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(proto.text(1)).to.equal('bye\n');
    expect(proto.text(2)).to.equal('done\n');
  });

  it('reads what the child writes to fd 3 and writes what it reads from fd 4', async () => {
    class FD extends RecordingProcessProtocol {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.writeToChild(4, 'to four\n');
        this.transport.closeChildFD(4);
      }
    }
    const proto = new FD();
    reactor.spawnProcess(proto, 'sh', ['-c', 'echo three >&3; cat <&4 >&3'], {
      childFDs: { 0: 'w', 1: 'r', 2: 'r', 3: 'r', 4: 'w' },
    });
    const reason = await proto.ended;
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(proto.text(3)).to.equal('three\nto four\n');
    expect(proto.events).to.include('childConnectionLost 3');
    expect(proto.events).to.include('childConnectionLost 4');
    expect(() => {
      proto.transport.writeToChild(3, 'x');
    }).to.throw(RangeError, /childFD 3/);
  });

  it("closeChildFD() on a write descriptor above 2 ends the child's input at once, long before it exits", async () => {
    class ToFour extends RecordingProcessProtocol {
      atExit = '';
      override connectionMade(): void {
        super.connectionMade();
        this.transport.writeToChild(4, 'to four\n');
        this.transport.closeChildFD(4);
      }
      override processExited(reason: Failure): void {
        this.atExit = this.text(1);
        super.processExited(reason);
      }
    }
    const proto = new ToFour();
    // cat returns at the end of its input; the child then says so and runs on.
    reactor.spawnProcess(proto, 'sh', ['-c', 'cat <&4; echo eof; sleep 0.3'], {
      childFDs: { 0: 'w', 1: 'r', 2: 'r', 4: 'w' },
    });
    const reason = await proto.ended;
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
    expect(proto.atExit).to.equal('to four\neof\n');
    expect(proto.events.indexOf('childConnectionLost 4')).to.be.lessThan(
      proto.events.indexOf('processExited'),
    );
  });

  it('a missing executable: no exception, processEnded with ProcessSpawnError (ENOENT) on a later turn', async () => {
    const proto = new RecordingProcessProtocol();
    const transport = reactor.spawnProcess(proto, join(dir, 'no-such-program'));
    expect(transport.pid).to.equal(null);
    expect(proto.events).to.deep.equal(['connectionMade']);
    transport.write('dropped');
    const reason = await proto.ended;
    const err = errorOf(reason, ProcessSpawnError);
    expect(reason.check(ProcessSpawnError)).to.equal(ProcessSpawnError);
    expect(err.systemCode).to.equal('ENOENT');
    expect(err.executable).to.contain('no-such-program');
    expect(proto.events).to.deep.equal(['connectionMade', 'processExited', 'processEnded']);
    expect(() => {
      transport.signalProcess('TERM');
    }).to.throw(ProcessExitedAlready);
  });

  it('a file that is not executable: ProcessSpawnError with EACCES', async () => {
    const path = join(dir, 'not-executable');
    writeFileSync(path, '#!/bin/sh\necho hi\n');
    chmodSync(path, 0o644);
    const proto = new RecordingProcessProtocol();
    reactor.spawnProcess(proto, path);
    const reason = await proto.ended;
    expect(errorOf(reason, ProcessSpawnError).systemCode).to.equal('EACCES');
  });

  it('a working directory that does not exist: ProcessSpawnError', async () => {
    const proto = new RecordingProcessProtocol();
    reactor.spawnProcess(proto, 'true', [], { path: join(dir, 'missing') });
    const reason = await proto.ended;
    expect(reason.check(ProcessSpawnError)).to.equal(ProcessSpawnError);
  });

  it("inherits the parent's environment by default; 'empty' and an object replace it", async () => {
    process.env.TORSION_PROCESS_TEST = 'inherited';
    try {
      const inherit = new RecordingProcessProtocol();
      reactor.spawnProcess(inherit, 'sh', ['-c', 'echo "$TORSION_PROCESS_TEST"']);
      const empty = new RecordingProcessProtocol();
      reactor.spawnProcess(empty, '/usr/bin/env', [], { env: 'empty' });
      const given = new RecordingProcessProtocol();
      reactor.spawnProcess(given, '/usr/bin/env', [], { env: { ONLY: 'this' } });
      await Promise.all([inherit.ended, empty.ended, given.ended]);
      // Node itself copies NODE_V8_COVERAGE into every child's environment while coverage
      // is collected (the test run under c8), whatever env was given.
      const own = (text: string): string => text.replace(/^NODE_V8_COVERAGE=.*\n/m, '');
      expect(inherit.text()).to.equal('inherited\n');
      expect(own(empty.text())).to.equal('');
      expect(own(given.text())).to.equal('ONLY=this\n');
    } finally {
      delete process.env.TORSION_PROCESS_TEST;
    }
  });

  it('runs the child as options.uid and options.gid (when this process may)', async function () {
    if (process.getuid?.() !== 0) {
      this.skip(); // changing user needs root
    }
    const proto = new RecordingProcessProtocol();
    reactor.spawnProcess(proto, 'sh', ['-c', 'id -u; id -g'], { uid: 65534, gid: 65534 });
    await proto.ended;
    expect(proto.text()).to.equal('65534\n65534\n');
  });

  it('runs in options.path and passes argv0', async () => {
    const proto = new RecordingProcessProtocol();
    reactor.spawnProcess(proto, 'sh', ['-c', 'pwd; echo "$0"'], { path: dir, argv0: 'named' });
    await proto.ended;
    expect(proto.text()).to.equal(`${dir}\nnamed\n`);
  });

  it('an exception in outReceived is logged with its stack and costs the process (killed, processEnded still comes)', async () => {
    const capture = LogCapture.start();
    try {
      class Throws extends RecordingProcessProtocol {
        override outReceived(): void {
          throw new Error('boom in outReceived');
        }
      }
      const proto = new Throws();
      reactor.spawnProcess(proto, 'sh', ['-c', 'echo x; sleep 30']);
      const reason = await proto.ended;
      expect(errorOf(reason, ProcessTerminated).signal).to.equal('SIGKILL');
      const logged = capture.events.find((e) => e.message.includes('childDataReceived'));
      expect(logged?.message).to.contain('killing the process');
      expect(capture.failures()[0]?.getErrorMessage()).to.equal('boom in outReceived');
    } finally {
      capture.stop();
    }
  });

  it('pauseProducing() stops reading the output; resumeProducing() delivers it', async () => {
    const proto = new RecordingProcessProtocol();
    const transport = reactor.spawnProcess(proto, 'sh', ['-c', 'echo one; exit 0']);
    transport.pauseProducing();
    await proto.exited;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(proto.text()).to.equal('');
    expect(proto.events).to.not.include('processEnded');
    transport.resumeProducing();
    await proto.ended;
    expect(proto.text()).to.equal('one\n');
  });

  it('closeStdout() stops reading: a child that keeps writing fails (SIGPIPE, or EPIPE and a non-zero exit)', async () => {
    const proto = new RecordingProcessProtocol();
    const transport = reactor.spawnProcess(proto, 'yes');
    transport.closeStdout();
    const reason = await proto.ended;
    const err = errorOf(reason, ProcessTerminated);
    expect(err.signal === 'SIGPIPE' || (err.exitCode ?? 0) > 0).to.equal(true);
    expect(proto.events).to.include('childConnectionLost 1');
  });

  it('loseConnection() closes every pipe: cat sees EOF and exits 0', async () => {
    const proto = new RecordingProcessProtocol();
    const transport = reactor.spawnProcess(proto, 'cat', [], { childFDs: { 0: 'w', 1: 1, 2: 2 } });
    transport.loseConnection();
    expect(transport.disconnecting).to.equal(true);
    const reason = await proto.ended;
    expect(reason.check(ProcessDone)).to.equal(ProcessDone);
  });

  it('1,000 spawns in a row leave no descriptors open and no zombies', async function () {
    this.timeout(60_000);
    const before = fdCount();
    for (let i = 0; i < 1000; i++) {
      const proto = new RecordingProcessProtocol();
      reactor.spawnProcess(proto, 'true');
      await proto.ended;
    }
    // Closed handles are released on the next turns.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fdCount()).to.be.at.most(before + 2);
    expect(zombieChildren()).to.equal(0);
  });

  it('bad arguments throw naming the field', () => {
    const proto = new RecordingProcessProtocol();
    expect(() => reactor.spawnProcess(proto, '')).to.throw(RangeError, /executable/);
    expect(() => reactor.spawnProcess(proto, 'cat', ['a', 1 as unknown as string])).to.throw(
      TypeError,
      /args\[1\]/,
    );
    expect(() => reactor.spawnProcess(proto, 'cat', [], { childFDs: { 0: 'x' as 'r' } })).to.throw(
      TypeError,
      /childFDs\[0\]/,
    );
    expect(() => reactor.spawnProcess({} as unknown as IProcessProtocol, 'cat')).to.throw(
      TypeError,
      /processProtocol/,
    );
  });
});
