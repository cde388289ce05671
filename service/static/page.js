// The page: asks /ask, shows each citation's quote inside its surrounding text, lists and adds documents.
"use strict";

const CONTEXT = 240; // characters shown on each side of a quote
const KEY_STORAGE = "rag-api-key";

const $ = (id) => document.getElementById(id);
const knownLengths = new Map(); // document id -> characters, from GET /documents

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

function showKeyField() {
  const box = $("key-box");
  const wasHidden = box.hidden;
  box.hidden = false;
  if (wasHidden || !apiKey()) $("key").focus();
}

// Words a person understands for each HTTP failure; the server's own message where it says something useful.
function describe(status, message) {
  switch (status) {
    case 401:
      return apiKey()
        ? "The API key was not accepted. Check it in the API key field and try again."
        : "This service needs an API key. Enter it in the API key field above and try again.";
    case 403:
      return "This API key may not do that.";
    case 404:
      return message || "Not found.";
    case 409:
      return "The index is being updated by someone else. Try again in a moment.";
    case 413:
      return "That is too large for this service. Try a shorter question or a smaller file.";
    case 429:
      return "Too many requests right now. Wait a few seconds and try again.";
    case 503:
      return "The service is not ready yet" + (message ? ": " + message : ".") + " Try again in a moment.";
    case 400:
    case 422:
      return message ? "That was not accepted: " + message + "." : "That was not accepted.";
    default:
      return "Something went wrong on the server (status " + status + ")" + (message ? ": " + message : ".");
  }
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = apiKey();
  if (key) headers.set("Authorization", "Bearer " + key);
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (err) {
    throw new ApiError(0, "unreachable", "Cannot reach the service. Is it still running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) {
    const error = (body && body.error) || {};
    if (response.status === 401) showKeyField();
    throw new ApiError(response.status, error.code || "http_error", describe(response.status, error.message));
  }
  return body;
}

function showError(err) {
  const box = $("error");
  box.textContent = err instanceof ApiError ? err.message : "Something went wrong in the page: " + err;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function textPath(docId) {
  return "/documents/" + docId.split("/").map(encodeURIComponent).join("/") + "/text";
}

// --- asking -------------------------------------------------------------------------------------------

function focusEvidence(n) {
  for (const item of document.querySelectorAll("#evidence-list li")) item.classList.remove("current");
  const item = $("evidence-" + n);
  if (!item) return;
  item.classList.add("current");
  item.scrollIntoView({ block: "nearest" });
  item.focus();
}

function renderAnswer(body) {
  const target = $("answer-body");
  target.replaceChildren();
  if (body.abstained) {
    // The answer says why in the asker's language (body.reason names it); nothing is added in another.
    target.append(element("p", "abstained", body.answer));
    return;
  }
  const paragraph = element("p", "answer-text");
  const cited = new Set(body.citations.map((c) => c.n));
  // The answer text is sentences followed by markers [n]; each marker becomes a button to its evidence.
  for (const part of body.answer.split(/(\[\d+\])/)) {
    const match = /^\[(\d+)\]$/.exec(part);
    if (match && cited.has(Number(match[1]))) {
      const n = Number(match[1]);
      const marker = element("button", "marker", "[" + n + "]");
      marker.type = "button";
      marker.setAttribute("aria-controls", "evidence-" + n);
      marker.title = "Show the evidence for this sentence";
      marker.addEventListener("click", () => focusEvidence(n));
      paragraph.append(marker);
    } else if (part) {
      paragraph.append(document.createTextNode(part));
    }
  }
  target.append(paragraph);
  target.append(...provenance(body));
}

// How the answer was written: by the model (each sentence checked against its citation) or from the source
// sentences, and why when a generated answer was asked for; sentences left out are listed on request.
function provenance(body) {
  const notes = [];
  if (body.mode === "generated") {
    notes.push(element("p", "muted mode", "Written by the model; every sentence was checked against its citation."));
  } else if (body.fallback_reason) {
    notes.push(element("p", "muted mode", "Source sentences: the generated answer was not used (" + body.fallback_reason + ")."));
  }
  if (body.dropped && body.dropped.length) {
    const details = element("details", "dropped");
    const count = body.dropped.length;
    details.append(element("summary", "", count + (count === 1 ? " generated sentence" : " generated sentences") + " left out"));
    const list = element("ul");
    for (const item of body.dropped) {
      list.append(element("li", "", "\u201c" + item.sentence + "\u201d: " + item.reason));
    }
    details.append(list);
    notes.push(details);
  }
  return notes;
}

function contextBlock(before, quote, after, clippedStart, clippedEnd) {
  const block = element("blockquote", "context");
  block.append(document.createTextNode((clippedStart ? "…" : "") + before));
  block.append(element("mark", "", quote));
  block.append(document.createTextNode(after + (clippedEnd ? "…" : "")));
  return block;
}

// Offsets count Unicode code points (Python's str), so the window is sliced as an array of code points.
async function loadContext(citation, item) {
  let length = knownLengths.get(citation.document_id);
  if (length === undefined) {
    await loadDocuments();
    length = knownLengths.get(citation.document_id);
  }
  const start = Math.max(0, citation.start - CONTEXT);
  const end = Math.min(length === undefined ? citation.end : length, citation.end + CONTEXT);
  const window = await api(textPath(citation.document_id) + "?start=" + start + "&end=" + Math.max(end, citation.end));
  const points = Array.from(window.text);
  const quote = points.slice(citation.start - start, citation.end - start).join("");
  if (quote !== citation.quote) return; // the document changed since the answer: keep the quote alone
  let before = points.slice(0, citation.start - start).join("");
  let after = points.slice(citation.end - start).join("");
  // Cut the context at word boundaries rather than inside a word.
  if (start > 0) before = before.replace(/^\S*\s/, "");
  if (window.end < window.characters) after = after.replace(/\s\S*$/, "");
  before = before.replace(/^\s+/, "");
  after = after.replace(/\s+$/, "");
  const block = contextBlock(before, quote, after, start > 0, window.end < window.characters);
  item.querySelector(".context").replaceWith(block);
  item.dataset.context = "loaded";
}

function renderEvidence(body) {
  const list = $("evidence-list");
  list.replaceChildren();
  $("evidence-empty").textContent = body.abstained ? "Nothing is cited: the documents do not answer this." : "";
  $("evidence-empty").hidden = !body.abstained;
  const pending = [];
  for (const citation of body.citations) {
    const item = element("li");
    item.id = "evidence-" + citation.n;
    item.tabIndex = -1;
    const heading = element("h3");
    heading.append(element("span", "n", "[" + citation.n + "] "), document.createTextNode(citation.title));
    const page = citation.page ? " · page " + citation.page : "";
    const meta = element(
      "p",
      "meta",
      citation.document_id + page + " · characters " + citation.start + "–" + citation.end +
        " · score " + citation.score.toFixed(3)
    );
    item.append(heading, meta, contextBlock("", citation.quote, "", false, false));
    list.append(item);
    pending.push(loadContext(citation, item).catch(() => undefined)); // the quote alone stays on failure
  }
  return Promise.all(pending);
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) {
    $("status").textContent = "Type a question first.";
    return;
  }
  clearError();
  $("status").textContent = "Looking for the answer…";
  const button = $("ask-form").querySelector("button");
  button.disabled = true;
  $("answer").setAttribute("aria-busy", "true");
  try {
    const body = await api("/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question }),
    });
    renderAnswer(body);
    await renderEvidence(body);
    $("status").textContent = body.abstained
      ? "The documents do not answer this question."
      : "Answer ready with " + body.citations.length + (body.citations.length === 1 ? " citation." : " citations.");
  } catch (err) {
    $("status").textContent = "";
    showError(err);
  } finally {
    button.disabled = false;
    $("answer").removeAttribute("aria-busy");
  }
}

// --- documents ----------------------------------------------------------------------------------------

async function loadDocuments() {
  const documents = await api("/documents");
  const list = $("document-list");
  list.replaceChildren();
  knownLengths.clear();
  for (const doc of documents) {
    knownLengths.set(doc.id, doc.characters);
    const item = element("li");
    item.append(element("span", "title", doc.title + " "));
    const chunks = doc.chunks === 1 ? "1 chunk" : doc.chunks + " chunks";
    item.append(element("span", "id", "(" + doc.id + ", " + doc.characters + " characters, " + chunks + ")"));
    list.append(item);
  }
  if (!documents.length) list.append(element("li", "muted", "No documents indexed yet."));
  return documents;
}

async function upload() {
  const input = $("upload");
  const file = input.files && input.files[0];
  if (!file) return;
  clearError();
  const status = $("upload-status");
  status.textContent = "Adding " + file.name + "… indexing can take a minute.";
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const report = await api("/documents", { method: "POST", body: form });
    // The reply names the generation holding the document; the server serves it from its next request on.
    const health = await api("/health");
    await loadDocuments();
    const what = report.added.length ? "added" : report.changed.length ? "replaced" : "already indexed, unchanged";
    const live =
      health.generation === report.generation
        ? "generation " + report.generation + " is live"
        : "it is in generation " + report.generation + "; the service has moved on to " + health.generation;
    status.textContent = file.name + " " + what + ": " + live + ". Ask about it.";
    input.value = "";
  } catch (err) {
    status.textContent = "";
    showError(err);
  }
}

function start() {
  const keyField = $("key");
  keyField.value = apiKey();
  if (apiKey()) $("key-box").hidden = false;
  keyField.addEventListener("input", () => {
    if (keyField.value) sessionStorage.setItem(KEY_STORAGE, keyField.value.trim());
    else sessionStorage.removeItem(KEY_STORAGE);
  });
  const retry = () => loadDocuments().then(clearError).catch(showError);
  keyField.addEventListener("change", retry);
  $("key-box").addEventListener("submit", (event) => {
    event.preventDefault();
    retry();
  });
  $("ask-form").addEventListener("submit", ask);
  $("upload").addEventListener("change", upload);
  loadDocuments().catch(showError);
}

document.addEventListener("DOMContentLoaded", start);
