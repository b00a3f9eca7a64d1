// Type-level tests for src/finger-server.ts, src/finger-client.ts,
// src/user-database.ts, src/json-file-user-database.ts and src/plugin.ts: the
// finger protocols, factory, databases and plugin fit the interfaces they claim.
// Checked by `tsc -b` through tsconfig.test.json; never run by mocha.
import type {
  IHalfCloseableProtocol,
  IProtocol,
  IProtocolFactory,
  IServiceMaker,
} from '@torsion/core';
import { expectTypeOf } from 'expect-type';

import type { FingerClient } from '../../src/finger-client.js';
import type { FingerFactory, FingerServer } from '../../src/finger-server.js';
import type { JsonFileUserDatabase } from '../../src/json-file-user-database.js';
import type plugin from '../../src/plugin.js';
import type { MemoryUserDatabase, UserDatabase } from '../../src/user-database.js';

expectTypeOf<FingerServer>().toExtend<IProtocol & IHalfCloseableProtocol>();
expectTypeOf<FingerServer['factory']>().toEqualTypeOf<FingerFactory | null>();
expectTypeOf<FingerClient>().toExtend<IProtocol>();
expectTypeOf<FingerFactory>().toExtend<IProtocolFactory>();
expectTypeOf<MemoryUserDatabase>().toExtend<UserDatabase>();
expectTypeOf<JsonFileUserDatabase>().toExtend<UserDatabase>();
expectTypeOf<typeof plugin>().toExtend<IServiceMaker>();
