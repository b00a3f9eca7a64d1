/**
 * `@torsion/finger/plugin`: the `finger` service for the `torsion` runner
 * (`torsion finger --users users.json`).
 *
 * Tests: test/plugin.test.ts
 * @module
 */
import type { IServiceMaker, PluginOptionValues } from '@torsion/core';
import { DEFAULT_IDLE_TIMEOUT, FingerFactory } from './finger-server.js';
import { JsonFileUserDatabase } from './json-file-user-database.js';
import type { UserDatabase } from './user-database.js';

function stringOption(options: PluginOptionValues, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`--${name} takes one value`);
  return value;
}

/** The `finger` service: a {@link FingerFactory} configured from the command line. */
const fingerService: IServiceMaker = {
  name: 'finger',
  description: 'Finger server (RFC 1288) answering from a JSON users file',
  defaultListen: ['tcp:7979'],
  options: {
    users: {
      type: 'string',
      valueName: 'FILE',
      description:
        'JSON users file { "user": "info" }, re-read when it changes (default: no users)',
    },
    'allow-list': {
      type: 'boolean',
      description: 'answer the empty query with the list of users (default: refuse)',
      default: false,
    },
    forwarding: {
      type: 'boolean',
      description: 'forward user@host queries to host (default: refuse, never connect out)',
      default: false,
    },
    'idle-timeout': {
      type: 'string',
      valueName: 'SECONDS',
      description: `close connections that send no query within SECONDS (default ${DEFAULT_IDLE_TIMEOUT})`,
      default: String(DEFAULT_IDLE_TIMEOUT),
    },
  },
  makeFactory(options, context) {
    const usersFile = stringOption(options, 'users');
    const idleText = stringOption(options, 'idle-timeout') ?? String(DEFAULT_IDLE_TIMEOUT);
    const idleTimeout = Number(idleText);
    if (idleText.trim() === '' || !(idleTimeout > 0) || !Number.isFinite(idleTimeout)) {
      throw new Error(`--idle-timeout must be a number of seconds > 0, got "${idleText}"`);
    }
    const users: UserDatabase | Record<string, string> =
      usersFile === undefined ? {} : new JsonFileUserDatabase(usersFile);
    const allowList = options['allow-list'] === true;
    const forwarding = options.forwarding === true;
    context.log.info('Finger service configured', {
      users: usersFile ?? '(none)',
      allowList,
      forwarding,
      idleTimeout,
    });
    return new FingerFactory({
      users,
      allowList,
      forwarding,
      idleTimeout,
      reactor: context.reactor,
    });
  },
};

export default fingerService;
