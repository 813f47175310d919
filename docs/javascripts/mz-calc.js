/* The household calculator's evaluator: a pack exported by minzheng_rules.docsgen.calc, bound to
 * a date, evaluated on a canonical household exactly as the Python reference evaluator does
 * (src/minzheng_rules/backends/reference): decimal arithmetic with Python's default context
 * (28 significant digits, half-even), the program's own rounding, Kleene logic with Unknown
 * carrying the names of the missing facts, the same exclusion rules. A parity test
 * (tests/test_docs_calculator.py) runs it in headless Chromium against the reference. */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./vendor/decimal.js"));
  } else {
    root.MZCalc = factory(root.Decimal);
  }
})(typeof self !== "undefined" ? self : this, function (DecimalBase) {
  "use strict";
  var D = DecimalBase.clone({ precision: 28, rounding: 6, toExpNeg: -40, toExpPos: 40 });
  var ZERO = new D(0);
  var MODES = { up: 0, down: 1, ceiling: 2, floor: 3, half_up: 4, half_down: 5, half_even: 6 };

  function EvalError(message) {
    this.name = "EvaluationError";
    this.message = message;
  }

  function Unknown(missing) {
    this.missing = missing; // a Set of fact names
  }
  function isU(v) {
    return v instanceof Unknown;
  }
  function unknownOf(names) {
    return new Unknown(new Set(names));
  }
  function merge() {
    var s = new Set();
    for (var i = 0; i < arguments.length; i++) {
      var v = arguments[i];
      if (isU(v)) v.missing.forEach(function (x) { s.add(x); });
    }
    return new Unknown(s);
  }
  function mergeList(values) {
    return merge.apply(null, values);
  }
  function sortedMissing(u) {
    return Array.from(u.missing).sort(pyCmp);
  }
  function pyCmp(a, b) {
    // Python sorts text by code point; JS < compares UTF-16 units (same for the BMP names here)
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function lit(v) {
    if (v !== null && typeof v === "object" && "d" in v) return new D(v.d);
    return v;
  }
  function num(v) {
    return v instanceof D ? v : new D(v);
  }
  function eq(a, b) {
    if (a instanceof D && b instanceof D) return a.eq(b);
    return a === b;
  }
  function cmp(op, a, b) {
    var c;
    if (a instanceof D && b instanceof D) c = a.cmp(b);
    else if (typeof a === "boolean" || typeof b === "boolean") c = a === b ? 0 : a ? 1 : -1;
    else c = a < b ? -1 : a > b ? 1 : 0;
    switch (op) {
      case "<": return c < 0;
      case "<=": return c <= 0;
      case ">": return c > 0;
      case ">=": return c >= 0;
      case "==": return c === 0;
      case "!=": return c !== 0;
    }
    throw new EvalError("unknown comparison " + op);
  }
  function quantize(v, digits, mode) {
    var rm = MODES[mode];
    v = num(v);
    if (digits >= 0) return v.toDecimalPlaces(digits, rm);
    var scale = new D(10).pow(-digits);
    return v.div(scale).toDecimalPlaces(0, rm).times(scale);
  }

  /* ---- parameters on a date --------------------------------------------------------- */
  function paramValue(pack, name, on, cache) {
    if (cache[name] !== undefined) return cache[name];
    var p = pack.parameters[name];
    var out;
    if (p.history) {
      var cur = null;
      for (var i = 0; i < p.history.length; i++) if (p.history[i].since <= on) cur = p.history[i];
      if (cur === null) {
        throw new EvalError("parameter '" + name + "' is not in force on " + on +
          " (first value from " + p.history[0].since + ")");
      }
      var v = typeof cur.value === "boolean" ? cur.value : new D(cur.value);
      out = { value: v, since: cur.since, since_assumed: !!cur.since_assumed,
        confidence: cur.confidence, source: cur.source };
    } else if (p.set_by) {
      throw new EvalError("parameter '" + name + "' is set by a " + p.set_by +
        " pack; evaluate with one");
    } else {
      var ctx = { bound: { params: {}, pack: pack }, hh: {}, members: [], loops: {} };
      walkNames(p.formula.tree, function (n) {
        if (n.kind === "param") ctx.bound.params[n.n] = paramValue(pack, n.n, on, cache).value;
      });
      out = { value: ev(p.formula.tree, ctx, null), since: null, confidence: p.confidence,
        source: p.source, formula: p.formula.src };
    }
    cache[name] = out;
    return out;
  }

  function walkNames(node, fn) {
    if (!node) return;
    if (node.k === "name") return fn(node);
    ["a", "b", "c", "t", "e", "el", "w"].forEach(function (k) {
      if (node[k] && typeof node[k] === "object" && node[k].k) walkNames(node[k], fn);
    });
    (node.xs || []).forEach(function (x) { walkNames(x, fn); });
  }

  function inForce(prog, on) {
    var f = prog.in_force || {};
    return (f.since == null || f.since <= on) && (f.until == null || on <= f.until);
  }

  /* A pack bound to a date: the programs in force, the parameters they need, exclusions. */
  function bind(pack, on) {
    var active = pack.order.filter(function (pid) { return inForce(pack.programs[pid], on); });
    var needed = new Set(pack.relief_params);
    active.forEach(function (pid) {
      pack.programs[pid].params.forEach(function (n) { needed.add(n); });
    });
    var cache = {};
    var params = {}, uses = {};
    Array.from(needed).sort(pyCmp).forEach(function (n) {
      uses[n] = paramValue(pack, n, on, cache);
      params[n] = uses[n].value;
    });
    var position = {};
    active.forEach(function (pid, i) { position[pid] = i; });
    var resolveAfter = {};
    pack.exclusions.forEach(function (exc) {
      var n = exc.programs.filter(function (p) { return p in position; }).length;
      if (n < 2) return;
      var linked = exc.group.filter(function (p) { return p in position; });
      var last = linked.reduce(function (a, b) { return position[b] > position[a] ? b : a; });
      (resolveAfter[last] = resolveAfter[last] || []).push(exc);
    });
    return { pack: pack, date: on, active: active, params: params, uses: uses,
      resolveAfter: resolveAfter };
  }

  /* ---- facts of a canonical household ----------------------------------------------- */
  function dec(v, dflt) {
    if (v === undefined || v === null) return dflt;
    return new D(String(v));
  }
  function ageOn(m, on) {
    if (m.birth_date == null) return new D(m.age);
    var b = m.birth_date, y = +on.slice(0, 4), by = +b.slice(0, 4);
    var before = on.slice(5) < b.slice(5) ? 1 : 0;
    return new D(y - by - before);
  }
  function householdFacts(h, on, programIds) {
    var a = h.assets || {}, e = h.expenses || {};
    var hh = {
      size: new D(h.members.length),
      "assets.financial": a.financial == null ? unknownOf(["assets.financial"]) : dec(a.financial),
      "assets.vehicles": dec(a.vehicles, new D(0)),
      "assets.properties": dec(a.properties, new D(1)),
      "expenses.medical_12m": dec(e.medical_12m, ZERO),
      "expenses.education_12m": dec(e.education_12m, ZERO),
      "housing.unsafe": !!(h.housing && h.housing.unsafe),
      emergency: !!h.emergency,
      eval_date: on,
      hukou: h.hukou == null ? unknownOf(["hukou"]) : h.hukou,
    };
    var rec = h.receiving || {};
    programIds.forEach(function (pid) {
      var amt = rec[pid];
      hh["receiving." + pid] = amt != null;
      hh["receiving_amount." + pid] = amt != null ? dec(amt) : ZERO;
    });
    return hh;
  }
  // a member's fields as the fact table (minzheng_rules.model) reads them, exported with the pack: the plain
  // ones with their documented defaults, the optional ones unknown until given
  function memberFacts(pack, h, on) {
    var plain = pack.member_defaults, optional = pack.member_optional;
    return h.members.map(function (m) {
      var f = {};
      Object.keys(plain).forEach(function (k) { f[k] = m[k] == null ? plain[k] : m[k]; });
      optional.forEach(function (k) {
        var v = m[k];
        if (v == null) f[k] = unknownOf(["members[" + m.id + "]." + k]);
        else f[k] = k === "monthly_income" ? dec(v) : v;
      });
      f.age = ageOn(m, on);
      f.disability_grade = m.disability_grade ? new D(m.disability_grade) : new D(0);
      f.disability_type = m.disability_type || "none";
      return f;
    });
  }

  /* ---- expressions ------------------------------------------------------------------- */
  function variable(ctx, name, md) {
    var pack = ctx.bound.pack;
    var target = md || ctx.hh;
    if (Object.prototype.hasOwnProperty.call(target, name)) return target[name];
    var v, t = pack.tables[name];
    if (t) v = table(ctx, name, t, md);
    else if (pack.variables[name]) v = ev(pack.variables[name].tree, ctx, md);
    else throw new EvalError("no fact or variable '" + name + "'");
    target[name] = v;
    return v;
  }
  function table(ctx, name, t, m) {
    var hits = [], unknown = null;
    for (var i = 0; i < t.rows.length; i++) {
      var v = ev(t.rows[i].when.tree, ctx, m);
      if (v === true) {
        if (t.policy === "first") return unknown === null ? ev(t.rows[i].then.tree, ctx, m) : unknown;
        hits.push(t.rows[i].then.tree);
      } else if (isU(v)) unknown = unknown === null ? v : merge(unknown, v);
    }
    if (unknown !== null) return unknown;
    if (!hits.length) return ev(t.default.tree, ctx, m);
    if (t.policy === "unique") {
      if (hits.length > 1) {
        throw new EvalError("decision table '" + name + "' (hit policy unique) matched " +
          hits.length + " rows");
      }
      return ev(hits[0], ctx, m);
    }
    var values = hits.map(function (h) { return ev(h, ctx, m); });
    if (values.some(isU)) return mergeList(values);
    return values.reduce(function (a, b) { return a.plus(b); }, ZERO);
  }

  function nameValue(n, ctx, m) {
    switch (n.kind) {
      case "param":
        if (!(n.n in ctx.bound.params)) throw new EvalError("parameter '" + n.n + "' not bound");
        return ctx.bound.params[n.n];
      case "program": {
        var key = "programs." + n.n + "." + n.field;
        var where = !n.pm ? ctx.hh : n.lv ? ctx.loops[n.lv] : m;
        if (!(key in where)) throw new EvalError("program '" + n.n + "' read before it ran");
        return where[key];
      }
      case "household":
        if (n.fact) {
          if (!(n.n in ctx.hh)) throw new EvalError("no household fact '" + n.n + "'");
          return ctx.hh[n.n];
        }
        return variable(ctx, n.n, null);
      case "member": {
        var md = n.lv ? ctx.loops[n.lv] : m;
        if (n.fact) return md[n.n];
        return variable(ctx, n.n, md);
      }
    }
    throw new EvalError("unknown name kind " + n.kind);
  }

  function ev(node, ctx, m) {
    var a, b, v, i;
    switch (node.k) {
      case "const":
        return lit(node.v);
      case "name":
        return nameValue(node, ctx, m);
      case "unary":
        v = ev(node.a, ctx, m);
        if (isU(v)) return v;
        return node.op === "not" ? !v : v.neg();
      case "bin":
        a = ev(node.a, ctx, m);
        b = ev(node.b, ctx, m);
        if (isU(a) || isU(b)) return merge(a, b);
        switch (node.op) {
          case "+": return num(a).plus(b);
          case "-": return num(a).minus(b);
          case "*": return num(a).times(b);
          case "/":
            if (num(b).isZero()) throw new EvalError("division by zero");
            return num(a).div(b);
        }
        throw new EvalError("unknown operator " + node.op);
      case "cmp": {
        var values = node.xs.map(function (x) { return ev(x, ctx, m); });
        if (node.ops.length === 1) {
          a = values[0];
          b = values[1];
          if (isU(a) || isU(b)) return isU(a) && !isU(b) ? a : merge(a, b);
          return cmp(node.ops[0], a, b);
        }
        var unknown = null;
        for (i = 0; i < node.ops.length; i++) {
          a = values[i];
          b = values[i + 1];
          if (isU(a) || isU(b)) {
            unknown = merge.apply(null, [unknown, a, b].filter(function (x) { return x !== null; }));
          } else if (!cmp(node.ops[i], a, b)) return false;
        }
        return unknown !== null ? unknown : true;
      }
      case "in":
        v = ev(node.a, ctx, m);
        if (isU(v)) return v;
        var found = node.opts.some(function (o) { return eq(v, lit(o)); });
        return found !== node.neg;
      case "bool":
        return boolop(node, ctx, m);
      case "if":
        v = ev(node.c, ctx, m);
        if (isU(v)) return v;
        return v ? ev(node.t, ctx, m) : ev(node.e, ctx, m);
      case "call":
        return call(node, ctx, m);
      case "agg":
        return aggregate(node, ctx, m);
    }
    throw new EvalError("unknown node " + node.k);
  }

  function boolop(node, ctx, m) {
    var stop = node.op === "or";
    var fs = node.xs;
    if (fs.length === 2) {
      var a = ev(fs[0], ctx, m);
      if (a === stop) return stop;
      var b = ev(fs[1], ctx, m);
      if (b === stop) return stop;
      if (isU(a)) return isU(b) ? merge(a, b) : a;
      return b;
    }
    var unknown = null;
    for (var i = 0; i < fs.length; i++) {
      var v = ev(fs[i], ctx, m);
      if (isU(v)) unknown = unknown === null ? v : merge(unknown, v);
      else if (v === stop) return stop;
    }
    return unknown !== null ? unknown : !stop;
  }

  function call(node, ctx, m) {
    var f = node.f, xs = node.xs;
    if (f === "date") return xs[0].v;
    if (f === "round") {
      var r = ev(xs[0], ctx, m);
      return isU(r) ? r : quantize(r, Number(lit(xs[1].v)), xs[2].v);
    }
    var vals = xs.map(function (x) { return ev(x, ctx, m); });
    if (f === "abs") return isU(vals[0]) ? vals[0] : num(vals[0]).abs();
    if (vals.some(isU)) return mergeList(vals);
    if (f === "clamp") return D.min(D.max(vals[0], vals[1]), vals[2]);
    var pick = vals[0];
    for (var i = 1; i < vals.length; i++) {
      if (f === "min" ? num(vals[i]).lt(pick) : num(vals[i]).gt(pick)) pick = vals[i];
    }
    return pick;
  }

  function aggregate(node, ctx, m) {
    var loops = ctx.loops, prev = loops[node.var];
    var chosen = [], unknown = null, out = [];
    try {
      ctx.members.forEach(function (md) {
        if (!node.w) { chosen.push(md); return; }
        loops[node.var] = md;
        var v = ev(node.w, ctx, m);
        if (v === true) chosen.push(md);
        else if (isU(v)) unknown = unknown === null ? v : merge(unknown, v);
      });
      if (node.f === "count") return unknown !== null ? unknown : new D(chosen.length);
      chosen.forEach(function (md) {
        loops[node.var] = md;
        out.push(ev(node.el, ctx, m));
      });
    } finally {
      if (prev === undefined) delete loops[node.var];
      else loops[node.var] = prev;
    }
    if (node.f === "any" || node.f === "all") {
      var decisive = node.f === "any";
      for (var i = 0; i < out.length; i++) {
        if (out[i] === decisive) return decisive;
        if (isU(out[i])) unknown = unknown === null ? out[i] : merge(unknown, out[i]);
      }
      return unknown !== null ? unknown : !decisive;
    }
    if (unknown !== null || out.some(isU)) return mergeList(out.concat(unknown ? [unknown] : []));
    if (node.f === "sum") return out.reduce(function (a, b) { return num(a).plus(b); }, ZERO);
    if (!out.length) return ZERO;
    var pick = out[0];
    for (var j = 1; j < out.length; j++) {
      if (node.f === "min" ? num(out[j]).lt(pick) : num(out[j]).gt(pick)) pick = out[j];
    }
    return pick;
  }

  /* ---- the why-trace ------------------------------------------------------------------ */
  function show(v) {
    if (isU(v)) return "unknown (" + sortedMissing(v).join(", ") + ")";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (v instanceof D) {
      var s = v.toDecimalPlaces(4, 6).toFixed();
      if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
      return s;
    }
    return String(v);
  }
  function paramsUsed(bound, tree, seen) {
    var pack = bound.pack;
    var out = seen || new Set();
    walkNames(tree, function (n) {
      if (n.kind === "param") {
        if (!out.has(n.n)) {
          out.add(n.n);
          var p = pack.parameters[n.n];
          if (p && p.formula) paramsUsed(bound, p.formula.tree, out);
        }
      } else if ((n.kind === "household" || n.kind === "member") && !n.fact) {
        var key = "var:" + n.n;
        if (out.has(key)) return;
        out.add(key);
        var t = pack.tables[n.n];
        if (t) {
          t.rows.forEach(function (r) {
            paramsUsed(bound, r.when.tree, out);
            paramsUsed(bound, r.then.tree, out);
          });
          paramsUsed(bound, t.default.tree, out);
        } else if (pack.variables[n.n]) paramsUsed(bound, pack.variables[n.n].tree, out);
      }
    });
    return out;
  }
  function trace(bound, tree, ctx, m) {
    var values = {};
    walkNames(tree, function (n) {
      if (n.kind === "param" || n.lv) return;
      var key = n.kind === "program" ? "programs." + n.n + "." + n.field : n.n;
      if (key in values) return;
      var v;
      try {
        v = nameValue(n, ctx, m);
      } catch (e) {
        v = undefined;
      }
      values[key] = v === undefined ? "?" : show(v);
    });
    var params = [];
    Array.from(paramsUsed(bound, tree)).sort(pyCmp).forEach(function (name) {
      if (name.indexOf("var:") === 0 || !(name in bound.uses)) return;
      var u = bound.uses[name], spec = bound.pack.parameters[name];
      params.push({ name: name, value: show(u.value), unit: spec.unit, label: spec.label,
        confidence: u.confidence, since: u.since, source: u.source, formula: u.formula || null });
    });
    return { values: values, parameters: params };
  }

  /* ---- programs ------------------------------------------------------------------------ */
  function status(v) {
    return v === true ? "eligible" : isU(v) ? "undetermined" : "ineligible";
  }
  function conditions(bound, prog, ctx, m, explain) {
    var verdict = true, reasons = [];
    for (var i = 0; i < prog.conditions.length; i++) {
      var c = prog.conditions[i], v;
      try {
        v = ev(c.tree, ctx, m);
      } catch (e) {
        if (verdict === false && explain) { // the plain evaluation stopped before this one
          reasons.push({ condition: c.id, label: c.label, expression: c.src, result: null,
            error: e.message });
          continue;
        }
        throw e;
      }
      if (v === false) verdict = false;
      else if (v !== true && verdict !== false) verdict = verdict === true ? v : merge(verdict, v);
      var r = { condition: c.id, label: c.label, expression: c.src,
        result: isU(v) ? null : v, missing: isU(v) ? sortedMissing(v) : [] };
      if (explain) {
        var t = trace(bound, c.tree, ctx, m);
        r.values = t.values;
        r.parameters = t.parameters;
      }
      reasons.push(r);
      if (verdict === false && !explain) break;
    }
    return { verdict: verdict, reasons: reasons };
  }
  function amountOf(prog, ctx, m) {
    if (!prog.amount) return ZERO;
    var v = ev(prog.amount.tree, ctx, m);
    if (isU(v)) return v;
    return quantize(v, prog.rounding.digits, prog.rounding.mode);
  }
  function run(bound, pid, ctx, memberIds, explain) {
    var prog = bound.pack.programs[pid];
    var kE = "programs." + pid + ".eligible", kA = "programs." + pid + ".amount";
    if (prog.entity !== "member") {
      var res = conditions(bound, prog, ctx, null, explain);
      var verdict = res.verdict, amount = ZERO;
      if (verdict === true) {
        amount = amountOf(prog, ctx, null);
        if (isU(amount)) verdict = amount;
      }
      var out = { id: pid, label: prog.label, unit: prog.unit, status: status(verdict),
        amount: verdict === true ? amount : ZERO, reasons: res.reasons,
        missing: isU(verdict) ? sortedMissing(verdict) : [], excluded_by: null, members: null };
      if (explain && prog.amount && verdict === true) {
        var t = trace(bound, prog.amount.tree, ctx, null);
        out.amount_explanation = { expression: prog.amount.src, values: t.values,
          parameters: t.parameters };
      }
      ctx.hh[kE] = verdict;
      ctx.hh[kA] = verdict === true ? amount : isU(verdict) ? verdict : ZERO;
      return out;
    }
    var members = {};
    memberIds.forEach(function (mid, i) {
      var md = ctx.members[i];
      var r = conditions(bound, prog, ctx, md, explain);
      var verdict = r.verdict, amount = ZERO;
      if (verdict === true) {
        amount = amountOf(prog, ctx, md);
        if (isU(amount)) verdict = amount;
      }
      var st = status(verdict);
      var mo = { status: st, amount: verdict === true ? amount : ZERO, reasons: r.reasons,
        missing: st === "undetermined" ? sortedMissing(verdict) : [] };
      if (explain && prog.amount && verdict === true) {
        var t = trace(bound, prog.amount.tree, ctx, md);
        mo.amount_explanation = { expression: prog.amount.src, values: t.values,
          parameters: t.parameters };
      }
      members[mid] = mo;
      md[kE] = verdict;
      md[kA] = verdict === true ? amount : st === "undetermined" ? verdict : ZERO;
    });
    var o = memberTotal(pid, prog, members);
    storeHousehold(pid, o, ctx);
    return o;
  }
  function memberTotal(pid, prog, members) {
    var ms = Object.keys(members).map(function (k) { return members[k]; });
    var st = ms.some(function (x) { return x.status === "eligible"; }) ? "eligible"
      : ms.some(function (x) { return x.status === "undetermined"; }) ? "undetermined"
        : "ineligible";
    var total = ZERO, missing = new Set();
    ms.forEach(function (x) {
      if (x.status === "eligible") total = total.plus(x.amount);
      x.missing.forEach(function (n) { missing.add(n); });
    });
    return { id: pid, label: prog.label, unit: prog.unit, status: st, amount: total, reasons: [],
      missing: st !== "eligible" ? Array.from(missing).sort(pyCmp) : [], excluded_by: null,
      members: members };
  }
  function storeHousehold(pid, o, ctx) {
    var kE = "programs." + pid + ".eligible", kA = "programs." + pid + ".amount";
    if (o.status === "eligible") {
      ctx.hh[kE] = true;
      ctx.hh[kA] = o.amount;
    } else if (o.status === "undetermined") {
      ctx.hh[kE] = ctx.hh[kA] = unknownOf(o.missing);
    } else {
      ctx.hh[kE] = false;
      ctx.hh[kA] = ZERO;
    }
  }
  function losers(keep, present, units) {
    var live = present.filter(function (p) { return units[p].status !== "ineligible"; });
    if (live.length < 2) return [];
    var winner = live[0];
    if (keep !== "first") {
      live.forEach(function (p) {
        if (units[p].amount.gt(units[winner].amount)) winner = p;
      });
    }
    return live.filter(function (p) { return p !== winner; }).map(function (p) {
      return [p, winner];
    });
  }
  function drop(loser, winner, excId, winnerId, isProgram) {
    if (winner.status === "eligible") {
      loser.status = "ineligible";
      loser.missing = [];
    } else {
      loser.status = "undetermined";
      var s = new Set(loser.missing.concat(winner.missing));
      loser.missing = Array.from(s).sort(pyCmp);
    }
    loser.amount = ZERO;
    if (isProgram) loser.excluded_by = excId + ": " + winnerId;
    loser.reasons = loser.reasons.concat([{ condition: "excluded_by_" + winnerId,
      label: { zh: "不与" + winnerId + "同时享受", en: "not paid together with " + winnerId },
      expression: "exclusion " + excId,
      result: loser.status === "undetermined" ? null : false, missing: [] }]);
  }
  function exclude(bound, exc, outcomes, ctx) {
    var present = exc.programs.filter(function (p) { return p in outcomes; });
    var allMember = present.every(function (p) { return outcomes[p].members !== null; });
    if (allMember) {
      var mids = Object.keys(outcomes[present[0]].members);
      mids.forEach(function (mid, i) {
        var md = ctx.members[i];
        var units = {};
        present.forEach(function (p) { units[p] = outcomes[p].members[mid]; });
        losers(exc.keep, present, units).forEach(function (lw) {
          drop(units[lw[0]], units[lw[1]], exc.id, lw[1], false);
          md["programs." + lw[0] + ".eligible"] = units[lw[0]].status === "ineligible" ? false
            : unknownOf(units[lw[0]].missing);
          md["programs." + lw[0] + ".amount"] = ZERO;
        });
      });
      present.forEach(function (p) {
        var o = outcomes[p];
        var t = memberTotal(p, bound.pack.programs[p], o.members);
        o.status = t.status;
        o.amount = t.amount;
        o.missing = t.missing;
        storeHousehold(p, o, ctx);
      });
      return;
    }
    var units = {};
    present.forEach(function (p) { units[p] = outcomes[p]; });
    losers(exc.keep, present, units).forEach(function (lw) {
      var loser = units[lw[0]];
      drop(loser, units[lw[1]], exc.id, lw[1], true);
      if (loser.members) {
        Object.keys(loser.members).forEach(function (k) {
          loser.members[k].status = loser.status;
          loser.members[k].amount = ZERO;
        });
      }
      storeHousehold(lw[0], loser, ctx);
    });
  }

  /* Evaluate ``household`` (the canonical JSON) with ``pack`` on ``on`` (YYYY-MM-DD). */
  function evaluate(pack, household, on, opts) {
    var explain = !!(opts && opts.explain);
    var bound = opts && opts.bound && opts.bound.date === on ? opts.bound : bind(pack, on);
    var hh = householdFacts(household, on, pack.program_ids);
    var ctx = { bound: bound, hh: hh, members: memberFacts(pack, household, on), loops: {} };
    var activeSet = new Set(bound.active);
    pack.order.forEach(function (pid) {
      if (activeSet.has(pid)) return;
      hh["programs." + pid + ".eligible"] = false;
      hh["programs." + pid + ".amount"] = ZERO;
      ctx.members.forEach(function (md) {
        md["programs." + pid + ".eligible"] = false;
        md["programs." + pid + ".amount"] = ZERO;
      });
    });
    var memberIds = household.members.map(function (m) { return m.id; });
    var outcomes = {};
    bound.active.forEach(function (pid) {
      outcomes[pid] = run(bound, pid, ctx, memberIds, explain);
      (bound.resolveAfter[pid] || []).forEach(function (exc) {
        exclude(bound, exc, outcomes, ctx);
      });
    });
    var programs = {};
    pack.program_ids.forEach(function (pid) {
      var o = outcomes[pid];
      if (!o) {
        var p = pack.programs[pid];
        o = { id: pid, label: p.label, unit: p.unit, status: "ineligible", amount: ZERO,
          missing: [], excluded_by: null, members: null,
          reasons: [{ condition: "in_force", label: { zh: "政策在评估日有效",
            en: "in force on the date" }, expression: "in_force " + JSON.stringify(p.in_force),
            result: false, missing: [] }] };
      }
      programs[pid] = o;
    });
    // tags and needs, in the pack's declared order (as the reference's _relief)
    var needs = [], tags = [], undetermined = {};
    var assessed = new Set(household.assessed_needs || []);
    Object.keys(pack.needs).forEach(function (lid) {
      var n = pack.needs[lid];
      var v = n.expr ? ev(n.expr.tree, ctx, null) : null;
      if (v === true || assessed.has(lid)) {
        needs.push(lid);
        hh["needs." + lid] = true;
      } else if (isU(v)) {
        (undetermined.needs = undetermined.needs || []).push(lid);
        hh["needs." + lid] = v;
      } else hh["needs." + lid] = false;
    });
    Object.keys(pack.tags).forEach(function (tid) {
      var v = ev(pack.tags[tid].tree, ctx, null);
      if (v === true) tags.push(tid);
      else if (isU(v)) (undetermined.tags = undetermined.tags || []).push(tid);
    });
    return { pack: pack.id, date: on, household: household.id, programs: programs, tags: tags,
      needs: needs, undetermined: undetermined, bound: bound };
  }

  /* The result in the shape of the CLI's JSON (amounts as text, CNY to the fen half up). */
  function amountText(amount, unit) {
    return unit.indexOf("CNY") === 0 ? amount.toFixed(2, 4) : amount.toFixed();
  }
  function summary(result) {
    var out = {};
    Object.keys(result.programs).forEach(function (pid) {
      var o = result.programs[pid];
      out[pid] = { status: o.status, amount: amountText(o.amount, o.unit), missing: o.missing };
      if (o.excluded_by) out[pid].excluded_by = o.excluded_by;
      if (o.members) {
        out[pid].members = {};
        Object.keys(o.members).forEach(function (mid) {
          var mo = o.members[mid];
          out[pid].members[mid] = [mo.status, amountText(mo.amount, "CNY")];
        });
      }
    });
    return { programs: out, tags: result.tags, needs: result.needs };
  }

  return { Decimal: D, Unknown: Unknown, EvalError: EvalError, bind: bind, evaluate: evaluate,
    summary: summary, show: show, quantize: quantize, amountText: amountText, paramValue: paramValue };
});
