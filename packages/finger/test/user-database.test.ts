// MemoryUserDatabase and isUserDatabase.
import { expect } from 'chai';
import { MemoryUserDatabase, isUserDatabase } from '../src/user-database.js';

describe('MemoryUserDatabase', () => {
  it('answers known users, null for others, case-sensitively', async () => {
    const users = new MemoryUserDatabase({ alice: 'hi' });
    expect(await users.getUser('alice')).to.equal('hi');
    expect(await users.getUser('Alice')).to.equal(null);
    expect(await users.getUser('__proto__')).to.equal(null);
  });

  it('lists users in insertion order and follows set and delete', async () => {
    const users = new MemoryUserDatabase(new Map([['b', '1']]));
    users.set('a', '2');
    expect(await users.listUsers()).to.deep.equal(['b', 'a']);
    expect(users.delete('b')).to.equal(true);
    expect(await users.listUsers()).to.deep.equal(['a']);
  });

  it('isUserDatabase tells a database from a plain users object', () => {
    expect(isUserDatabase(new MemoryUserDatabase())).to.equal(true);
    expect(isUserDatabase({ getUser: 'x' })).to.equal(false);
    expect(isUserDatabase(null)).to.equal(false);
  });
});
