// Account setup form of jupyter-qrt (an anywidget ES module).
//
// The API key is typed here and POSTed by the browser straight to the jupyter-qrt server
// extension (`<base url>/jupyter-qrt/accounts`, with the page's `_xsrf` cookie as X-XSRFToken).
// It is never put in the widget model: the kernel and the notebook file never see it. The kernel
// only learns the outcome through the `result` (the new account's summary) and `error` traits.
//
// DOM contract (the browser tests rely on it): `form[data-qrt="account-setup"]`, its fields
// `[data-qrt="account-name"]`, `-channel`, `-instance`, `-url`, `-key` (the password field),
// `-default`, the button `[data-qrt="account-save"]` and the outcome `[data-qrt="account-status"]`.
//
// `baseUrl` and `xsrfToken` come from page.js, which the kernel puts before this module
// (`_esm.compose`): an anywidget module is one file, it cannot import a sibling.

const CHANNELS = ["ibm_quantum_platform", "ibm_cloud", "local"];
/**
 * POST the account to the server extension and report the outcome to the model.
 * `key` is a local value: it goes into the request body only.
 */
export async function submit(model, key, env) {
  const { fetch, document, location } = env;
  const body = {
    name: model.get("name"),
    channel: model.get("channel"),
    instance: model.get("instance") || null,
    url: model.get("url") || null,
    token: key,
    set_default: model.get("set_default"),
  };
  let response;
  try {
    response = await fetch(baseUrl(document, location) + "jupyter-qrt/accounts", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-XSRFToken": xsrfToken(document) },
      body: JSON.stringify(body),
    });
  } catch (e) {
    model.set("error", "Could not reach the Jupyter server (" + e + "). Check the connection and try again.");
    model.save_changes();
    return false;
  }
  let answer = {};
  try {
    answer = await response.json();
  } catch (e) {
    answer = {};
  }
  if (!response.ok) {
    const why = answer.message || answer.reason || "HTTP " + response.status;
    model.set("error", "The account was not saved: " + why);
    model.save_changes();
    return false;
  }
  const summary = answer.account || answer;
  delete summary.token; // a summary never holds a key; drop one should a server echo it
  model.set("error", "");
  model.set("result", summary);
  model.save_changes();
  return true;
}

/**
 * Put the form's fields on the model (and send them to the kernel). Every field is read before
 * the first `model.set`: each set fires the model's change event, whose handler redraws the
 * form from the model, which would put back the old value of a field not set yet.
 */
export function pushFields(model, fields) {
  const values = Object.entries(fields).map(([trait, element]) => [
    trait,
    element.type === "checkbox" ? element.checked : element.value,
  ]);
  for (const [trait, value] of values) model.set(trait, value);
  model.save_changes();
}

function field(label, input) {
  const row = document.createElement("label");
  row.style.display = "block";
  row.style.margin = "4px 0";
  row.append(label + " ", input);
  return row;
}

function render({ model, el }) {
  const form = document.createElement("form");
  form.className = "qrt-account-setup";
  const note = document.createElement("div");
  const status = document.createElement("div");
  const name = document.createElement("input");
  const channel = document.createElement("select");
  const instance = document.createElement("input");
  const url = document.createElement("input");
  const key = document.createElement("input");
  const makeDefault = document.createElement("input");
  const save = document.createElement("button");
  for (const c of CHANNELS) channel.append(new Option(c, c));
  key.type = "password";
  key.autocomplete = "off";
  key.placeholder = "API key (sent to the Jupyter server only)";
  makeDefault.type = "checkbox";
  instance.placeholder = "instance CRN or name (optional)";
  url.placeholder = "service URL (optional; channel local: a jupyter-qrt serve URL)";
  save.type = "submit";
  save.textContent = "Save account";
  form.dataset.qrt = "account-setup";
  const parts = { name, channel, instance, url, key, default: makeDefault, save, status };
  for (const [part, element] of Object.entries(parts)) element.dataset.qrt = "account-" + part;

  const sync = () => {
    name.value = model.get("name");
    channel.value = model.get("channel");
    instance.value = model.get("instance");
    url.value = model.get("url");
    makeDefault.checked = model.get("set_default");
    const server = model.get("server");
    note.textContent = model.get("message");
    for (const e of [name, channel, instance, url, key, makeDefault, save]) e.disabled = !server;
    const error = model.get("error");
    const result = model.get("result");
    status.style.color = error ? "#b00" : "";
    status.textContent = error
      ? error
      : result && result.name
        ? "Saved account '" + result.name + "' (" + (result.channel || "") + ", key " + (result.fingerprint || "masked") + ")."
        : "";
  };
  const push = () => pushFields(model, { name, channel, instance, url, set_default: makeDefault });
  for (const e of [name, channel, instance, url, makeDefault]) e.addEventListener("change", push);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    push();
    save.disabled = true;
    const value = key.value;
    const ok = await submit(model, value, { fetch: window.fetch.bind(window), document, location: window.location });
    if (ok) key.value = ""; // the key does not linger in the page either
    save.disabled = false;
  });
  model.on("change", sync);
  form.append(
    note,
    field("Name", name),
    field("Channel", channel),
    field("Instance", instance),
    field("URL", url),
    field("API key", key),
    field("Make default", makeDefault),
    save,
    status,
  );
  el.append(form);
  sync();
  return () => model.off("change", sync);
}

export default { render };
