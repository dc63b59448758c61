// Runs account_form.js's pure parts under node with a fake page, model and fetch; prints JSON.
import { pathToFileURL } from "node:url";

const [modulePath] = process.argv.slice(2);
const { baseUrl, xsrfToken, submit, pushFields } = await import(pathToFileURL(modulePath).href);

function page({ bodyBase, configBase, pathname, cookie }) {
  const script = configBase ? { textContent: JSON.stringify({ baseUrl: configBase }) } : null;
  return {
    document: {
      body: { dataset: bodyBase ? { baseUrl: bodyBase } : {} },
      getElementById: (id) => (id === "jupyter-config-data" ? script : null),
      cookie: cookie ?? "",
    },
    location: { pathname },
  };
}

function fakeModel(values) {
  const sets = [];
  return {
    sets,
    get: (k) => values[k],
    set: (k, v) => {
      values[k] = v;
      sets.push([k, v]);
    },
    save_changes: () => sets.push(["save_changes"]),
  };
}

function fakeFetch(status, answer, requests) {
  return async (url, init) => {
    requests.push({ url, method: init.method, headers: init.headers, body: JSON.parse(init.body) });
    return { ok: status < 400, status, json: async () => answer };
  };
}

// The form as a person leaves it after editing several fields, on a model that redraws the form
// from itself on every set (as render's change handler does).
let pushed;
{
  const values = { name: "default", channel: "ibm_quantum_platform", url: "", set_default: true };
  const form = {
    name: { value: "mine" },
    channel: { value: "local" },
    url: { value: "http://127.0.0.1:8001" },
    set_default: { type: "checkbox", checked: false },
  };
  const redraw = () => {
    for (const [k, el] of Object.entries(form)) {
      if (el.type === "checkbox") el.checked = values[k];
      else el.value = values[k];
    }
  };
  const model = { get: (k) => values[k], set: (k, v) => { values[k] = v; redraw(); }, save_changes: () => {} };
  pushFields(model, form);
  pushed = { ...values };
}

const fields = {
  name: "work",
  channel: "ibm_cloud",
  instance: "crn:v1:x",
  url: "https://cloud.example/",
  set_default: true,
};
const out = { baseUrls: {}, xsrf: null, saved: null, refused: null, pushed };

out.baseUrls.notebook7_body = baseUrl(...Object.values(page({ bodyBase: "/user/alice/", pathname: "/user/alice/notebooks/a.ipynb" })));
out.baseUrls.lab_config = baseUrl(...Object.values(page({ configBase: "/hub/user/bob", pathname: "/x" })));
out.baseUrls.lab_location = baseUrl(...Object.values(page({ pathname: "/user/carol/lab/tree/notes/a.ipynb" })));
out.baseUrls.notebook7_location = baseUrl(...Object.values(page({ pathname: "/notebooks/a.ipynb" })));
out.baseUrls.root_location = baseUrl(...Object.values(page({ pathname: "/lab" })));
out.xsrf = xsrfToken({ cookie: "username-x=1; _xsrf=2|abc|def=|1700; theme=dark" });

for (const [label, status, answer] of [
  ["saved", 200, { account: { name: "work", channel: "ibm_cloud", fingerprint: "...9f2c", token: "ECHOED" } }],
  ["refused", 400, { message: "The key was rejected by IAM: check it and try again." }],
]) {
  const requests = [];
  const model = fakeModel({ ...fields, result: {}, error: "" });
  const { document, location } = page({ bodyBase: "/user/alice/", pathname: "/", cookie: "_xsrf=tok-1" });
  const ok = await submit(model, "SECRET-KEY-123", { fetch: fakeFetch(status, answer, requests), document, location });
  out[label] = { ok, requests, sets: model.sets };
}
console.log(JSON.stringify(out));
