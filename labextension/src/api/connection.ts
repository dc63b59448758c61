/**
 * The {@link IRequester} of the running JupyterLab: `ServerConnection.makeRequest` under
 * `<base_url>/jupyter-qrt/` (cookie + XSRF header, or the token header).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { NAMESPACE } from '../namespace';
import type { IRequester } from './client';

/**
 * A requester for the server the page came from.
 */
export function serverRequester(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): IRequester {
  const url = (path: string): string =>
    URLExt.join(settings.baseUrl, NAMESPACE, path);
  return {
    url: (path: string): string => {
      // EventSource cannot send headers: where the page authenticates by token rather than
      // cookie, the token goes in the query as Jupyter does for websockets.
      const full = url(path);
      if (settings.appendToken && settings.token) {
        const joiner = full.includes('?') ? '&' : '?';
        return `${full}${joiner}token=${encodeURIComponent(settings.token)}`;
      }
      return full;
    },
    request: (path: string, init: RequestInit = {}): Promise<Response> => {
      const headers = new Headers(init.headers);
      if (init.body !== undefined && !headers.has('Content-Type')) {
        headers.set('Content-Type', 'application/json');
      }
      return ServerConnection.makeRequest(
        url(path),
        { ...init, headers },
        settings
      );
    }
  };
}
