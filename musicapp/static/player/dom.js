// Small DOM helpers: h() builds elements, toast() says something, fmt() formats seconds.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function toast(text, { error = false } = {}) {
  const node = h("div", { class: error ? "toast error" : "toast", role: error ? "alert" : "status" }, text);
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), error ? 6000 : 3000);
}

/** Shows an API error in words from its envelope. */
export function failed(error) {
  toast(error && error.message ? error.message : String(error), { error: true });
}

export function fmt(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

export function cover(url, alt = "") {
  return h("img", { src: url || "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", alt, loading: "lazy" });
}
