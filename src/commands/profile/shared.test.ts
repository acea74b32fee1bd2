import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.js';
import { baseUrlProblem, maskUserinfo } from '../../core/base-url.js';
import { agentIdProblem } from '../../core/providers.js';
import { checkProfileName, secretProblem } from './shared.js';

describe('profile validation', () => {
  it('accepts sensible profile names and refuses the rest', () => {
    for (const ok of ['prod', 'chatbase-dev', 'a.b_c', '9', 'x'.repeat(64)]) expect(checkProfileName(ok)).toBe(ok);
    for (const bad of ['', '-x', '.hidden', 'a b', 'a/b', 'x'.repeat(65), 'constructor', 'toString', '__proto__', 'é']) {
      expect(() => checkProfileName(bad)).toThrow(UsageError);
    }
    // A reserved word fits the pattern the hint gives, so it gets its own message.
    expect(() => checkProfileName('toString')).toThrow('"toString" is reserved: it is the name of a built-in property of JavaScript objects.');
    expect(() => checkProfileName('a b')).toThrow('"a b" is not a valid profile name.');
  });

  it('accepts http(s) base URLs only', () => {
    expect(baseUrlProblem('https://www.chatbase.co')).toBeUndefined();
    expect(baseUrlProblem('http://127.0.0.1:4010/api')).toBeUndefined();
    // The API version is chatid's to add: vendors.md's "https://www.chatbase.co/api/v1" pasted as is doubled it.
    expect(baseUrlProblem('https://www.chatbase.co/api/v1/')).toBe('the base URL ends in /api/v1, but chatid adds the API path (/api/v1/…, /api/v2/…, /v1/…) to each request itself; drop it: "https://www.chatbase.co"');
    expect(baseUrlProblem('https://api.replyful.com/v1')).toMatch(/ends in \/v1, .*drop it: "https:\/\/api\.replyful\.com"$/);
    expect(baseUrlProblem('http://proxy.example/chatbase/api/v2')).toMatch(/drop it: "http:\/\/proxy\.example\/chatbase"$/);
    expect(baseUrlProblem('http://proxy.example/v1x')).toBeUndefined();
    expect(baseUrlProblem('www.chatbase.co')).toMatch(/not a URL/);
    expect(baseUrlProblem('ftp://x')).toMatch(/not an http\(s\) URL/);
    expect(baseUrlProblem('https://user:pw@x.example')).toMatch(/user name or password/);
    expect(baseUrlProblem('https://x.example/?a=1')).toMatch(/query or fragment/);
    expect(baseUrlProblem('http://host:99999')).toBe('"http://host:99999" is not a URL');
    expect(baseUrlProblem('https://')).toBe('"https://" is not a URL');
    expect(baseUrlProblem('http://ann:pa55@host:99999')).toBe('"http://***@host:99999" is not a URL');
    expect(maskUserinfo('http://ann:pa55@h/x')).toBe('http://***@h/x');
    expect(maskUserinfo('http://ann:p/ss@h:99999')).toBe('http://***@h:99999');
    expect(maskUserinfo('ann:pa55@host')).toBe('***@host');
    expect(maskUserinfo('http://h.example/api')).toBe('http://h.example/api');
    for (const bad of ['http://h.example/?', 'http://h.example/#', 'http://h.example/ ', ' http://h.example']) expect(baseUrlProblem(bad), bad).toBeDefined();
    expect(agentIdProblem('chatbase', '..')).toMatch(/cannot name an agent in a URL path/);
  });

  it('wants numeric Bookbag agent ids, anything trimmed elsewhere', () => {
    expect(agentIdProblem('bookbag', '42')).toBeUndefined();
    expect(agentIdProblem('bookbag', '4a')).toMatch(/numeric/);
    expect(agentIdProblem('chatbase', 'abc-DEF_1')).toBeUndefined();
    expect(agentIdProblem('chatbase', ' abc')).toMatch(/spaces/);
  });

  it('refuses whitespace, control and zero-width characters inside an agent id, and shows them escaped', () => {
    expect(agentIdProblem('chatbase', 'abc def')).toBe('the agent id "abc def" has a space inside, which no agent id has');
    expect(agentIdProblem('chatbase', 'abc\tdef')).toBe('the agent id "abc\\tdef" has a tab inside, which no agent id has');
    expect(agentIdProblem('chatbase', 'a\u001b[2Jb')).toBe('the agent id "a\\u001b[2Jb" has an escape character inside, which no agent id has');
    expect(agentIdProblem('chatbase', 'a\u00a0b')).toBe('the agent id "a\\u00a0b" has a no-break space inside, which no agent id has');
    expect(agentIdProblem('chatbase', 'a\u2003b')).toBe('the agent id "a\\u2003b" has a whitespace character (U+2003) inside, which no agent id has');
    expect(agentIdProblem('chatbase', 'a\u009bb')).toBe('the agent id "a\\u009bb" has a control character (U+009B) inside, which no agent id has');
    expect(agentIdProblem('chatbase', 'a\u007fb')).toMatch(/a control character \(U\+007F\)/);
    expect(agentIdProblem('chatbase', 'a\u200bb')).toMatch(/an invisible character \(U\+200B\)/);
    // Every format character: zero-width joiners, the soft hyphen, direction marks and isolates
    // (what a copy from a web page brings along), the word joiner, a tag character.
    for (const c of ['\u200c', '\u200d', '\u00ad', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\u061c', '\u2060', '\u{e0001}']) {
      const unit = (u: string) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`;
      expect(agentIdProblem('chatbase', `ab${c}cd`), c).toBe(`the agent id "ab${c.split('').map(unit).join('')}cd" has an invisible character (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) inside, which no agent id has`);
    }
    // Before the numeric rule, which would print the id as it is.
    expect(agentIdProblem('bookbag', '4 2')).toMatch(/has a space inside/);
    for (const ok of ['abc', 'a.b-c_D9', 'ägent', '42']) expect(agentIdProblem('chatbase', ok)).toBeUndefined();
  });

  it('wants a TeamWeb secret to be canonical base64 of exactly 32 bytes', () => {
    const key = Buffer.alloc(32, 0xab).toString('base64');
    expect(secretProblem('teamweb', key)).toBeUndefined();
    expect(secretProblem('teamweb', Buffer.alloc(31).toString('base64'))).toMatch(/decodes to 32 bytes, this one to 31/);
    expect(secretProblem('teamweb', Buffer.alloc(33).toString('base64'))).toMatch(/this one to 33/);
    expect(secretProblem('teamweb', key.replace(/=$/, ''))).toMatch(/standard base64/);
    expect(secretProblem('teamweb', ` ${key}`)).toBe("it has a leading space, which no vendor's secret has; paste it without");
    expect(secretProblem('teamweb', Buffer.alloc(32, 0xab).toString('base64url'))).toMatch(/standard base64/);
    // Non-zero unused bits decode to the same bytes with Node's lenient decoder: not canonical.
    expect(secretProblem('teamweb', `${key.slice(0, 42)}v=`)).toMatch(/standard base64/);
  });

  it('refuses to store whitespace around a secret, a line break in it, or whitespace alone', () => {
    expect(secretProblem('chatbase', '   ')).toBe('it is only whitespace');
    expect(secretProblem('chatbase', ' padded-secret-0123456789abcdef \n')).toBe("it has a leading space, a trailing space and newline, which no vendor's secret has; paste it without");
    expect(secretProblem('chatbase', 'two\nlines')).toMatch(/^it has a line break inside/);
    expect(secretProblem('chatbase', '\u00a0abc\t')).toMatch(/^it has a leading no-break space, a trailing tab,/);
    expect(secretProblem('chatbase', 'inner spaces are fine')).toBeUndefined();
    expect(secretProblem('chatbase', 'sk_live_…')).toMatch(/placeholder/);
  });

  it('takes any text secret for the other providers, but checks hex:/base64: prefixes', () => {
    expect(secretProblem('chatbase', 'anything at all')).toBeUndefined();
    expect(secretProblem('generic', 'hex:00ff')).toBeUndefined();
    expect(secretProblem('generic', 'hex:0g')).toMatch(/hex/);
    expect(secretProblem('replyful', 'base64:!!')).toMatch(/base64/);
  });

  it('refuses to store a secret whose hex:/base64: prefix is not lowercase: it would be used as text', () => {
    expect(secretProblem('generic', 'HEX:00ff')).toBe('it starts with "HEX:", which chatid would use as text: the binary-key prefixes are lowercase (hex:)');
    expect(secretProblem('chatbase', 'Base64:AP8=')).toMatch(/^it starts with "Base64:".*\(base64:\)$/);
    expect(secretProblem('chatbase', 'hexagon:1')).toBeUndefined();
    expect(secretProblem('chatbase', 'base64:AP8=')).toBeUndefined();
  });
});
