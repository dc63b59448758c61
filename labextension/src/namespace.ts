/**
 * The URL namespace of the jupyter-qrt server extension: its routes live under
 * `<base_url>/jupyter-qrt/`. The Python side's twin is `jupyter_qrt.server.callers.NAMESPACE`;
 * `tests/server/test_labextension_glue.py` reads this line and checks both agree.
 */
export const NAMESPACE = 'jupyter-qrt';
