/* stationmap planner page: coverage by district, its gaps, new sites, downloads.
 *
 * Everything comes from GET /api/v1/coverage with the form's parameters: json for the table and
 * sites, cells for the heat layer (minutes to the nearest open station, stationmap/heat.py),
 * geojson for the gaps' edges; downloads are links to the same API. The URL carries every
 * option, so a shared link opens the same answer; invalid values are explained next to their
 * field in the page's language, and the previous answer is cleared. District and station names are
 * untrusted text: they only ever enter the page through textContent. Overlays are requested in
 * the base map's coordinate system (GCJ-02 on AMap tiles).
 */
(function () {
  "use strict";

  var settings = stationmap.settings();
  var T = settings.text;
  var display = settings.tiles.coordsys;
  var form = document.getElementById("controls");
  var statusEl = document.getElementById("status");
  var table = document.getElementById("table");
  var P = settings.palette;                // stationmap/maps/style.py: one palette for every map
  var state = { districts: [], sortKey: null, sortDir: "ascending", ticket: 0 };

  var el = stationmap.el;

  // -- controls ----------------------------------------------------------------------
  var names = {};                 // the page's language (district names in the report are Chinese)
  settings.districts.forEach(function (d) { names[d.adcode] = d.name; });
  var area = document.getElementById("area");
  area.appendChild(el("option", { value: settings.area }, T.whole));
  settings.districts.forEach(function (d) { area.appendChild(el("option", { value: d.adcode }, d.name)); });

  // -- the URL remembers the form ------------------------------------------------------
  // Scenario B's fields (coverage_compare.js) travel in the URL too, with compare=1: a shared link restores the comparison.
  var FIELDS = ["adcode", "mode", "minutes", "at", "recommend"].concat(stationmapCompare.B_FIELDS);
  var inputs = { adcode: area, mode: document.getElementById("mode"), minutes: document.getElementById("minutes"),
                 at: document.getElementById("at"), recommend: document.getElementById("recommend") };
  stationmapCompare.B_FIELDS.forEach(function (k) { inputs[k] = document.getElementById(k); });
  var compareBox = document.getElementById("compare");
  (function restore() {
    var q = new URLSearchParams(location.search);
    compareBox.checked = q.get("compare") === "1";
    FIELDS.forEach(function (k) {
      if (!q.has(k)) return;
      var v = q.get(k);
      if (k === "adcode" && !Array.prototype.some.call(area.options, function (o) { return o.value === v; })) {
        area.dataset.invalid = v;               // explained by check(), not silently replaced
        return;
      }
      inputs[k].value = v;
      if (inputs[k].value !== v && k !== "at" && k !== "b_at") inputs[k].dataset.invalid = v;
      if (k === "b_at" && !inputs[k].value) inputs[k].dataset.invalid = v;      // a time input drops what it cannot read
    });
  })();

  function remember() {
    var q = new URLSearchParams(location.search);
    FIELDS.forEach(function (k) {
      var v = inputs[k].value;
      if (v && !((k === "recommend" || k === "b_sites") && v === "0")) q.set(k, /at$/.test(k) ? v.slice(0, 5) : v);
      else q.delete(k);
    });
    if (compareBox.checked) q.set("compare", "1"); else q.delete("compare");
    history.replaceState(null, "", location.pathname + "?" + q.toString());
  }

  // Each field's rule, checked here so the reason is in the page's language, next to the field.
  function problems() {
    var out = {};
    if (area.dataset.invalid) out.adcode = T.bad_area;
    var m = inputs.minutes.dataset.invalid || inputs.minutes.value;
    if (!/^\d+(\.\d+)?$/.test(m) || +m < 1 || +m > 60) out.minutes = T.bad_minutes;
    var r = inputs.recommend.dataset.invalid || inputs.recommend.value || "0";
    if (!/^\d+$/.test(r) || +r > 20) out.recommend = T.bad_recommend;
    var at = inputs.at.value;
    if (at && !/^([01]\d|2[0-3]):[0-5]\d/.test(at)) out.at = T.bad_at;
    var b = comparing.problems(inputs);
    Object.keys(b).forEach(function (k) { out[k] = b[k]; });
    return out;
  }

  function showProblems(found) {
    FIELDS.forEach(function (k) {
      var box = document.getElementById("err-" + k);
      box.textContent = found[k] || "";
      if (found[k]) inputs[k].setAttribute("aria-invalid", "true"); else inputs[k].removeAttribute("aria-invalid");
    });
  }

  function params() {
    var q = new URLSearchParams({ adcode: area.value, mode: document.getElementById("mode").value,
                                  minutes: document.getElementById("minutes").value || "15",
                                  recommend: document.getElementById("recommend").value || "0",
                                  lang: settings.lang, coordsys: display });
    var at = document.getElementById("at").value;
    if (at) q.set("at", at.slice(0, 5));
    return q;
  }

  function apiUrl(f) {
    var q = params();
    q.set("f", f);
    return "/api/v1/coverage?" + q.toString();
  }

  // -- map ---------------------------------------------------------------------------
  var map = L.map("map", { preferCanvas: true, maxZoom: settings.tiles.max_zoom }).setView([31.2, 121.45], 9);
  stationmap.baseMap(map, settings.tiles, T.no_tiles);
  var outlines = null;
  var heat = new stationmapHeat.Layer({ opacity: P.opacity, pane: "overlayPane" });
  var gapsLayer = L.layerGroup();               // the gaps' edges, a thin vermillion line over the heat
  var heatGroup = L.layerGroup([heat, gapsLayer]).addTo(map);
  var districtsLayer = L.layerGroup().addTo(map);
  var sitesLayer = L.layerGroup().addTo(map);
  var stationsLayer = L.layerGroup();
  var siteMarkers = [];
  window.stationmapCoverage = { map: map, heat: heat, gaps: gapsLayer, sites: sitesLayer, stations: stationsLayer,
                                districts: districtsLayer, timings: {} };

  var outlinesReady = fetch("/api/v1/districts?coordsys=" + display + "&lang=" + settings.lang)
    .then(function (r) { return r.json(); })
    .then(function (geojson) {
      // Outlines only: a district's coverage is its label, never a fill under the heat.
      outlines = L.geoJSON(geojson, { style: { color: P.outline, weight: 1.4, opacity: 0.9, fill: true, fillOpacity: 0 } });
      outlines.eachLayer(function (layer) {
        var tip = el("span");
        tip.textContent = names[layer.feature.properties.adcode] || layer.feature.properties.name;
        layer.bindTooltip(tip, { sticky: true });
      });
      outlines.addTo(districtsLayer);
      map.fitBounds(outlines.getBounds(), { animate: false });
    });

  var labels = L.layerGroup().addTo(districtsLayer);
  // ``labelOf(row)``: a district's label (default: its share covered; a comparison: "A→B%").
  function paintDistricts(rows, labelOf) {
    if (!outlines) return;
    var byCode = {};
    rows.forEach(function (r) { byCode[r.adcode] = r; });
    labels.clearLayers();
    outlines.eachLayer(function (layer) {
      var p = layer.feature.properties;
      var row = byCode[p.adcode];
      layer.setStyle(row ? { color: P.outline, weight: 1.6, opacity: 0.95 } : { color: "#777", weight: 0.8, opacity: 0.6 });
      var tip = el("span");
      var label = names[p.adcode] || p.name;
      var share = row && (labelOf ? labelOf(row) : row.area_covered_pct.toFixed(0) + "%");
      tip.textContent = row ? label + " · " + T.covered + " " + share : label;
      layer.setTooltipContent(tip);
      if (row) {
        // The share as a label at the district's inside point (the server's largest-gap centre is no such point).
        var centre = layer.getBounds().getCenter();
        L.marker(centre, { interactive: false, keyboard: false,
                           icon: L.divIcon({ className: "district-label", iconSize: null,
                                             html: "<span>" + share + "</span>" }) })   // numbers only
          .addTo(labels);
      }
    });
    if (rows.length === 1) {
      outlines.eachLayer(function (layer) {
        if (layer.feature.properties.adcode === rows[0].adcode) map.fitBounds(layer.getBounds(), { animate: false });
      });
    } else {
      map.fitBounds(outlines.getBounds(), { animate: false });
    }
  }

  function drawGaps(geojson) {
    gapsLayer.clearLayers();
    L.geoJSON(geojson, { interactive: false,
                         style: { weight: 0.8, color: P.gap, opacity: 0.9, fill: false } }).addTo(gapsLayer);
  }

  function km(m) {
    return m === null || m === undefined ? "—" : m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(2) + " km";
  }

  function siteCard(s) {
    var box = el("div", { "class": "site-card" });
    box.appendChild(el("strong", {}, T.site + " " + s.rank));
    var dl = el("dl");
    [[T.gain, "+" + Math.round(s.gain).toLocaleString()],
     [T.district, s.district || "—"],
     [T.nearest, s.nearest_station ? s.nearest_station + " · " + km(s.nearest_station_m) : T.no_station],
     ["WGS-84", s.wgs84_lat.toFixed(6) + ", " + s.wgs84_lon.toFixed(6)],
     ["GCJ-02", s.gcj02_lat.toFixed(6) + ", " + s.gcj02_lon.toFixed(6)]].forEach(function (pair) {
      dl.appendChild(el("dt", {}, pair[0]));
      dl.appendChild(el("dd", {}, pair[1]));
    });
    box.appendChild(dl);
    if (/^https:\/\/uri\.amap\.com\//.test(s.amap)) {
      box.appendChild(el("a", { href: s.amap, target: "_blank", rel: "noopener noreferrer", "class": "amap" }, T.amap));
    }
    return box;
  }

  // Numbered markers at the sites' true positions; markers that would overlap at this zoom are
  // fanned out (the badge moves, a short line points back to the spot), so none hides another.
  function spread() {
    var placed = [];
    siteMarkers.forEach(function (m) {
      var p = map.latLngToLayerPoint(m.getLatLng()), dx = 0, dy = 0, turn = 0;
      while (placed.some(function (q) { return Math.abs(q.x - (p.x + dx)) < 26 && Math.abs(q.y - (p.y + dy)) < 26; }) && turn < 24) {
        turn++;
        dx = Math.round(Math.cos(turn * 1.1) * 14 * (1 + turn / 3));
        dy = Math.round(Math.sin(turn * 1.1) * 14 * (1 + turn / 3));
      }
      placed.push(L.point(p.x + dx, p.y + dy));
      var badge = m.getElement() && m.getElement().querySelector("b");
      if (badge) badge.style.transform = "translate(" + dx + "px," + dy + "px)";
      m.getElement() && m.getElement().setAttribute("data-offset", dx + "," + dy);
    });
  }
  map.on("zoomend", spread);

  function drawSites(sites) {
    sitesLayer.clearLayers();
    siteMarkers = [];
    var list = document.getElementById("sites");
    list.textContent = "";
    document.getElementById("sites-head").hidden = !sites.length;
    document.getElementById("site-downloads").hidden = !sites.length || !!document.getElementById("site-downloads").dataset.off;
    sites.forEach(function (s) {
      var marker = L.marker([s.lat, s.lon], {
        title: T.site + " " + s.rank, alt: T.site + " " + s.rank, riseOnHover: true,
        icon: L.divIcon({ className: "site-marker", iconSize: [26, 26], iconAnchor: [13, 13], popupAnchor: [0, -12],
                          html: "<b style=\"background:" + P.site + "\">" + Number(s.rank) + "</b>" }) });
      marker.bindPopup(siteCard(s), { maxWidth: 300 });
      marker.addTo(sitesLayer);
      siteMarkers.push(marker);
      var item = el("li", { "data-rank": s.rank });
      var button = el("button", { type: "button", "class": "site-link" },
                      T.site + " " + s.rank + ": +" + Math.round(s.gain).toLocaleString() + " (" + T.gain + ")");
      button.addEventListener("click", function () {
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 15), { animate: false });
        marker.openPopup();
      });
      item.appendChild(button);
      item.appendChild(el("span", { "class": "site-where" },
        (s.district || "—") + " · " + T.nearest + " " + (s.nearest_station ? km(s.nearest_station_m) : "—") +
        " · WGS-84 " + s.wgs84_lat.toFixed(5) + ", " + s.wgs84_lon.toFixed(5) +
        " · GCJ-02 " + s.gcj02_lat.toFixed(5) + ", " + s.gcj02_lon.toFixed(5)));
      list.appendChild(item);
    });
    spread();
  }

  // Layers: each checkbox shows or hides one.
  [["layer-heat", heatGroup], ["layer-districts", districtsLayer], ["layer-sites", sitesLayer]].forEach(function (pair) {
    document.getElementById(pair[0]).addEventListener("change", function (e) {
      e.stopPropagation();                     // not a new question
      if (e.target.checked) pair[1].addTo(map); else map.removeLayer(pair[1]);
      if (pair[1] === sitesLayer) spread();
    });
  });

  // Stations (optional): those the report counted, i.e. open at the chosen time.
  var stationsTicket = 0;
  function loadStations() {
    stationsLayer.clearLayers();
    if (!document.getElementById("show-stations").checked) { map.removeLayer(stationsLayer); return; }
    stationsLayer.addTo(map);
    var ticket = ++stationsTicket;
    var q = new URLSearchParams({ limit: "1000", lang: settings.lang });
    if (state.at) q.set("open_at", state.at);        // the moment the report counted, as the server read it
    (function page(url) {
      fetch(url).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
        if (!body || ticket !== stationsTicket) return;
        body.results.forEach(function (s) {
          var p = display === "gcj02" ? s.gcj02 : [s.lon, s.lat];
          L.circleMarker([p[1], p[0]], { radius: 3, weight: 1, color: "#fff", fillColor: "#0b57d0", fillOpacity: 1 })
            .bindTooltip(el("span", {}, s.name)).addTo(stationsLayer);
        });
        if (body.next) page(body.next.replace(/^https?:\/\/[^/]+/, ""));
      });
    })("/api/v1/stations?" + q.toString());
  }
  document.getElementById("show-stations").addEventListener("change", function (e) { e.stopPropagation(); loadStations(); });

  // Legend: the heat bands (the threshold is the edge before the vermillion gap band), outlines, sites.
  function drawLegend(bands, unit) {
    var box = document.getElementById("legend");
    stationmapHeat.legend(box, bands, unit === "min" ? T.min : "m", { title: T.heat_title, gap: T.gaps });
    legendExtras(box);
  }

  function legendExtras(box) {    var outline = el("span", { "class": "key" });
    outline.appendChild(el("i", { "class": "outline", style: "border-color:" + P.outline }));
    outline.appendChild(document.createTextNode(T.district_outline));
    box.appendChild(outline);
    var site = el("span", { "class": "key" });
    site.appendChild(el("i", { style: "background:" + P.site + ";border-radius:50%" }));
    site.appendChild(document.createTextNode(T.sites));
    box.appendChild(site);
  }

  // -- table -------------------------------------------------------------------------
  var columns = settings.columns;
  var headRow = table.querySelector("thead tr");
  columns.forEach(function (c) {
    var th = el("th", { scope: "col", "data-key": c.key, "aria-sort": "none" });
    var button = el("button", { type: "button" }, c.label);
    button.addEventListener("click", function () { sortBy(c.key); });
    th.appendChild(button);
    headRow.appendChild(th);
  });

  function compare(key, dir) {
    var sign = dir === "ascending" ? 1 : -1;
    return function (a, b) {
      var x = a[key], y = b[key];
      if (x === null || x === undefined) return (y === null || y === undefined) ? 0 : 1;   // empty cells last
      if (y === null || y === undefined) return -1;
      if (typeof x === "number" && typeof y === "number") return sign * (x - y);
      return sign * String(x).localeCompare(String(y), settings.lang === "zh" ? "zh-CN" : "en");
    };
  }

  function sortBy(key) {
    state.sortDir = state.sortKey === key && state.sortDir === "ascending" ? "descending" : "ascending";
    state.sortKey = key;
    renderRows();
  }

  function cellText(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
    return String(value);
  }

  function renderRows() {
    var rows = state.districts.slice();
    if (state.sortKey) rows.sort(compare(state.sortKey, state.sortDir));
    headRow.querySelectorAll("th").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.key === state.sortKey ? state.sortDir : "none");
    });
    var body = table.querySelector("tbody");
    body.textContent = "";
    rows.forEach(function (row) {
      var tr = el("tr", { "data-adcode": row.adcode });
      columns.forEach(function (c) {
        var value = c.key === "name" ? names[row.adcode] || row.name : row[c.key];
        tr.appendChild(el(c.key === "name" ? "th" : "td", c.key === "name" ? { scope: "row" } :
                          { "class": typeof value === "number" ? "num" : "" }, cellText(value)));
      });
      body.appendChild(tr);
    });
  }

  function renderTotals(totals) {
    var box = document.getElementById("totals");
    box.textContent = "";
    function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
    [[T.stations, totals.stations], [T.covered, pct(totals.area_covered_pct)],
     [totals.demand ? T.demand_covered : T.people_covered, pct(totals.population_covered_pct)]]
      .forEach(function (pair) {
        box.appendChild(el("dt", {}, T.totals + " · " + pair[0]));
        box.appendChild(el("dd", {}, pair[1]));
      });
  }

  // -- scenarios side by side (coverage_compare.js) ---------------------------------------
  var comparing = stationmapCompare.setup({
    text: T, inputs: inputs, columns: settings.changes, names: names, heat: heat, drawSites: drawSites,
    paintDistricts: function (rows, labelOf) { return outlinesReady.then(function () { paintDistricts(rows, labelOf); }); },
    legendExtras: legendExtras, locale: settings.lang === "zh" ? "zh-CN" : "en",
    registerVersion: settings.register_version,
    getJson: function (url) { return getJson(url); },
    current: function (ticket) { return ticket === state.ticket; },
    ask: function () { compute(); }
  });

  // -- compute -----------------------------------------------------------------------
  // A refusal names its parameters: each is explained next to its field in the page's language.
  function failure(response) {
    return response.json().then(function (body) {
      var found = {};
      var demandProblems = [];
      (body.errors || []).forEach(function (e) {
        if (e.parameter === "demand" || e.parameter === "demand_coordsys") {
          demandProblems.push((e.row ? T.bad_demand_row.replace("{row}", e.row).replace("{column}", e.column || "") : "") +
                              e.reason);
          return;
        }
        var k = e.parameter === "radius_m" ? "minutes" : e.parameter;
        if (inputs[k]) found[k] = T["bad_" + (k === "adcode" ? "area" : k)] || T.error;
      });
      showProblems(found);
      if (demandProblems.length) {
        document.getElementById("err-demand").textContent = demandProblems.join("；");
        document.getElementById("demand").setAttribute("aria-invalid", "true");
        throw new Error(T.bad_demand);
      }
      var error = new Error(Object.keys(found).length ? T.fix_fields : T.error);
      throw error;
    }, function () { throw new Error(T.error); });
  }

  function getJson(url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : failure(r); });
  }

  function links() {
    ["dl-geojson", "dl-html"].forEach(function (k) { document.getElementById(k).hidden = false; });
    delete document.getElementById("site-downloads").dataset.off;
    ["csv", "xlsx", "geojson", "html", "sites-csv", "sites-xlsx", "sites-geojson"].forEach(function (f) {
      document.getElementById("dl-" + f).setAttribute("href", apiUrl(f));
    });
    // The other files are named by the server (Content-Disposition); the GeoJSON is a plain API answer.
    document.getElementById("dl-geojson").setAttribute("download", "coverage-gaps-" + area.value + ".geojson");
  }

  // The previous answer does not answer this form: take it off the page rather than leave it looking current.
  function clearAnswer() {
    comparing.clear();
    state.districts = [];
    renderRows();
    document.getElementById("totals").textContent = "";
    document.getElementById("assumptions").textContent = "";
    drawSites([]);
    heat.setData(null);
    gapsLayer.clearLayers();
    labels.clearLayers();
    table.removeAttribute("data-ready");
    document.getElementById("downloads").hidden = true;
  }

  function finish(ticket, message) {
    if (ticket !== state.ticket) return;
    document.body.classList.remove("busy");
    form.removeAttribute("aria-busy");
    statusEl.textContent = message;
  }

  // -- long questions as jobs (coverage_jobs.js): stages, a progress bar, cancel, the id in the URL --
  var jobBox = document.getElementById("job");
  var jobBar = document.getElementById("job-bar");
  var jobStage = document.getElementById("job-stage");
  var running = null;                          // the job this page watches

  function jobInUrl(id) {
    var q = new URLSearchParams(location.search);
    if (id) q.set("job", id); else q.delete("job");
    history.replaceState(null, "", location.pathname + "?" + q.toString());
  }

  function showJob(s) {
    if (s.lost) { statusEl.textContent = T.job_lost; return; }
    if (running && running.id()) jobInUrl(running.id());
    var d = s.detail || {};
    var value = s.progress, text;
    if (s.state === "queued") text = T.job_queued;
    else if (s.stage === "sampling" && d.total) {
      text = T.job_sampling.replace("{d}", d.districts).replace("{t}", d.total)
        .replace("{c}", Number(d.cells || 0).toLocaleString(settings.lang === "zh" ? "zh-CN" : "en"));
    } else if (s.stage === "solver" && d.limit_s) {
      text = T.job_solver.replace("{n}", d.sites).replace("{s}", Math.round(s.stage_s || 0)).replace("{l}", d.limit_s);
      value = Math.min(1, (s.stage_s || 0) / d.limit_s);
    } else text = T["job_" + s.stage] || T.computing;
    if (value === null || value === undefined) jobBar.removeAttribute("value"); else jobBar.value = value;
    jobStage.textContent = text;
    jobBox.dataset.stage = s.stage || "";
    jobBox.dataset.state = s.state || "";
    jobBox.hidden = false;
  }

  function endJob() {
    running = null;
    jobBox.hidden = true;
    jobInUrl(null);
  }

  document.getElementById("cancel").addEventListener("click", function () {
    if (running) running.cancel(true);       // the pool stops the work; the promise ends as cancelled
  });

  // -- drawing an answer -------------------------------------------------------------
  function showBody(body) {
    state.districts = body.districts;
    state.at = body.query.at;
    renderRows();
    renderTotals(body.totals);
    drawSites(body.recommendations);
    document.getElementById("downloads").hidden = false;
    document.getElementById("assumptions").textContent = body.assumptions;
    var d = body.query.demand;
    document.getElementById("demand-note").textContent = d
      ? T.with_demand.replace("{file}", d.file).replace("{n}", d.points)
          .replace("{inside}", body.totals.demand ? body.totals.demand.points_inside : "—")
      : T.no_demand;
    return outlinesReady.then(function () { paintDistricts(body.districts); });
  }

  function showHeat(cells, started) {
    heat.setData(cells);
    drawLegend(cells.bands, cells.unit);
    window.stationmapCoverage.timings.heat_ms = performance.now() - started;
  }

  function showDone(ticket, body, gaps) {
    drawGaps(gaps);
    finish(ticket, T.done.replace("{n}", body.districts.length));
    table.setAttribute("data-ready", params().toString());
    if (document.getElementById("show-stations").checked) loadStations();
  }

  function failed(ticket, error) {
    if (ticket !== state.ticket) return;
    var cancelled = error instanceof stationmapJobs.Cancelled;
    endJob();
    var explained = error && error.response ? failure(error.response) : Promise.reject(error);
    explained.catch(function (e) {
      if (ticket !== state.ticket) return;
      clearAnswer();
      finish(ticket, cancelled ? T.cancelled : e && e.message && e.message !== "refused" ? e.message : T.error);
    });
  }

  // Without a pool (serve --dev): the three answers asked one after the other, drawn as they come.
  function direct(ticket, started) {
    return getJson(apiUrl("json")).then(function (body) {
      if (ticket !== state.ticket) return null;
      return showBody(body)
        .then(function () { return getJson(apiUrl("cells")); })
        .then(function (cells) {
          if (ticket !== state.ticket) return null;
          showHeat(cells, started);
          return getJson(apiUrl("geojson"));
        })
        .then(function (gaps) { if (gaps && ticket === state.ticket) showDone(ticket, body, gaps); });
    });
  }

  function demandFile() {
    var input = document.getElementById("demand");
    return input && input.files && input.files.length ? input.files[0] : null;
  }

  // Downloads of a question with uploaded demand: the tables the job made; the other files
  // (gaps, map, sites) are computed without the upload, so they are not offered for it.
  function jobLinks(id) {
    var base = "/api/v1/coverage/jobs/" + encodeURIComponent(id) + "/";
    document.getElementById("dl-csv").setAttribute("href", base + "csv");
    document.getElementById("dl-xlsx").setAttribute("href", base + "xlsx");
    ["dl-geojson", "dl-html"].forEach(function (k) { document.getElementById(k).hidden = true; });
    document.getElementById("site-downloads").dataset.off = "1";
    document.getElementById("site-downloads").hidden = true;
  }

  // With the server's pool: one job, watched; the answers drawn when it is done.
  function asJob(ticket, started, resume) {
    var q = params();
    var file = demandFile();
    // The parts come from the plain API (what the downloads link to) unless the question has
    // demand the URL cannot carry (an upload, or a job resumed after a reload): then from the job.
    var fromJob = !!(file || resume);
    var job = running = stationmapJobs.start({ query: q.toString(), resume: resume, file: file,
                                               fileCoordsys: document.getElementById("demand-coordsys").value,
                                               partUrl: fromJob ? null : apiUrl,
                                               onStatus: function (s) {
      if (ticket === state.ticket) showJob(s);
    } });
    return job.promise.then(function (got) {
      if (ticket !== state.ticket) return null;
      if (fromJob) jobLinks(job.id());
      endJob();
      return showBody(got.json).then(function () {
        if (ticket !== state.ticket) return;
        showHeat(got.cells, started);
        showDone(ticket, got.json, got.geojson);
      });
    });
  }

  function compute(resume) {
    var ticket = ++state.ticket;
    if (running) { running.cancel(true); endJob(); }       // a new question: the old one is not waited for
    var found = problems();
    showProblems(found);
    remember();
    if (Object.keys(found).length) {
      clearAnswer();
      finish(ticket, T.fix_fields);
      return;
    }
    var started = performance.now();
    document.body.classList.add("busy");
    form.setAttribute("aria-busy", "true");
    statusEl.textContent = T.computing;
    links();
    if (comparing.on()) {
      clearAnswer();
      document.body.classList.add("busy");
      comparing.run(ticket, params(), inputs).then(function (message) {
        if (message) finish(ticket, message);
      }).catch(function (error) { failed(ticket, error); });
      return;
    }
    comparing.clear();
    (settings.jobs ? asJob(ticket, started, resume) : direct(ticket, started))
      .catch(function (error) { failed(ticket, error); });
  }

  FIELDS.forEach(function (k) {
    inputs[k].addEventListener("input", function () { delete inputs[k].dataset.invalid; });
    inputs[k].addEventListener("change", function () { delete inputs[k].dataset.invalid; });
  });
  area.addEventListener("change", function () { delete area.dataset.invalid; });
  if (document.getElementById("demand")) {
    document.getElementById("demand").addEventListener("change", function (e) {
      document.getElementById("err-demand").textContent = "";
      e.target.removeAttribute("aria-invalid");
    });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); compute(); });
  form.addEventListener("change", function () { compute(); });
  compute(new URLSearchParams(location.search).get("job"));      // a reload resumes the job it watched
})();
