/**
 * The servers the TLS benchmarks compare. The first entry, a plain
 * `node:tls` echo, is the baseline every ratio is taken against. Unlike the
 * TCP servers (servers/control.ts) these speak no stdio protocol: each takes
 * `PORT KEY_FILE CERT_FILE`, listens on 127.0.0.1 until killed, and is
 * measured from outside (connections by the C client, memory from /proc), so
 * Twisted and the `torsion` command line join exactly as an operator runs them.
 * A server that cannot run here (no Bun reactor TLS yet, no python3-twisted)
 * exits at once; the runner prints what it said on stderr and skips it.
 *
 * Tests: none (benchmark harness; bench/run.ts exercises it on every run).
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The certificate files every TLS server is started with. */
export interface TLSServerFiles {
  readonly keyFile: string;
  readonly certFile: string;
}

/** One TLS server under test. */
export interface TLSServerSpec {
  /** Column name in the report. */
  readonly name: string;
  /** What it is, one line, for the report header. */
  readonly description: string;
  /** The command that starts it on `port` (without CPU pinning, which the runner adds). */
  readonly argv: (port: number, files: TLSServerFiles) => string[];
  /** Why it cannot run here, or null when it might (it can still exit at once with a reason). */
  readonly unavailable: () => string | null;
}

function compiled(file: string): string {
  // bench/dist/lib/tls-servers.js -> bench/dist/servers/<file>
  return fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
}

function needsFile(path: string, hint: string): () => string | null {
  return () => (existsSync(path) ? null : `${path} is missing (${hint})`);
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tlsEcho = compiled('tls-echo.js');
const torsionTLSEcho = compiled('torsion-tls-echo.js');
const bunReactorTLSEcho = compiled('bun-reactor-tls-echo.js');
const torsionCli = `${root}packages/runner/dist/bin/torsion.js`;
// Not compiled: Python, run from the source tree.
const twistedTLSEcho = `${root}bench/servers/twisted-tls-echo.py`;
// Bun is a root devDependency: the npm package's binary, not a system install.
const bun = `${root}node_modules/.bin/bun`;
// The system Python, where apt installs python3-twisted and python3-openssl.
const python = '/usr/bin/python3';

const args = (port: number, files: TLSServerFiles): string[] => [
  String(port),
  files.keyFile,
  files.certFile,
];

/** Every known TLS server, baseline first. */
export const TLS_SERVERS: readonly TLSServerSpec[] = [
  {
    name: 'tls',
    description: 'node:tls createServer, data listener writes back',
    argv: (port, files) => [process.execPath, tlsEcho, ...args(port, files)],
    unavailable: needsFile(tlsEcho, 'build with npm run bench'),
  },
  {
    name: 'torsion',
    description: 'Torsion NodeReactor.listenSSL + Echo protocol',
    argv: (port, files) => [process.execPath, torsionTLSEcho, ...args(port, files)],
    unavailable: needsFile(torsionTLSEcho, 'build with npm run bench'),
  },
  {
    name: 'torsion-cli',
    description: '`torsion echo --listen ssl:…` (the runner, @torsion/echo on NodeReactor)',
    argv: (port, files) => [
      process.execPath,
      torsionCli,
      'echo',
      '--listen',
      `ssl:${String(port)}:privateKey=${files.keyFile}:certKey=${files.certFile}` +
        ':interface=127.0.0.1:backlog=511',
    ],
    unavailable: needsFile(torsionCli, 'npm run build'),
  },
  {
    name: 'torsion-bun',
    description: 'Torsion BunReactor.listenSSL + Echo protocol, on Bun',
    argv: (port, files) => [bun, bunReactorTLSEcho, ...args(port, files)],
    unavailable: () =>
      existsSync(bun)
        ? needsFile(bunReactorTLSEcho, 'build with npm run bench')()
        : `${bun} is missing (npm ci installs it)`,
  },
  {
    name: 'twisted',
    description: "Twisted's Echo on reactor.listenSSL (CertificateOptions), /usr/bin/python3",
    argv: (port, files) => [python, twistedTLSEcho, ...args(port, files)],
    unavailable: () => (existsSync(python) ? null : `${python} is missing`),
  },
];

/**
 * The TLS servers named in `names` (all of them when empty), baseline first.
 * @throws Error for an unknown name or when the baseline is left out.
 */
export function selectTLSServers(names: readonly string[]): TLSServerSpec[] {
  if (names.length === 0) return [...TLS_SERVERS];
  const known = TLS_SERVERS.map((s) => s.name);
  for (const name of names) {
    if (!known.includes(name)) {
      throw new Error(`unknown TLS server ${name}; known: ${known.join(', ')}`);
    }
  }
  const baseline = TLS_SERVERS[0];
  if (baseline === undefined || !names.includes(baseline.name)) {
    throw new Error(`--tls-servers must include the baseline (${baseline?.name ?? 'none'})`);
  }
  return TLS_SERVERS.filter((s) => names.includes(s.name));
}
