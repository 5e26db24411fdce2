// The inspector's page: the journal's lines live over server-sent events, one entry's bodies on a click.
// Plain DOM, no library; everything from the journal is written with textContent, never as HTML.
"use strict";

const BASE = "/_emulator/ui";
const KEY = new URLSearchParams(location.search).get("key"); // the control token, when the server has one
const entries = new Map(); // seq -> line
let selected = null;
let curlText = "";
let cassetteText = "";

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function withKey(path) {
  return KEY ? `${path}${path.includes("?") ? "&" : "?"}key=${encodeURIComponent(KEY)}` : path;
}

async function getJson(path) {
  const response = await fetch(BASE + path, { headers: KEY ? { "x-emulator-token": KEY } : {} });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

function statusClass(line) {
  if (line.status === null) return "run";
  return line.status >= 200 && line.status < 300 ? "ok" : "bad";
}

function statusText(line) {
  if (line.status === null) return "running";
  return line.status === 0 ? "cut" : String(line.status);
}

function matches(line) {
  const context = $("f-context").value, model = $("f-model").value, status = $("f-status").value;
  if (context && line.context !== context) return false;
  if (model && line.model !== model) return false;
  if (!status) return true;
  if (status === "running") return line.status === null;
  if (status === "cut") return line.status === 0;
  if (line.status === null) return false;
  if (status === "ok") return line.status >= 200 && line.status < 300;
  return String(line.status)[0] === status[0];
}

function refreshOptions(select, values) {
  const chosen = select.value;
  const have = new Set([...select.options].map((o) => o.value));
  for (const value of [...values].sort()) {
    if (!have.has(value)) select.append(new Option(value, value));
  }
  select.value = chosen;
}

function row(line) {
  const tr = el("tr");
  tr.dataset.seq = line.seq;
  const time = new Date(line.time * 1000).toLocaleTimeString([], { hour12: false }) +
    "." + String(Math.floor((line.time % 1) * 1000)).padStart(3, "0");
  const cells = [
    el("td", "", line.seq), el("td", "", time), el("td", "ctx", line.context),
    el("td"), el("td", "", line.model),
    el("td", statusClass(line), statusText(line)), el("td"),
    el("td", "", line.latency_ms === null ? "…" : `${line.latency_ms} ms`),
    el("td", "backend", line.backend || (line.faults.length ? "(fault)" : "")),
  ];
  cells[2].title = line.context;
  cells[8].title = line.backend;
  cells[3].append(el("span", `tag ${line.flavour}`, line.flavour), document.createTextNode(` ${line.method}`));
  for (const fault of line.faults) cells[6].append(el("span", "tag fault", fault));
  tr.append(...cells);
  if (line.seq === selected) tr.classList.add("selected");
  tr.addEventListener("click", () => open(line.seq));
  return tr;
}

function render() {
  const lines = [...entries.values()].sort((a, b) => b.seq - a.seq);
  refreshOptions($("f-context"), new Set(lines.map((l) => l.context)));
  refreshOptions($("f-model"), new Set(lines.map((l) => l.model)));
  const shown = lines.filter(matches);
  $("rows").replaceChildren(...shown.map(row));
  $("empty").hidden = lines.length > 0;
  $("count").textContent = `${shown.length} of ${lines.length} calls`;
}

function partText(part) {
  if ("text" in part) return (part.thought ? "(thought) " : "") + part.text;
  if (part.functionCall) return `→ ${part.functionCall.name}(${JSON.stringify(part.functionCall.args || {})})`;
  if (part.functionResponse) return `← ${part.functionResponse.name}: ${JSON.stringify(part.functionResponse.response)}`;
  if (part.inlineData) return `[${part.inlineData.mimeType}, ${(part.inlineData.data || "").length} base64 characters]`;
  if (part.fileData) return `[file ${part.fileData.fileUri}]`;
  return JSON.stringify(part);
}

function turn(role, parts) {
  const node = el("div", `turn ${role === "user" ? "user" : role === "system" ? "system" : "model"}`);
  node.append(el("span", "role", role), document.createTextNode(parts.map(partText).join("\n")));
  return node;
}

function chat(request) {
  const turns = [];
  const system = request.systemInstruction || request.system_instruction;
  if (system && system.parts) turns.push(turn("system", system.parts));
  for (const content of request.contents || []) turns.push(turn(content.role || "user", content.parts || []));
  if (!turns.length) turns.push(el("p", "", "(no conversation: see the request below)"));
  return turns;
}

function chunkText(chunk) {
  const candidate = (chunk.candidates || [])[0];
  const parts = candidate && candidate.content ? candidate.content.parts || [] : [];
  const text = parts.map(partText).join("");
  return text + (candidate && candidate.finishReason ? `  [${candidate.finishReason}]` : "");
}

function answer(detail) {
  const out = [];
  if (Array.isArray(detail.answer)) {
    $("d-answer-title").textContent = `Answer: stream of ${detail.answer.length} chunks`;
    detail.answer.forEach((chunk, i) => {
      const box = el("div", "chunk");
      const at = detail.timing_ms[i] !== undefined ? `+${detail.timing_ms[i]} ms` : "";
      box.append(el("span", "at", `#${i + 1} ${at}`), el("span", "", chunkText(chunk)));
      const raw = el("details");
      raw.append(el("summary", "", "JSON"), el("pre", "", JSON.stringify(chunk, null, 2)));
      box.append(raw);
      out.push(box);
    });
  } else if (detail.answer) {
    $("d-answer-title").textContent = "Answer";
    out.push(el("pre", "", JSON.stringify(detail.answer, null, 2)));
  } else {
    $("d-answer-title").textContent = "Answer";
    out.push(el("p", "", detail.status === null ? "(still running)" : "(no body: see the error above)"));
  }
  return out;
}

function facts(detail) {
  const items = [
    ["context", detail.context], ["API", detail.flavour], ["operation", detail.method], ["model", detail.model],
    ["path", detail.path], ["status", statusText(detail)],
    ["latency", detail.latency_ms === null ? "…" : `${detail.latency_ms} ms`],
    ["backend", detail.backend || "(none: a fault answered)"], ["faults", detail.faults.join(", ") || "none"],
    ["time", new Date(detail.time * 1000).toISOString()],
  ];
  if (detail.project) items.push(["project", detail.project], ["location", detail.location || ""]);
  return items.flatMap(([name, value]) => [el("dt", "", name), el("dd", "", value)]);
}

async function open(seq) {
  selected = seq;
  for (const tr of $("rows").children) tr.classList.toggle("selected", Number(tr.dataset.seq) === seq);
  let detail;
  try {
    detail = await getJson(`/entries/${seq}`);
  } catch (error) {
    $("detail").hidden = false;
    $("d-title").textContent = `#${seq}: ${error.message}`;
    return;
  }
  if (selected !== seq) return;
  $("detail").hidden = false;
  $("d-title").textContent = `#${detail.seq} ${detail.method} · ${detail.model}`;
  $("d-facts").replaceChildren(...facts(detail));
  const message = detail.reply && detail.reply.error_message;
  $("d-error").hidden = !message;
  $("d-error").textContent = message ? `${detail.reply.error_status || ""} ${message}` : "";
  const differs = message ? missed(message) : null;
  $("d-miss").hidden = !differs;
  $("d-miss").replaceChildren(...(differs ? differsTable(differs) : []));
  $("d-chat").replaceChildren(...chat(detail.request));
  $("d-answer").replaceChildren(...answer(detail));
  $("d-request").textContent = JSON.stringify(detail.request, null, 2);
  curlText = detail.curl;
  $("d-curl").textContent = curlText;
  cassetteText = detail.cassette || "";
  $("d-cassette").textContent = cassetteText || "Only a whole answer can be replayed from a cassette.";
  $("copy-cassette").disabled = !cassetteText;
  $("copied").textContent = "";
}

// A cassette miss names the nearest interaction and the first field where they differ:
// "... which differs at contents[0].parts[0].text: 'asked' != 'recorded'."
function missed(message) {
  const found = /which differs at (.+?): (.*) != (.*)\.$/s.exec(message);
  return found ? { field: found[1], sent: found[2], recorded: found[3] } : null;
}

function differsTable(differs) {
  const rows = [["field", differs.field], ["this call", differs.sent], ["nearest recording", differs.recorded]];
  return rows.map(([name, value]) => {
    const row = el("div", "miss-row");
    row.append(el("span", "miss-name", name), el("code", name === "field" ? "miss-field" : "miss-value", value));
    return row;
  });
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  $("copied").textContent = "copied";
}

function listen() {
  const source = new EventSource(withKey(`${BASE}/events`));
  source.addEventListener("open", () => { $("live").className = "live on"; $("live").textContent = "live"; });
  source.addEventListener("error", () => { $("live").className = "live off"; $("live").textContent = "reconnecting"; });
  source.addEventListener("entry", (event) => {
    const line = JSON.parse(event.data);
    entries.set(line.seq, line);
    render();
    if (line.seq === selected && line.status !== null) open(line.seq);
  });
}

async function start() {
  for (const id of ["f-context", "f-model", "f-status"]) $(id).addEventListener("change", render);
  $("copy-curl").addEventListener("click", () => copy(curlText));
  $("copy-cassette").addEventListener("click", () => copy(cassetteText));
  $("close").addEventListener("click", () => { selected = null; $("detail").hidden = true; render(); });
  listen(); // before the first load, so nothing falls between the two
  try {
    const { entries: lines } = await getJson("/entries");
    for (const line of lines) {
      const known = entries.get(line.seq);
      if (!known || (known.status === null && line.status !== null)) entries.set(line.seq, line);
    }
  } catch (error) {
    $("empty").textContent = `Cannot read the journal: ${error.message}`;
  }
  render();
}

start();
