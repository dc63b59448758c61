// What a jupyter-qrt widget module needs of the page it runs in: the Jupyter server's base URL and
// the `_xsrf` cookie a POST to the server must echo. The kernel puts this file before a widget's
// own module (`_esm.compose`), so the widget calls `baseUrl` and `xsrfToken` as its own.

// Paths a Jupyter page lives under, after the server's base URL (JupyterLab, Notebook 7, classic).
const PAGE_PREFIXES = ["lab", "notebooks", "tree", "doc", "edit", "voila", "consoles", "terminals"];

/** The Jupyter server's base URL ("/" or "/user/alice/"), always ending in "/". */
export function baseUrl(doc, loc) {
  const withSlash = (url) => (url.endsWith("/") ? url : url + "/");
  // Notebook 7 and the classic notebook put it on <body data-base-url="...">.
  const fromBody = doc && doc.body && doc.body.dataset && doc.body.dataset.baseUrl;
  if (fromBody) return withSlash(fromBody);
  // JupyterLab writes its page config (PageConfig's source) into the page as JSON.
  const script = doc && doc.getElementById && doc.getElementById("jupyter-config-data");
  if (script && script.textContent) {
    try {
      const config = JSON.parse(script.textContent);
      if (config.baseUrl) return withSlash(config.baseUrl);
    } catch (e) {
      // not JSON: fall through to the location
    }
  }
  // Otherwise the part of the path before the page's route: /user/alice/lab/tree/x -> /user/alice/
  const parts = ((loc && loc.pathname) || "/").split("/");
  const at = parts.findIndex((p, i) => i > 0 && PAGE_PREFIXES.includes(p));
  return withSlash(at > 0 ? parts.slice(0, at).join("/") || "/" : "/");
}

/** The `_xsrf` cookie's value ("" when the page has none). */
export function xsrfToken(doc) {
  const cookies = ((doc && doc.cookie) || "").split(";");
  for (const cookie of cookies) {
    const [name, ...rest] = cookie.trim().split("=");
    if (name === "_xsrf") return rest.join("=");
  }
  return "";
}
