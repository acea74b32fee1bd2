/**
 * Why `url` cannot be an API base URL, or undefined when it can: it must parse (a port up to
 * 65535, a host), be http(s), and carry no user name, password, query or fragment. The value
 * is quoted with any user name and password masked.
 * @example baseUrlProblem('ftp://x') // '"ftp://x" is not an http(s) URL'
 */
export function baseUrlProblem(url: string): string | undefined {
  // The raw string is what requests are built on: URL() would forgive what they do not.
  if (url !== url.trim()) return 'the base URL has spaces or line breaks around it';
  if (/[?#]/.test(url)) return 'the base URL must not have a query or fragment';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${maskUserinfo(url)}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${maskUserinfo(url)}" is not an http(s) URL`;
  if (u.username || u.password) return 'the URL must not carry a user name or password';
  // vendors.md gives Chatbase's base as https://www.chatbase.co/api/v1: pasted as is, every
  // request went to /api/v1/api/v1/… and came back a bare 404 "Not found".
  const version = /(\/(?:api\/)?v\d+)\/*$/i.exec(u.pathname);
  if (version) {
    const root = url.slice(0, url.length - (u.pathname.length - u.pathname.lastIndexOf(version[1]!))).replace(/\/+$/, '');
    return `the base URL ends in ${version[1]}, but chatid adds the API path (/api/v1/…, /api/v2/…, /v1/…) to each request itself; drop it: "${maskUserinfo(root)}"`;
  }
  return undefined;
}

/**
 * `url` with whatever stands before its first `@` (after the scheme) replaced by `***`, for printing.
 * @example maskUserinfo('http://ann:pa55@h/') // 'http://***@h/'
 */
export function maskUserinfo(url: string): string {
  // Up to the first @, with or without a scheme: in a malformed value the password may hold
  // a "/"; masking a path that holds an @ too is the safe mistake.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@]*@/i, '$1***@');
}
