// StreamTransport's owned, one-way mode (a child's pipes): what StandardIO's tests do not cover.
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { ConnectionDone, Logger, UNIXAddress } from '@torsion/core';
import { StreamTransport } from '@torsion/core/reactor-kit';
import { HalfCloseRecordingProtocol, RecordingProtocol } from '@torsion/core/testing';

const ADDRESS = new UNIXAddress(null);
const log = new Logger('test.stream-transport');

function make(
  protocol: RecordingProtocol,
  input: PassThrough | null,
  output: PassThrough | null,
): StreamTransport<UNIXAddress> {
  const transport = new StreamTransport(protocol, {
    input,
    output,
    host: ADDRESS,
    peer: ADDRESS,
    log,
    ownsStreams: true,
  });
  transport.start();
  return transport;
}

describe('StreamTransport', () => {
  it('reads a one-way input, and its end is the end of the connection (nothing is left to write)', async () => {
    const input = new PassThrough();
    const protocol = new HalfCloseRecordingProtocol();
    const transport = make(protocol, input, null);
    transport.write('dropped: there is no output');
    input.end('from the child');
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionDone);
    expect(protocol.text()).to.equal('from the child');
    expect(protocol.events).to.deep.equal(['connectionMade', 'connectionLost']);
    expect(input.destroyed).to.equal(true);
  });

  it('writes a one-way output; loseConnection ends it after a flush and is then lost', async () => {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const protocol = new RecordingProtocol();
    const transport = make(protocol, null, output);
    transport.write('to the child');
    transport.loseConnection();
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionDone);
    expect(output.writableEnded).to.equal(true);
    expect(Buffer.concat(chunks).toString()).to.equal('to the child');
  });

  it('destroys both streams it owns on an abort', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const protocol = new RecordingProtocol();
    const transport = make(protocol, input, output);
    transport.abortConnection();
    await protocol.lost;
    expect(input.destroyed).to.equal(true);
    expect(output.destroyed).to.equal(true);
  });

  it('destroys the input it owns once a full close is done', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const protocol = new RecordingProtocol();
    const transport = make(protocol, input, output);
    transport.loseConnection();
    await protocol.lost;
    expect(input.destroyed).to.equal(true);
  });
});
