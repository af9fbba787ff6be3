/**
 * The directory name the BOINC client gives a project (`escape_project_url` in the client):
 * the URL without its scheme, every character outside `[A-Za-z0-9._-]` turned into `_`, and
 * one trailing `_` dropped. `http://127.0.0.1:41407/proj/` becomes `127.0.0.1_41407_proj`.
 */
export function escapeProjectUrl(url: string): string {
  const withoutScheme = url.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
  const escaped = withoutScheme.replace(/[^A-Za-z0-9._-]/g, '_');
  return escaped.endsWith('_') ? escaped.slice(0, -1) : escaped;
}
