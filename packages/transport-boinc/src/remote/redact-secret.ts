const placeholder = '[authenticator]';

/**
 * A function that replaces every form of `secret` a server could echo back (as given,
 * URL-encoded, form-encoded, XML-escaped, XML-escaped twice) with `[authenticator]`.
 */
export function createRedactor(secret: string): (text: string) => string {
  const xmlEscaped = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ value: secret }).toString().slice('value='.length),
    xmlEscaped,
    xmlEscaped.replace(/&/g, '&amp;'),
  ];
  // Longest first, so that a form containing another is replaced whole.
  const unique = [...new Set(forms)].filter((form) => form.length > 0).sort((a, b) => b.length - a.length);
  return (text: string) => {
    let result = text;
    for (const form of unique) if (result.includes(form)) result = result.split(form).join(placeholder);
    return result;
  };
}
