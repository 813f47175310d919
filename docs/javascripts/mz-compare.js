/* The compare page "on date D": recompute each city's value, the date it has been in force
 * since and the over-two-years flag from the packs exported at build (window.MZ_PACKS), with
 * the calculator's own parameter lookup (mz-calc.js). */
(function () {
  "use strict";
  var input = document.getElementById("mz-compare-date");
  if (!input || !window.MZCalc || !window.MZ_PACKS) return;
  var C = window.MZCalc;
  var LABEL = { seed: "seed", published: "published", modelled: "modelled 推定" };

  function inputsOf(tree, out) {
    if (!tree) return out;
    if (tree.k === "name" && tree.kind === "param") out.push(tree.n);
    ["a", "b", "c", "t", "e", "el", "w"].forEach(function (k) {
      if (tree[k] && tree[k].k) inputsOf(tree[k], out);
    });
    (tree.xs || []).forEach(function (x) { inputsOf(x, out); });
    return out;
  }
  /* value, since (latest of its inputs for a derived value) and every confidence it rests on */
  function shown(pack, name, on, cache) {
    var v = C.paramValue(pack, name, on, cache);
    var spec = pack.parameters[name];
    var since = v.since, assumed = !!v.since_assumed, confs = [v.confidence];
    if (spec.formula) {
      inputsOf(spec.formula.tree, []).forEach(function (dep) {
        var s = shown(pack, dep, on, cache);
        if (s.since && (!since || s.since > since)) { since = s.since; assumed = s.assumed; }
        s.confs.forEach(function (c) { if (confs.indexOf(c) < 0) confs.push(c); });
      });
    }
    return { value: v.value, since: since, assumed: assumed, confs: confs };
  }
  function staleBefore(on) {
    var y = +on.slice(0, 4) - 2, rest = on.slice(4);
    if (rest === "-02-29") rest = "-02-28";
    return String(y).padStart(4, "0") + rest;
  }
  function number(v) {
    if (typeof v === "boolean") return v ? "是 yes" : "否 no";
    var s = v.toFixed();
    return s.indexOf(".") >= 0 ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
  }
  function render() {
    var on = input.value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(on)) return;
    var caches = {}, stale = 0;
    document.querySelectorAll(".mz-cell[data-pack]").forEach(function (cell) {
      var pack = window.MZ_PACKS[cell.dataset.pack];
      if (!pack) return;
      var cache = caches[pack.id] = caches[pack.id] || {};
      var s;
      try {
        s = shown(pack, cell.dataset.param, on, cache);
      } catch (e) {
        cell.innerHTML = '<span title="not in force on this date 该日无取值">—</span>';
        return;
      }
      var html = "<strong>" + number(s.value) + "</strong> " + (cell.dataset.unit || "");
      if (s.since) {
        html += "<br><small>自 since " + s.since +
          (s.assumed ? ' <span title="no source gives this start date">(推定 assumed)</span>' : "") +
          "</small>";
        if (s.since < staleBefore(on)) {
          stale++;
          html += '<br><span class="mz-stale">⚠ 逾两年 over 2 years old</span>';
        }
      }
      var order = ["modelled", "published", "seed"];
      html += "<br>" + order.filter(function (c) { return s.confs.indexOf(c) >= 0; })
        .map(function (c) {
          return '<span class="mz-conf mz-' + c + ' mz-small">' + LABEL[c] + "</span>";
        }).join(" ");
      cell.innerHTML = html;
    });
    var note = document.getElementById("mz-compare-note");
    if (note) note.textContent = stale ? stale + " value(s) over two years old 个取值逾两年" : "";
  }
  input.addEventListener("change", render);
  render();
})();
