"""The interactive backward-pass page: one self-contained HTML file (inline SVG, CSS and script).

The graph is drawn by the built-in layout (layout.py) with forward values only; every step of the
engine's walk (``Explanation.steps``, in its order) is stored as data in the page, and the script
shows step k by highlighting that node, its upstream gradient (a sum where branches met), the
rule with numbers, and writing the downstream gradients onto the edges to the node's inputs.
Every name is escaped for HTML; the data is JSON with <, > and & escaped, read with JSON.parse and
written with textContent only, so a crafted name cannot inject markup or script.
"""
import json
import os
import re

import numpy as np

from .graph import describe
from .layout import CHAR, LAYER_GAP, _escape, layout, to_svg


def _d(a):
    return describe(a, True)


def _sum_text(parts, total):
    return " + ".join(_d(v) for _, v in parts) + f" = {_d(total)}"


def page_data(explanation):
    """The steps as plain data for the script: per step its box, texts and the edge labels it adds."""
    d = explanation.graph._drawable(grads=False)  # a huge graph: modules collapsed, or a clear error
    box = d.box_of
    leaf_keys = {id(leaf) for leaf in explanation.graph.leaves}
    leaf_totals = {}
    steps = []
    for s in explanation.steps:
        up = np.asarray(s.upstream)
        contributions = [(who, g) for who, g in _arrivals(explanation, s)] if s.summed_from else []
        inputs, labels, grads = [], {}, {box[s.key]: _d(up)}
        for name, key, loc, down in zip(s.inputs, s.input_keys, s.local, s.downstream):
            edge = None
            if key is not None and key in box and box[key] != box[s.key]:
                edge = f"edge-{box[key]}-{box[s.key]}"
                if down is not None:
                    labels.setdefault(edge, []).append(_d(down))
                    if key in leaf_keys:
                        total = leaf_totals.get(key)
                        leaf_totals[key] = np.asarray(down) if total is None else total + np.asarray(down)
                        grads[box[key]] = _d(leaf_totals[key])
            if loc is None:
                local, formula = "-", "no gradient" if down is None else _d(down)
            elif isinstance(loc, str):
                local, formula = loc, _d(down)
            else:
                local, formula = _d(loc), f"{_d(up)} \u00d7 {_d(loc)} = {_d(down)}"
            inputs.append({"name": name, "local": local, "down": "-" if down is None else _d(down),
                           "formula": formula, "edge": edge, "box": box.get(key) if key is not None else None})
        steps.append({"box": box[s.key], "name": s.name, "op": s.op, "rule": s.rule, "upstream": _d(up),
                      "sum": _sum_text(contributions, up) if contributions else "",
                      "from": [f"edge-{box[s.key]}-{box[k]}" for k in _consumer_keys(explanation, s, box)],
                      "inputs": inputs, "labels": {e: " + ".join(v) for e, v in labels.items()},
                      "grads": grads})
    return d, {"steps": steps, "final": explanation.leaf_lines()}


def _arrivals(explanation, step):
    """(consumer name, gradient) pairs that were added up into ``step``'s upstream gradient."""
    found = []
    for other in explanation.steps:
        for key, down in zip(other.input_keys, other.downstream):
            if key == step.key and down is not None:
                found.append((other.name, down))
    return found


def _consumer_keys(explanation, step, box):
    keys = []
    for other in explanation.steps:
        if step.key in other.input_keys and other.key in box and box[other.key] != box[step.key]:
            keys.append(other.key)
    return list(dict.fromkeys(keys))


def table_html(explanation):
    header, rows = explanation.rows()
    e = _escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="chainrule-steps"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _json_for_script(obj):
    """JSON that cannot end the <script> element or open a comment inside it."""
    text = json.dumps(obj, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(explanation, path=None, title=None):
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"explain.to_html: the directory '{folder}' does not exist")
    drawing, data = page_data(explanation)
    longest = max((len(t) for s in data["steps"] for t in s["labels"].values()), default=0)
    svg = to_svg(layout(drawing, layer_gap=max(LAYER_GAP, longest * CHAR + 24)), interactive=True)
    out = explanation.steps[0].name if explanation.steps else "f"
    title = title or f"Backward pass of {out}"
    parts = {"TITLE": _escape(title), "SVG": svg, "TABLE": table_html(explanation),
             "DATA": _json_for_script(data)}
    text = re.sub(r"__(TITLE|SVG|TABLE|DATA)__", lambda m: parts[m.group(1)], PAGE)  # one pass: no re-scan
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>__TITLE__</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
#controls { margin: 8px 0; display: flex; gap: 8px; align-items: center; }
button { font-size: 14px; padding: 4px 14px; }
#graph { overflow: auto; border: 1px solid #ddd; max-height: 70vh; }
#panel { margin-top: 10px; padding: 8px 12px; background: #fafafa; border: 1px solid #ddd; min-height: 90px; }
#panel table { border-collapse: collapse; margin-top: 6px; }
#panel td, #panel th, table.chainrule-steps td, table.chainrule-steps th
  { border: 1px solid #ccc; padding: 2px 8px; text-align: left; font-family: monospace; }
.node.current .shape { stroke: #d02020; stroke-width: 3; }
.node.input .shape { stroke: #e08000; stroke-width: 2.5; }
.edge.downstream path { stroke: #d02020; stroke-width: 2.5; }
.edge.upstream path { stroke: #2060d0; stroke-width: 2.5; }
.edge-label, .node-grad { font-weight: bold; }
.muted { color: #777; }
details { margin-top: 12px; }
</style></head>
<body>
<h1>__TITLE__</h1>
<div id="controls"><button id="back" type="button">&#9664; Back</button>
<button id="next" type="button">Next &#9654;</button>
<span id="counter"></span><span class="muted">(arrow keys step too)</span></div>
<div id="graph">
__SVG__
</div>
<div id="panel">
<div id="headline"></div>
<div>upstream gradient: <b id="upstream"></b> <span id="sum" class="muted"></span></div>
<div>rule: <code id="rule"></code></div>
<table id="inputs"><thead><tr><th>input</th><th>local gradient</th><th>downstream = upstream &#215; local</th></tr></thead><tbody></tbody></table>
<ul id="final"></ul>
</div>
<details><summary>the whole table</summary>__TABLE__</details>
<script type="application/json" id="cr-data">__DATA__</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cr-data").textContent);
  var steps = data.steps, k = 0;
  function el(id) { return document.getElementById(id); }
  function setText(node, text) { if (node) { node.textContent = text; } }
  function clearMarks() {
    document.querySelectorAll(".current, .input, .downstream, .upstream").forEach(function (n) {
      n.classList.remove("current", "input", "downstream", "upstream");
    });
    document.querySelectorAll(".edge-label, .node-grad").forEach(function (n) { n.textContent = ""; });
  }
  function show() {
    clearMarks();
    for (var i = 0; i < k; i++) {
      var s = steps[i];
      Object.keys(s.labels).forEach(function (e) {
        var g = el(e); if (g) { setText(g.querySelector(".edge-label"), s.labels[e]); }
      });
      Object.keys(s.grads).forEach(function (b) {
        var g = el("node-" + b); if (g) { setText(g.querySelector(".node-grad"), "grad " + s.grads[b]); }
      });
    }
    setText(el("counter"), "step " + k + " / " + steps.length);
    el("back").disabled = k === 0;
    el("next").disabled = k === steps.length;
    var body = el("inputs").querySelector("tbody");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var fin = el("final");
    while (fin.firstChild) { fin.removeChild(fin.firstChild); }
    if (k === 0) {
      setText(el("headline"), "Forward pass: every node shows its value. Press Next to run the backward pass.");
      setText(el("upstream"), ""); setText(el("sum"), ""); setText(el("rule"), "");
      el("inputs").style.display = "none";
      return;
    }
    var s = steps[k - 1];
    var node = el("node-" + s.box);
    if (node) {
      node.classList.add("current");
      if (node.scrollIntoView) { node.scrollIntoView({block: "nearest", inline: "center"}); }
    }
    s.from.forEach(function (e) { var g = el(e); if (g) { g.classList.add("upstream"); } });
    setText(el("headline"), "Step " + k + ": node " + s.name + " = " + s.op);
    el("headline").setAttribute("data-node", s.name);
    setText(el("upstream"), s.upstream);
    setText(el("sum"), s.sum ? "(sum of the branches: " + s.sum + ")" : "");
    setText(el("rule"), s.rule);
    el("inputs").style.display = "";
    s.inputs.forEach(function (inp) {
      var tr = document.createElement("tr");
      [inp.name, inp.local, inp.formula].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
      });
      tr.setAttribute("data-down", inp.down);
      body.appendChild(tr);
      if (inp.edge) { var g = el(inp.edge); if (g) { g.classList.add("downstream"); } }
      if (inp.box) { var b = el("node-" + inp.box); if (b) { b.classList.add("input"); } }
    });
    if (k === steps.length) {
      data.final.forEach(function (line) {
        var li = document.createElement("li"); li.textContent = line; fin.appendChild(li);
      });
    }
  }
  function go(d) { k = Math.max(0, Math.min(steps.length, k + d)); show(); }
  el("next").addEventListener("click", function () { go(1); });
  el("back").addEventListener("click", function () { go(-1); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowRight" || ev.key === "ArrowDown") { go(1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") { go(-1); ev.preventDefault(); }
    else if (ev.key === "Home") { k = 0; show(); }
    else if (ev.key === "End") { k = steps.length; show(); }
  });
  show();
}());
</script>
</body></html>
"""
