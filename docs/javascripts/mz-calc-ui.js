/* The household calculator page: a small form over the canonical household JSON (the same file
 * `minzheng eval` reads), evaluated in the page by mz-calc.js with the packs exported at build
 * (window.MZ_PACKS). Nothing is sent anywhere. */
(function () {
  "use strict";
  var root = document.getElementById("mz-calc");
  if (!root || !window.MZCalc || !window.MZ_PACKS) return;
  var C = window.MZCalc;
  var PACKS = window.MZ_PACKS;

  var RELATIONS = ["head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling",
    "other"];
  var REL_ZH = { head: "户主", spouse: "配偶", child: "子女", parent: "父母", grandchild: "孙子女",
    grandparent: "祖父母", sibling: "兄弟姐妹", other: "其他" };
  var SELF_CARE = ["", "full", "partial", "none"];
  var SELF_CARE_ZH = { "": "未知 unknown", full: "完全自理 full", partial: "部分自理 partial",
    none: "完全不能自理 none" };
  // schooling is unknown until given (the canonical household's default): "" = not given
  var STUDENT = ["", "none", "preschool", "primary", "junior", "senior", "vocational",
    "undergraduate"];
  var STUDENT_ZH = { "": "未知 unknown", none: "不在学 none" };
  var STATUS = { eligible: ["符合", "eligible"], ineligible: ["不符合", "ineligible"],
    undetermined: ["待定", "undetermined"] };
  var HH_FIELDS = ["id", "members", "assets", "expenses", "housing", "hukou", "assessed_needs",
    "emergency", "receiving"];
  var MEMBER_FIELDS = ["id", "relation", "age", "birth_date", "monthly_income", "disability_grade",
    "disability_type", "self_care", "major_illness", "chronic_illness", "student", "employed",
    "father_status", "mother_status", "care", "has_capable_obligor", "lives_alone",
    "incarcerated", "missing"];

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "html") e.innerHTML = attrs[k];
      else if (k.indexOf("on") === 0) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c != null) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }
  function bi(label) {
    return label ? label.zh + " " + label.en : "";
  }

  var ids = (root.getAttribute("data-packs") || "").split(",").filter(function (p) {
    return p && PACKS[p];
  });
  var state = {
    pack: ids[0],
    date: root.getAttribute("data-date"),
    household: null,
  };
  var fromHash = parseHash();

  function defaultHousehold(pack) {
    var c = pack.cases && pack.cases[0];
    if (c) return JSON.parse(JSON.stringify(c.household));
    return { id: "my-household", members: [{ id: "m1", relation: "head", age: 45,
      monthly_income: 0 }], assets: { financial: 0 }, hukou: null };
  }

  /* ---- validation of a loaded file: one clear line naming the field ----------------- */
  function problem(h) {
    if (!h || typeof h !== "object" || Array.isArray(h)) return "household: not a JSON object";
    var bad = Object.keys(h).filter(function (k) { return HH_FIELDS.indexOf(k) < 0; });
    if (bad.length) return bad[0] + ": unknown field 未知字段";
    if (!h.id) return "id: required 必填";
    if (!Array.isArray(h.members) || !h.members.length) {
      return "members: at least one member 至少一名成员";
    }
    for (var i = 0; i < h.members.length; i++) {
      var m = h.members[i], where = "members[" + i + "]";
      if (!m || typeof m !== "object") return where + ": not an object";
      var mb = Object.keys(m).filter(function (k) { return MEMBER_FIELDS.indexOf(k) < 0; });
      if (mb.length) return where + "." + mb[0] + ": unknown field 未知字段";
      if (!m.id) return where + ".id: required 必填";
      if (m.age == null && m.birth_date == null) {
        return where + ": give 'age' or 'birth_date' 需填年龄或出生日期";
      }
      if (m.age != null && !(Number.isInteger(m.age) && m.age >= 0 && m.age <= 130)) {
        return where + ".age: a whole number 0–130";
      }
      if (m.monthly_income != null && !(Number(m.monthly_income) >= 0)) {
        return where + ".monthly_income: a number ≥ 0";
      }
    }
    return null;
  }

  /* ---- the form ---------------------------------------------------------------------- */
  var controls = el("div", { class: "mz-calc-controls" });
  var form = el("div", { class: "mz-calc-form" });
  var jsonBox = el("textarea", { class: "mz-calc-json", rows: "14", spellcheck: "false",
    "aria-label": "household JSON" });
  var message = el("p", { class: "mz-calc-message", role: "status" });
  var results = el("div", { class: "mz-calc-results", id: "mz-calc-results" });

  function packSelect() {
    var s = el("select", { id: "mz-calc-pack", onchange: function () {
      state.pack = s.value;
      state.household = defaultHousehold(PACKS[state.pack]);
      render();
    } });
    ids.forEach(function (pid) {
      var o = el("option", { value: pid, text: bi(PACKS[pid].label) });
      if (pid === state.pack) o.selected = true;
      s.appendChild(o);
    });
    return s;
  }
  function exampleSelect() {
    var pack = PACKS[state.pack];
    var s = el("select", { id: "mz-calc-example", onchange: function () {
      var c = pack.cases[+s.value];
      if (!c) return;
      state.household = JSON.parse(JSON.stringify(c.household));
      state.date = c.date;
      render();
    } });
    s.appendChild(el("option", { value: "", text: "— 载入案例 load a worked example —" }));
    (pack.cases || []).forEach(function (c, i) {
      s.appendChild(el("option", { value: String(i), text: (c.title || c.id) + " · " + c.id }));
    });
    return s;
  }
  function renderControls() {
    controls.innerHTML = "";
    var date = el("input", { type: "date", id: "mz-calc-date", value: state.date,
      onchange: function () { if (date.value) { state.date = date.value; evaluate(); } } });
    var file = el("input", { type: "file", accept: ".json,application/json", id: "mz-calc-file",
      style: "display:none", onchange: function () { loadFile(file.files[0]); } });
    controls.appendChild(el("label", {}, ["城市 City ", packSelect()]));
    controls.appendChild(el("label", {}, ["日期 Date ", date]));
    controls.appendChild(exampleSelect());
    controls.appendChild(el("button", { type: "button", class: "md-button", id: "mz-calc-save",
      onclick: save, text: "保存 Save JSON" }));
    controls.appendChild(el("button", { type: "button", class: "md-button",
      onclick: function () { file.click(); }, text: "载入 Load JSON" }));
    controls.appendChild(file);
  }

  function numberInput(value, onchange, attrs) {
    var i = el("input", Object.assign({ type: "number", min: "0", step: "any",
      value: value == null ? "" : String(value) }, attrs || {}));
    i.addEventListener("change", function () {
      onchange(i.value === "" ? null : Number(i.value));
    });
    return i;
  }
  function setOrDrop(obj, key, value) {
    if (value === null || value === "" || value === undefined) delete obj[key];
    else obj[key] = value;
  }
  function choice(options, value, onchange, names) {
    var s = el("select", { onchange: function () { onchange(s.value); } });
    options.forEach(function (o) {
      var opt = el("option", { value: o, text: names ? names[o] || o : o });
      if ((value == null ? "" : value) === o) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }
  function check(value, onchange) {
    var c = el("input", { type: "checkbox" });
    c.checked = !!value;
    c.addEventListener("change", function () { onchange(c.checked); });
    return c;
  }

  function renderForm() {
    var h = state.household;
    form.innerHTML = "";
    var changed = function () { syncJson(); evaluate(); };
    h.assets = h.assets || {};
    h.expenses = h.expenses || {};
    var hhRow = el("div", { class: "mz-calc-hh" }, [
      el("label", {}, ["户籍地 hukou ", (function () {
        var i = el("input", { type: "text", size: "8", value: h.hukou || "",
          placeholder: "330503" });
        i.addEventListener("change", function () { setOrDrop(h, "hukou", i.value.trim()); changed(); });
        return i;
      })()]),
      el("label", {}, ["金融资产 financial assets (元) ", numberInput(h.assets.financial,
        function (v) { setOrDrop(h.assets, "financial", v); changed(); })]),
      el("label", {}, ["车辆 vehicles ", numberInput(h.assets.vehicles,
        function (v) { setOrDrop(h.assets, "vehicles", v); changed(); }, { step: "1" })]),
      el("label", {}, ["房产 dwellings ", numberInput(h.assets.properties,
        function (v) { setOrDrop(h.assets, "properties", v); changed(); }, { step: "1" })]),
      el("label", {}, ["医疗支出 medical (12 月) ", numberInput(h.expenses.medical_12m,
        function (v) { setOrDrop(h.expenses, "medical_12m", v); changed(); })]),
    ]);
    form.appendChild(hhRow);
    var head = ["成员 id", "关系 relation", "年龄 age", "月收入 income (元)", "残疾等级 disability",
      "自理 self-care", "在校 school", "重病 major illness", "就业 employed", ""];
    var table = el("table", { class: "mz-calc-members" }, [
      el("thead", {}, [el("tr", {}, head.map(function (t) { return el("th", { text: t }); }))]),
    ]);
    var body = el("tbody");
    h.members.forEach(function (m, i) {
      var idIn = el("input", { type: "text", size: "6", value: m.id });
      idIn.addEventListener("change", function () { m.id = idIn.value.trim() || m.id; changed(); });
      body.appendChild(el("tr", {}, [
        el("td", {}, [idIn]),
        el("td", {}, [choice(RELATIONS, m.relation || "other", function (v) {
          m.relation = v; changed(); }, REL_ZH)]),
        el("td", {}, [numberInput(m.birth_date ? null : m.age, function (v) {
          delete m.birth_date; setOrDrop(m, "age", v == null ? null : Math.round(v)); changed();
        }, { step: "1", max: "130", placeholder: m.birth_date || "", style: "width:5em" })]),
        el("td", {}, [numberInput(m.monthly_income, function (v) {
          setOrDrop(m, "monthly_income", v); changed(); }, { style: "width:7em",
          placeholder: "未知 unknown" })]),
        el("td", {}, [choice(["", "1", "2", "3", "4"], m.disability_grade == null ? ""
          : String(m.disability_grade), function (v) {
          if (v === "") { delete m.disability_grade; delete m.disability_type; }
          else m.disability_grade = +v;
          changed();
        }, { "": "无 none" })]),
        el("td", {}, [choice(SELF_CARE, m.self_care || "", function (v) {
          setOrDrop(m, "self_care", v); changed(); }, SELF_CARE_ZH)]),
        el("td", {}, [choice(STUDENT, m.student || "", function (v) {
          setOrDrop(m, "student", v === "" ? null : v); changed(); }, STUDENT_ZH)]),
        el("td", {}, [check(m.major_illness, function (v) {
          setOrDrop(m, "major_illness", v || null); changed(); })]),
        el("td", {}, [choice(["", "true", "false"], m.employed == null ? "" : String(m.employed),
          function (v) { setOrDrop(m, "employed", v === "" ? null : v === "true"); changed(); },
          { "": "未知 unknown", "true": "是 yes", "false": "否 no" })]),
        el("td", {}, [el("button", { type: "button", title: "删除 remove", text: "✕",
          onclick: function () {
            if (h.members.length > 1) { h.members.splice(i, 1); render(); }
          } })]),
      ]));
    });
    table.appendChild(body);
    form.appendChild(el("div", { class: "md-typeset__scrollwrap" }, [table]));
    form.appendChild(el("button", { type: "button", class: "md-button", text: "添加成员 Add member",
      onclick: function () {
        var n = h.members.length + 1;
        while (h.members.some(function (m) { return m.id === "m" + n; })) n++;
        h.members.push({ id: "m" + n, relation: "other", age: 30 });
        render();
      } }));
  }

  function syncJson() {
    jsonBox.value = JSON.stringify(state.household, null, 2);
  }

  function save() {
    var blob = new Blob([JSON.stringify(state.household, null, 2) + "\n"],
      { type: "application/json" });
    var a = el("a", { href: URL.createObjectURL(blob), download: (state.household.id ||
      "household") + ".json" });
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  function accept(text, where) {
    var h;
    try {
      h = JSON.parse(text);
    } catch (e) {
      message.textContent = where + ": not valid JSON 不是有效的 JSON (" + e.message + ")";
      return false;
    }
    var p = problem(h);
    if (p) {
      message.textContent = where + ": " + p;
      return false;
    }
    state.household = h;
    render();
    return true;
  }
  function loadFile(f) {
    if (!f) return;
    var r = new FileReader();
    r.onload = function () { accept(String(r.result), f.name); };
    r.readAsText(f);
  }

  /* ---- results ------------------------------------------------------------------------- */
  function sourceText(s) {
    if (!s) return "";
    var parts = [];
    if (s.document) parts.push("《" + s.document.replace(/^《|》$/g, "") + "》");
    if (s.number) parts.push(s.number);
    if (s.issuer) parts.push(s.issuer);
    if (s.article) parts.push(s.article);
    if (s.seed && !s.document) parts.push("种子报告 seed report " + (s.seed_title || s.seed));
    if (s.quote) parts.push("“" + s.quote + "”");
    if (s.reasoning) parts.push("推定理由 modelled because: " + s.reasoning);
    return parts.join(" · ");
  }
  function badge(conf) {
    var zh = { seed: "种子", published: "公开文件", modelled: "推定" }[conf] || conf;
    return el("span", { class: "mz-conf mz-" + conf, text: zh + " " + conf });
  }
  function paramList(params) {
    if (!params || !params.length) return null;
    return el("ul", { class: "mz-calc-params" }, params.map(function (p) {
      var li = el("li", {}, [
        el("code", { text: p.name }), " = ", el("strong", { text: p.value + " " + p.unit }),
        " — " + bi(p.label) + " ",
        p.since ? el("span", { class: "mz-since", text: "自 since " + p.since }) : null,
        " ", badge(p.confidence),
      ]);
      if (p.formula) li.appendChild(el("div", { class: "mz-src", text: "= " + p.formula }));
      var s = sourceText(p.source);
      if (s) li.appendChild(el("div", { class: "mz-src", text: s }));
      return li;
    }));
  }
  function valuesText(values) {
    var keys = Object.keys(values || {});
    if (!keys.length) return null;
    return el("div", { class: "mz-calc-values" }, [el("code", { text: keys.map(function (k) {
      return k + " = " + values[k];
    }).join(", ") })]);
  }
  function reasonList(reasons) {
    return el("ul", { class: "mz-calc-reasons" }, reasons.map(function (r) {
      var mark = r.result === true ? "✓" : r.result === false ? "✗" : "?";
      var li = el("li", { class: "mz-r-" + (r.result === true ? "pass" : r.result === false
        ? "fail" : "unknown") }, [
        el("span", { class: "mz-mark", text: mark + " " }), bi(r.label), " ",
        el("code", { text: r.expression }),
      ]);
      if (r.missing && r.missing.length) {
        li.appendChild(el("div", { text: "缺少 missing: " + r.missing.join(", ") }));
      }
      if (r.error) li.appendChild(el("div", { text: "error: " + r.error }));
      var v = valuesText(r.values);
      if (v) li.appendChild(v);
      var p = paramList(r.parameters);
      if (p) li.appendChild(p);
      return li;
    }));
  }
  function outcomeDetails(o, prog) {
    var d = el("details", { class: "mz-calc-why" }, [el("summary", {
      text: "为什么 Why: " + prog.label.zh + " " + prog.label.en })]);
    if (o.excluded_by) {
      d.appendChild(el("p", { text: "不可同时享受 excluded by " + o.excluded_by }));
    }
    if (o.members) {
      Object.keys(o.members).forEach(function (mid) {
        var mo = o.members[mid];
        d.appendChild(el("p", {}, [el("strong", { text: mid + ": " + STATUS[mo.status].join(" ") +
          (mo.status === "eligible" ? " " + C.amountText(mo.amount, o.unit) : "") })]));
        d.appendChild(reasonList(mo.reasons));
        if (mo.amount_explanation) d.appendChild(amountBlock(mo.amount_explanation));
      });
    }
    if (o.reasons.length) d.appendChild(reasonList(o.reasons));
    if (o.amount_explanation) d.appendChild(amountBlock(o.amount_explanation));
    if (prog && prog.citations.length) {
      d.appendChild(el("p", { class: "mz-cite" }, [el("strong", { text: "依据 Sources: " })]));
      d.appendChild(el("ul", {}, prog.citations.map(function (c) {
        return el("li", {}, [badge(c.confidence), " " + sourceText(c.source)]);
      })));
    }
    return d;
  }
  function amountBlock(a) {
    return el("div", { class: "mz-calc-amount" }, [
      el("p", {}, ["金额 Amount = ", el("code", { text: a.expression })]),
      valuesText(a.values), paramList(a.parameters),
    ]);
  }

  function evaluate() {
    var pack = PACKS[state.pack];
    results.innerHTML = "";
    message.textContent = "";
    var res;
    try {
      res = C.evaluate(pack, state.household, state.date, { explain: true });
    } catch (e) {
      message.textContent = (e && e.message) || String(e);
      results.setAttribute("data-state", "error");
      return;
    }
    var total = new C.Decimal(0);
    var table = el("table", { class: "mz-calc-table" }, [el("thead", {}, [el("tr", {}, [
      "项目 Program", "状态 Status", "金额 Amount"].map(function (t) {
      return el("th", { text: t });
    }))])]);
    var body = el("tbody");
    Object.keys(res.programs).forEach(function (pid) {
      var o = res.programs[pid], prog = pack.programs[pid];
      if (o.status === "eligible" && o.unit === "CNY/month") total = total.plus(o.amount);
      var st = el("span", { class: "mz-status mz-" + o.status, text: STATUS[o.status].join(" ") });
      var cell = [st];
      if (o.missing.length) cell.push(el("div", { class: "mz-missing", text: "缺少 needs: " +
        o.missing.join(", ") }));
      body.appendChild(el("tr", { "data-program": pid, "data-status": o.status,
        "data-amount": C.amountText(o.amount, o.unit) }, [
        el("td", {}, [el("strong", { text: prog.label.zh }), el("br"), prog.label.en]),
        el("td", {}, cell),
        el("td", { class: "mz-num", text: o.status === "eligible" ? C.amountText(o.amount, o.unit) +
          " " + o.unit : "—" }),
      ]));
      // the why-trace gets the table's full width, in a row of its own under the program
      body.appendChild(el("tr", { class: "mz-why-row" }, [
        el("td", { colspan: "3" }, [outcomeDetails(o, prog)]),
      ]));
    });
    table.appendChild(body);
    results.appendChild(el("p", { class: "mz-calc-total" }, [
      el("strong", { text: "每月合计 Monthly total: " + total.toFixed(2) + " 元" }),
      " (" + bi(pack.label) + ", " + state.date + "; " + "CNY/month programs)",
    ]));
    if (res.tags.length) results.appendChild(el("p", { text: "标签 Tags: " + res.tags.join(", ") }));
    if (res.needs.length) results.appendChild(el("p", { text: "需求 Needs: " + res.needs.join(", ") }));
    results.appendChild(el("div", { class: "md-typeset__scrollwrap" }, [table]));
    results.setAttribute("data-state", "done");
    location.replace("#" + encodeURIComponent(state.pack) + "/" + state.date);
  }

  function parseHash() {
    var m = /^#([a-z0-9_]+)\/(\d{4}-\d{2}-\d{2})$/.exec(location.hash || "");
    return m && PACKS[m[1]] ? { pack: m[1], date: m[2] } : null;
  }

  function render() {
    renderControls();
    renderForm();
    syncJson();
    evaluate();
  }

  if (fromHash) {
    state.pack = fromHash.pack;
    state.date = fromHash.date;
  }
  state.household = defaultHousehold(PACKS[state.pack]);
  var apply = el("button", { type: "button", class: "md-button", id: "mz-calc-apply",
    text: "应用 JSON Apply", onclick: function () { accept(jsonBox.value, "JSON"); } });
  root.appendChild(controls);
  root.appendChild(form);
  root.appendChild(el("details", { class: "mz-calc-jsonbox" }, [
    el("summary", { text: "家庭 JSON（命令行 minzheng eval 读取的格式）Household JSON, as the CLI reads it" }),
    jsonBox, apply,
  ]));
  root.appendChild(message);
  root.appendChild(results);
  window.MZCalcPage = { state: state, accept: accept, evaluate: evaluate, render: render };
  render();
})();
