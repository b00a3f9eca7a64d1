// The module-path rule: absolute paths and file: URLs only, with errors that
// say what to write instead.
import { expect } from 'chai';
import { pathToFileURL } from 'node:url';
import { checkExportName, toModuleURL } from '../src/module-path.js';

describe('toModuleURL', () => {
  it('takes a file: URL (URL or string) and an absolute path', () => {
    const url = new URL('file:///srv/app/work.js');
    expect(toModuleURL(url, 'f')).to.equal('file:///srv/app/work.js');
    expect(toModuleURL('file:///srv/app/work.js', 'f')).to.equal('file:///srv/app/work.js');
    expect(toModuleURL('/srv/app/a b.js', 'f')).to.equal(pathToFileURL('/srv/app/a b.js').href);
  });

  it('refuses a relative path, suggesting new URL(..., import.meta.url)', () => {
    expect(() => toModuleURL('./work.js', 'deferToThread')).to.throw(
      TypeError,
      'deferToThread() needs an absolute path or a file: URL, not "./work.js"',
    );
    expect(() => toModuleURL('../work.js', 'f')).to.throw(
      TypeError,
      /new URL\("\.\.\/work\.js", import\.meta\.url\)/,
    );
  });

  it('refuses a bare package name, suggesting import.meta.resolve', () => {
    expect(() => toModuleURL('my-package/work', 'f')).to.throw(
      TypeError,
      /import\.meta\.resolve\("my-package\/work"\)/,
    );
  });

  it('refuses other URL schemes, functions and non-strings', () => {
    expect(() => toModuleURL(new URL('data:text/javascript,1'), 'f')).to.throw(
      TypeError,
      /data: URL/,
    );
    expect(() => toModuleURL(() => 1, 'f')).to.throw(TypeError, /cannot send a function/);
    expect(() => toModuleURL(42, 'f')).to.throw(TypeError, /not number/);
    expect(() => toModuleURL(null, 'f')).to.throw(TypeError, /not null/);
  });
});

describe('checkExportName', () => {
  it('takes a non-empty string only', () => {
    expect(() => checkExportName('default', 'f')).to.not.throw();
    expect(() => checkExportName('', 'f')).to.throw(TypeError, /non-empty string/);
    expect(() => checkExportName(undefined, 'f')).to.throw(TypeError, /not undefined/);
  });
});
