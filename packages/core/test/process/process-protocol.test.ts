import { expect } from 'chai';
import { Failure } from '../../src/failure.js';
import type { IProcessTransport } from '../../src/interfaces.js';
import { ProcessAddress } from '../../src/process/process-address.js';
import { ProcessDone } from '../../src/process/process-errors.js';
import { ProcessProtocol } from '../../src/process/process-protocol.js';

class Recording extends ProcessProtocol {
  events: string[] = [];
  override connectionMade(): void {
    this.events.push(`made ${String(this.connected)}`);
  }
  override outReceived(data: Buffer): void {
    this.events.push(`out ${data.toString()}`);
  }
  override errReceived(data: Buffer): void {
    this.events.push(`err ${data.toString()}`);
  }
  override inConnectionLost(): void {
    this.events.push('in lost');
  }
  override outConnectionLost(): void {
    this.events.push('out lost');
  }
  override errConnectionLost(): void {
    this.events.push('err lost');
  }
}

describe('ProcessProtocol', () => {
  it('makeConnection() attaches the transport and calls connectionMade()', () => {
    const proto = new Recording();
    expect(proto.hasTransport).to.equal(false);
    expect(() => proto.transport).to.throw(/no transport yet/);
    const transport = { pid: 7 } as unknown as IProcessTransport;
    proto.makeConnection(transport);
    expect(proto.transport).to.equal(transport);
    expect(proto.events).to.deep.equal(['made true']);
  });

  it('childDataReceived dispatches fd 1 to outReceived and fd 2 to errReceived, and ignores others', () => {
    const proto = new Recording();
    proto.childDataReceived(1, Buffer.from('a'));
    proto.childDataReceived(2, Buffer.from('b'));
    proto.childDataReceived(3, Buffer.from('c'));
    expect(proto.events).to.deep.equal(['out a', 'err b']);
  });

  it('childConnectionLost dispatches 0, 1 and 2 to the per-stream callbacks', () => {
    const proto = new Recording();
    for (const fd of [0, 1, 2, 3]) proto.childConnectionLost(fd);
    expect(proto.events).to.deep.equal(['in lost', 'out lost', 'err lost']);
  });

  it('the defaults do nothing', () => {
    const proto = new ProcessProtocol();
    proto.childDataReceived(1, Buffer.from('x'));
    proto.childDataReceived(2, Buffer.from('x'));
    proto.childConnectionLost(0);
    proto.childConnectionLost(1);
    proto.childConnectionLost(2);
    proto.connectionMade();
    proto.processExited(new Failure(new ProcessDone()));
    proto.processEnded(new Failure(new ProcessDone()));
  });

  it('ProcessAddress names the child by pid', () => {
    expect(String(new ProcessAddress(12))).to.equal('process(12)');
    expect(String(new ProcessAddress(null))).to.equal('process(not started)');
    expect(new ProcessAddress(1).type).to.equal('PROCESS');
  });
});
