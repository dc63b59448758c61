// The backend browser's table of jupyter-qrt (an anywidget ES module): click a column's header to
// sort on it (again: the other order), click a row (or Enter on it) to open that backend's
// details. The kernel sorts and formats the rows; this module only draws them and reports clicks
// through the model's `sort_by`, `descending` and `selected`.
//
// DOM contract (the browser tests rely on it): `table[data-qrt="backend-table"]`, a header cell
// `th[data-qrt-sort="<column>"]` per column, a row `tr[data-qrt-device="<name>"]` per backend
// (`aria-selected="true"` on the one shown in the details).

/** What a click on column `key`'s header sets: that column, or the other order of it. */
export function nextSort(sortBy, descending, key) {
  return key === sortBy ? { sort_by: key, descending: !descending } : { sort_by: key, descending: false };
}

function header(model) {
  const sortBy = model.get("sort_by");
  const descending = model.get("descending");
  const row = document.createElement("tr");
  for (const [key, label] of model.get("columns")) {
    const cell = document.createElement("th");
    cell.dataset.qrtSort = key;
    cell.style.cursor = "pointer";
    cell.title = "Sort on " + label;
    const sorted = key === sortBy;
    cell.setAttribute("aria-sort", sorted ? (descending ? "descending" : "ascending") : "none");
    cell.textContent = label + (sorted ? (descending ? " \u25bc" : " \u25b2") : "");
    cell.addEventListener("click", () => {
      const next = nextSort(model.get("sort_by"), model.get("descending"), key);
      model.set("sort_by", next.sort_by);
      model.set("descending", next.descending);
      model.save_changes();
    });
    row.append(cell);
  }
  return row;
}

function body(model) {
  const selected = model.get("selected");
  const tbody = document.createElement("tbody");
  for (const { name, cells } of model.get("rows")) {
    const row = document.createElement("tr");
    row.dataset.qrtDevice = name;
    row.tabIndex = 0;
    row.style.cursor = "pointer";
    row.title = "Show " + name + ": coupling map, qubits and gates";
    row.setAttribute("aria-selected", String(name === selected));
    if (name === selected) row.style.background = "var(--jp-brand-color3, #cfe8fc)";
    const choose = () => {
      model.set("selected", name);
      model.save_changes();
    };
    row.addEventListener("click", choose);
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") choose();
    });
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.append(cell);
    }
    tbody.append(row);
  }
  return tbody;
}

function render({ model, el }) {
  const table = document.createElement("table");
  table.className = "qrt-table";
  table.dataset.qrt = "backend-table";
  const caption = document.createElement("caption");
  caption.textContent = "Backends (click a header to sort, a row for its details)";
  const draw = () => {
    const thead = document.createElement("thead");
    thead.append(header(model));
    table.replaceChildren(caption, thead, body(model));
  };
  model.on("change", draw);
  el.append(table);
  draw();
  return () => model.off("change", draw);
}

export default { render };
