// The worker options: --workers N|auto and the restart limits are read and
// checked, naming the option; a worker's command line is the primary's
// without them; endpoints the workers cannot share are refused with a reason.
import { parseServerDescription } from '@torsion/core';
import { expect } from 'chai';
import { availableParallelism } from 'node:os';
import { workersRefusal } from '../src/workers/primary.js';
import {
  applyWorkerOptions,
  defaultWorkerSettings,
  unshareableReason,
  workerArgv,
  WorkerOptionError,
} from '../src/workers/worker-options.js';

describe('worker options', () => {
  describe('applyWorkerOptions', () => {
    it('reads a count, auto (the cores available) and the restart limits', () => {
      const settings = defaultWorkerSettings();
      applyWorkerOptions({ workers: '3', 'restart-limit': '7', 'restart-window': '30' }, settings);
      expect(settings).to.deep.equal({ count: 3, restart: { limit: 7, windowSeconds: 30 } });
      applyWorkerOptions({ workers: 'auto' }, settings);
      expect(settings.count).to.equal(availableParallelism());
    });

    it('leaves the count unset without --workers, with the default limits', () => {
      const settings = defaultWorkerSettings();
      applyWorkerOptions({ reactor: 'node' }, settings);
      expect(settings).to.deep.equal({ restart: { limit: 5, windowSeconds: 60 } });
    });

    for (const [values, message] of [
      [{ workers: '0' }, "--workers must be a whole number of at least 1, got '0'"],
      [{ workers: 'many' }, "--workers must be a number or 'auto', got 'many'"],
      [{ workers: '-2' }, "--workers must be a number or 'auto', got '-2'"],
      [
        { 'restart-limit': '1.5' },
        "--restart-limit must be a whole number of at least 1, got '1.5'",
      ],
      [{ 'restart-window': '' }, "--restart-window must be a whole number of at least 1, got ''"],
    ] as const) {
      it(`refuses ${JSON.stringify(values)} naming the option`, () => {
        expect(() => {
          applyWorkerOptions(values, defaultWorkerSettings());
        }).to.throw(WorkerOptionError, message);
      });
    }
  });

  describe('workerArgv', () => {
    it('drops the worker options in both forms and in any group, keeping the rest', () => {
      expect(
        workerArgv([
          '--workers',
          '2',
          '--log-format',
          'json',
          'echo',
          '--listen',
          'tcp:8007',
          '--restart-limit=3',
          '+',
          'finger',
          '--restart-window',
          '10',
          '--greeting=--workers',
        ]),
      ).to.deep.equal([
        '--log-format',
        'json',
        'echo',
        '--listen',
        'tcp:8007',
        '+',
        'finger',
        '--greeting=--workers',
      ]);
    });
  });

  describe('the endpoints workers can share', () => {
    it('shares tcp, tcp6, ssl and udp endpoints with a port number', () => {
      for (const text of [
        'tcp:8007',
        'tcp6:8007:interface=\\:\\:1',
        'udp:8007',
        'ssl:8443:privateKey=key.pem',
      ]) {
        expect(unshareableReason(parseServerDescription(text)), text).to.equal(undefined);
      }
    });

    it('refuses port 0, systemd: and unix:, saying why and what to do', () => {
      expect(unshareableReason(parseServerDescription('tcp:0:interface=127.0.0.1'))).to.equal(
        '--workers cannot serve tcp:0:interface=127.0.0.1: port 0 would differ between workers and restarts; give a port number',
      );
      expect(unshareableReason(parseServerDescription('systemd:domain=INET:index=0'))).to.match(
        /^--workers cannot serve systemd:domain=INET:index=0: the sockets systemd passes belong to one process/,
      );
      expect(unshareableReason(parseServerDescription('unix:/run/echo.sock'))).to.match(
        /^--workers cannot serve unix:\/run\/echo\.sock: a UNIX socket is bound by one worker/,
      );
    });

    it('workersRefusal gives the first endpoint refused', () => {
      expect(
        workersRefusal(
          ['tcp:8007', 'udp:0', 'unix:/x'].map((text) => parseServerDescription(text)),
          'node',
        ),
      ).to.match(/^--workers cannot serve udp:0/);
      expect(workersRefusal([parseServerDescription('tcp:8007')], 'node')).to.equal(undefined);
    });
  });
});
