import { IPv4Address } from '@torsion/core';
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AccessLog, AccessLogError } from '../../src/served/access-log.js';
import type { ConnectionRecord } from '../../src/served/tracking-factory.js';

const RECORD: ConnectionRecord = {
  plugin: 'echo',
  endpoint: 'tcp:8007',
  local: new IPv4Address('TCP', '127.0.0.1', 8007),
  peer: new IPv4Address('TCP', '192.0.2.7', 4000),
  duration: 1.5,
  bytesIn: 10,
  bytesOut: 12,
  ending: 'lost',
  error: 'ECONNRESET',
};

describe('AccessLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'torsion-access-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends one JSON line per record to a file, resolved from the working directory', () => {
    const log = new AccessLog('access.log', 'json', { write: () => true }, dir);
    log.write(RECORD);
    log.write({ ...RECORD, ending: 'clean', error: undefined } as unknown as ConnectionRecord);
    log.close();
    const lines = readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n');
    expect(lines).to.have.length(2);
    const first = JSON.parse(lines[0] ?? '') as { namespace: string; fields: object };
    expect(first.namespace).to.equal('torsion.access');
    expect(first.fields).to.deep.equal({
      plugin: 'echo',
      endpoint: 'tcp:8007',
      local: '127.0.0.1:8007',
      peer: '192.0.2.7:4000',
      duration: 1.5,
      bytesIn: 10,
      bytesOut: 12,
      ending: 'lost',
      error: 'ECONNRESET',
    });
  });

  it('writes a text line to stdout for -', () => {
    let text = '';
    const log = new AccessLog('-', 'text', { write: (t: string) => ((text += t), true) }, dir);
    log.write(RECORD);
    expect(text).to.match(
      /\[torsion\.access\] info: echo 192\.0\.2\.7:4000 lost plugin=echo endpoint=tcp:8007 local=127\.0\.0\.1:8007 peer=192\.0\.2\.7:4000 duration=1\.5 bytesIn=10 bytesOut=12 ending=lost error=ECONNRESET\n$/,
    );
  });

  it('fails with an error naming the option and the file when the file cannot be opened', () => {
    expect(
      () => new AccessLog(join(dir, 'no', 'such', 'dir.log'), 'text', { write: () => true }, dir),
    ).to.throw(AccessLogError, /^--access-log: cannot open .*dir\.log/);
  });
});
