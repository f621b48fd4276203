/* stationmap planner page: two scenarios side by side (issue 16, part 5).
 *
 * GET /api/v1/coverage/compare with scenario A's form and B's changes (b_mode, b_minutes, b_at,
 * b_sites, b_version: B asked of the register as it stood at that version; the page shows
 * today's): json for the per-district changes, totals and legend; cells for the difference map,
 * drawn by the heat layer (static/heat.js) with one colour per change (stationmap/maps/style.py
 * DIFF_COLOURS: gained, lost, covered in both, a gap in both). District names are untrusted text:
 * they only enter the page through textContent. Used by coverage.js; it owns the map and the form.
 */
var stationmapCompare = (function () {
  "use strict";

  var B_FIELDS = ["b_mode", "b_minutes", "b_at", "b_sites", "b_version"];

  function setup(ctx) {
    var T = ctx.text, el = stationmap.el;
    var newest = ctx.registerVersion;          // today's register version (null: a file, no history)
    var box = document.getElementById("compare-box");
    var toggle = document.getElementById("compare");
    var result = document.getElementById("compare-result");
    var changes = document.getElementById("changes");
    var headRow = changes.querySelector("thead tr");
    ctx.columns.forEach(function (c) {
      headRow.appendChild(el("th", { scope: "col", "data-key": c.key }, c.label));
    });

    function on() { return toggle.checked; }
    function sync() { box.classList.toggle("on", on()); }
    toggle.addEventListener("change", sync);
    sync();

    // Presets fill B (and A's minutes for "10 vs 15") and ask at once.
    box.querySelectorAll("button.preset").forEach(function (button) {
      button.addEventListener("click", function () {
        var f = ctx.inputs;
        toggle.checked = true;
        sync();
        var version = f.b_version.value;
        f.b_mode.value = ""; f.b_minutes.value = ""; f.b_at.value = ""; f.b_sites.value = "0"; f.b_version.value = "";
        if (button.dataset.preset === "night") { f.at.value = ""; f.b_at.value = "02:00"; }
        if (button.dataset.preset === "minutes") { f.minutes.value = "10"; f.b_minutes.value = "15"; }
        if (button.dataset.preset === "sites") { f.b_sites.value = "5"; }
        // Today against an earlier version: the one in the field if any, else the one before today's.
        if (button.dataset.preset === "version") {
          f.b_version.value = version || String(Math.max(1, (newest || 1) - 1));
          f.b_version.focus();
        }
        B_FIELDS.concat(["minutes", "at"]).forEach(function (k) { delete f[k].dataset.invalid; });
        ctx.ask();
      });
    });

    // B's rules, checked here so each reason is in the page's language next to its field.
    function problems(inputs) {
      var out = {};
      if (!on()) return out;
      var m = inputs.b_minutes.dataset.invalid || inputs.b_minutes.value;
      if (m && (!/^\d+(\.\d+)?$/.test(m) || +m < 1 || +m > 60)) out.b_minutes = T.bad_b_minutes;
      var s = inputs.b_sites.dataset.invalid || inputs.b_sites.value || "0";
      if (!/^\d+$/.test(s) || +s > 20) out.b_sites = T.bad_b_sites;
      var mode = inputs.b_mode.dataset.invalid;
      if (mode) out.b_mode = T.bad_b_mode;
      var at = inputs.b_at.dataset.invalid || inputs.b_at.value;
      if (at && !/^([01]\d|2[0-3]):[0-5]\d/.test(at)) out.b_at = T.bad_b_at;
      var v = inputs.b_version.dataset.invalid || inputs.b_version.value;
      if (v && (!newest || !/^\d+$/.test(v) || +v < 1 || +v > newest)) out.b_version = T.bad_b_version;
      return out;
    }

    function query(base, inputs) {
      var q = new URLSearchParams(base);
      ["recommend"].forEach(function (k) { q.delete(k); });
      if (inputs.b_mode.value) q.set("b_mode", inputs.b_mode.value);
      if (inputs.b_minutes.value) q.set("b_minutes", inputs.b_minutes.value);
      if (inputs.b_at.value) q.set("b_at", inputs.b_at.value.slice(0, 5));
      if (inputs.b_sites.value && inputs.b_sites.value !== "0") q.set("b_sites", inputs.b_sites.value);
      if (inputs.b_version.value) q.set("b_version", inputs.b_version.value);
      return q;
    }

    function url(q, f) {
      var copy = new URLSearchParams(q);
      copy.set("f", f);
      return "/api/v1/coverage/compare?" + copy.toString();
    }

    function signed(v, digits) {
      if (v === null || v === undefined) return "—";
      var text = digits ? v.toFixed(digits) : Math.round(v).toLocaleString(ctx.locale);
      return v > 0 ? "+" + text : text;
    }

    function renderTable(rows) {
      var body = changes.querySelector("tbody");
      body.textContent = "";
      rows.forEach(function (row) {
        var tr = el("tr", { "data-adcode": row.adcode });
        ctx.columns.forEach(function (c) {
          var v = row[c.key];
          if (c.key === "name") { tr.appendChild(el("th", { scope: "row" }, ctx.names[row.adcode] || row.name)); return; }
          var delta = /_delta$/.test(c.key);
          var text = v === null || v === undefined ? "—"
            : delta ? signed(v, c.key === "area_covered_pct_delta" ? 2 : 0)
            : /_pct_/.test(c.key) ? v.toFixed(2) : /_km2$/.test(c.key) ? v.toFixed(3) : Math.round(v).toLocaleString(ctx.locale);
          tr.appendChild(el("td", { "class": "num" + (delta && v > 0 ? " up" : delta && v < 0 ? " down" : "") }, text));
        });
        body.appendChild(tr);
      });
    }

    function drawLegend(legend) {
      var box = document.getElementById("legend");
      box.textContent = "";
      box.appendChild(el("strong", {}, T.diff_title));
      var scale = el("span", { "class": "diff-scale" });
      legend.forEach(function (k) {
        var key = el("span", { "class": "key diff", "data-change": k.key, "data-colour": k.colour });
        key.appendChild(el("i", { style: "background:" + k.colour }));
        key.appendChild(document.createTextNode(k.label));
        scale.appendChild(key);
      });
      box.appendChild(scale);
      ctx.legendExtras(box);
    }

    function renderTotals(body) {
      var t = body.totals, dl = document.getElementById("totals");
      dl.textContent = "";
      [[T.scenario_a, body.scenarios.a.label], [T.scenario_b, body.scenarios.b.label],
       [T.covered + " A → B", t.area_covered_pct_a.toFixed(1) + "% → " + t.area_covered_pct_b.toFixed(1) + "% (" +
        signed(t.area_covered_pct_delta, 2) + ")"],
       [T.people_delta, signed(t.population_covered_delta, 0)]].forEach(function (pair) {
        dl.appendChild(el("dt", {}, pair[0]));
        dl.appendChild(el("dd", {}, pair[1]));
      });
    }

    function links(q) {
      [["dl-csv", "csv", T.compare_csv], ["dl-xlsx", "xlsx", T.compare_xlsx], ["dl-geojson", "geojson", T.compare_geojson]]
        .forEach(function (d) {
          var a = document.getElementById(d[0]);
          a.setAttribute("href", url(q, d[1]));
          a.removeAttribute("download");
          a.setAttribute("download", "");
          a.textContent = d[2];
          a.hidden = false;
        });
      document.getElementById("dl-html").hidden = true;
      document.getElementById("downloads").hidden = false;
      document.getElementById("site-downloads").dataset.off = "1";
    }

    // Ask both answers; draw the difference map, its legend, the table; ``ticket`` guards against a newer question.
    function run(ticket, base, inputs) {
      var q = query(base, inputs);
      links(q);
      document.getElementById("table-wrap").hidden = true;
      return ctx.getJson(url(q, "json")).then(function (body) {
        if (!ctx.current(ticket)) return null;
        return ctx.getJson(url(q, "cells")).then(function (cells) {
          if (!ctx.current(ticket)) return null;
          ctx.heat.setData(cells);
          drawLegend(body.legend);
          renderTable(body.districts);
          renderTotals(body);
          ctx.drawSites(body.sites || []);
          document.getElementById("compare-scenarios").textContent = body.assumptions;
          document.getElementById("assumptions").textContent = body.assumptions;
          result.hidden = false;
          changes.setAttribute("data-ready", q.toString());
          ctx.paintDistricts(body.districts, function (row) {
            return row.area_covered_pct_a.toFixed(0) + "→" + row.area_covered_pct_b.toFixed(0) + "%";
          });
          return T.compare_done.replace("{n}", body.districts.length).replace("{g}", body.totals.km2.gained.toFixed(2))
            .replace("{l}", body.totals.km2.lost.toFixed(2));
        });
      });
    }

    function clear() {
      result.hidden = true;
      changes.removeAttribute("data-ready");
      changes.querySelector("tbody").textContent = "";
      document.getElementById("table-wrap").hidden = false;
      [["dl-csv", T.csv], ["dl-xlsx", T.xlsx], ["dl-geojson", T.geojson]].forEach(function (d) {
        document.getElementById(d[0]).textContent = d[1];
      });
    }

    return { on: on, problems: problems, run: run, clear: clear, sync: sync };
  }

  return { setup: setup, B_FIELDS: B_FIELDS };
})();
