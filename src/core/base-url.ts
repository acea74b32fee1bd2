/**
 * Why `url` cannot be an API base URL, or undefined when it can: it must parse (a port up to
 * 65535, a host), be http(s), and carry no user name, password, query or fragment. The value
 * is quoted with any user name and password masked.
 * @example baseUrlProblem('ftp://x') // '"ftp://x" is not an http(s) URL'
 */
export function baseUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${maskUserinfo(url)}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${maskUserinfo(url)}" is not an http(s) URL`;
  if (u.username || u.password) return 'the URL must not carry a user name or password';
  if (u.search || u.hash) return 'the base URL must not have a query or fragment';
  return undefined;
}

/**
 * `url` with whatever stands between `//` and `@` replaced by `***`, for printing.
 * @example maskUserinfo('http://ann:pa55@h/') // 'http://***@h/'
 */
export function maskUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}
