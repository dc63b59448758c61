// The job monitor's cancel button of jupyter-qrt (an anywidget ES module, after page.js).
//
// A %%sampler cell that waits for its job keeps the kernel busy, and a busy kernel reads no
// widget message until the cell ends: a button handled in the kernel would cancel nothing while
// the job runs. So under the jupyter-qrt server extension (`account` set) the browser cancels the
// job itself, through the server's runtime proxy for that account
// (`POST <base url>/jupyter-qrt/runtime/<account>/api/v1/jobs/<id>/cancel`, the page's session
// and `_xsrf` cookie, as the Quantum sidebar does), and the monitor sees Cancelled from the
// server's job watcher. Without the server (`account` empty) it asks the kernel to cancel.
//
// DOM contract (the browser tests rely on it): `button[data-qrt="cancel"].qrt-cancel`, and the
// outcome `[data-qrt="cancel-message"]`.

/** The proxy URL that cancels `jobId` of `account`. */
export function cancelUrl(base, account, jobId) {
  return (
    base + "jupyter-qrt/runtime/" + encodeURIComponent(account) + "/api/v1/jobs/" +
    encodeURIComponent(jobId) + "/cancel"
  );
}

function say(model, text) {
  model.set("message", text);
  model.save_changes();
}

/**
 * Cancel the model's job: through the server when the model names an account, else by asking
 * the kernel. Returns "server", "kernel" or "failed" (the reason is then in `message`).
 */
export async function cancelJob(model, env) {
  const account = model.get("account");
  if (!account) {
    model.send({ event: "cancel" });
    return "kernel";
  }
  const { fetch, document, location } = env;
  let response;
  try {
    response = await fetch(cancelUrl(baseUrl(document, location), account, model.get("job_id")), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-XSRFToken": xsrfToken(document) },
    });
  } catch (e) {
    say(model, "Could not cancel: the Jupyter server did not answer (" + e + ").");
    return "failed";
  }
  if (!response.ok) {
    let why = "HTTP " + response.status;
    try {
      const answer = await response.json();
      const first = (answer.errors && answer.errors[0]) || answer;
      why = first.message || answer.reason || why;
    } catch (e) {
      // no JSON body: the status says it
    }
    say(model, "Could not cancel: " + why);
    return "failed";
  }
  say(model, "Cancel requested.");
  model.send({ event: "cancelled" }); // the kernel shows it at once when it is not busy
  return "server";
}

function render({ model, el }) {
  const button = document.createElement("button");
  const message = document.createElement("span");
  button.type = "button";
  button.className = "jupyter-button mod-warning qrt-cancel";
  button.dataset.qrt = "cancel";
  button.textContent = "Cancel job";
  message.dataset.qrt = "cancel-message";
  message.style.marginLeft = "8px";
  let busy = false;
  const sync = () => {
    button.disabled = busy || model.get("disabled");
    button.style.opacity = button.disabled ? "0.5" : "";
    message.textContent = model.get("message");
  };
  button.addEventListener("click", async () => {
    busy = true;
    sync();
    await cancelJob(model, { fetch: window.fetch.bind(window), document, location: window.location });
    busy = false;
    sync();
  });
  model.on("change", sync);
  el.append(button, message);
  sync();
  return () => model.off("change", sync);
}

export default { render };
