/* stationmap planner page: coverage by district, its gaps, new sites, downloads.
 *
 * Everything comes from GET /api/v1/coverage (json for the table, geojson for the gaps) with the
 * form's parameters; downloads are links to the same API. District and station names are
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
  // Gaps darken the choropleth rather than compete with its red-to-green classes.
  var GAP = "#1a237e";
  var state = { districts: [], sortKey: null, sortDir: "ascending", ticket: 0 };

  var el = stationmap.el;

  function colour(share) {
    var c = settings.classes[0][1];
    settings.classes.forEach(function (pair) { if (share >= pair[0]) c = pair[1]; });
    return c;
  }

  // -- controls ----------------------------------------------------------------------
  var names = {};                 // the page's language (district names in the report are Chinese)
  settings.districts.forEach(function (d) { names[d.adcode] = d.name; });
  var area = document.getElementById("area");
  area.appendChild(el("option", { value: settings.area }, T.whole));
  settings.districts.forEach(function (d) { area.appendChild(el("option", { value: d.adcode }, d.name)); });

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
  var gapsLayer = L.layerGroup().addTo(map);
  var sitesLayer = L.layerGroup().addTo(map);
  var stationsLayer = L.layerGroup();
  window.stationmapCoverage = { map: map, gaps: gapsLayer, sites: sitesLayer, stations: stationsLayer };

  var outlinesReady = fetch("/api/v1/districts?coordsys=" + display + "&lang=" + settings.lang)
    .then(function (r) { return r.json(); })
    .then(function (geojson) {
      outlines = L.geoJSON(geojson, { style: { color: "#444", weight: 1, fillColor: "#ddd", fillOpacity: 0.5 } });
      outlines.eachLayer(function (layer) {
        var tip = el("span");
        tip.textContent = names[layer.feature.properties.adcode] || layer.feature.properties.name;
        layer.bindTooltip(tip, { sticky: true });
      });
      outlines.addTo(map).bringToBack();
      map.fitBounds(outlines.getBounds(), { animate: false });
    });

  function paintDistricts(rows) {
    if (!outlines) return;
    var byCode = {};
    rows.forEach(function (r) { byCode[r.adcode] = r; });
    outlines.eachLayer(function (layer) {
      var p = layer.feature.properties;
      var row = byCode[p.adcode];
      layer.setStyle(row ? { fillColor: colour(row.area_covered_pct), fillOpacity: 0.45, color: "#333", weight: 1.2 }
                         : { fillColor: "#ddd", fillOpacity: 0.25, color: "#888", weight: 0.8 });
      var tip = el("span");
      var label = names[p.adcode] || p.name;
      tip.textContent = row ? label + " · " + T.covered + " " + row.area_covered_pct.toFixed(1) + "%" : label;
      layer.setTooltipContent(tip);
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
                         style: { weight: 0, fillColor: GAP, fillOpacity: 0.4 } }).addTo(gapsLayer);
  }

  function drawSites(sites) {
    sitesLayer.clearLayers();
    var list = document.getElementById("sites");
    list.textContent = "";
    document.getElementById("sites-head").hidden = !sites.length;
    sites.forEach(function (s) {
      var tip = T.site + " " + s.rank + ": +" + Math.round(s.gain).toLocaleString() + " (" + T.gain + ")";
      L.circleMarker([s.lat, s.lon], { radius: 9, color: "#fff", weight: 2, fillColor: "#6a1b9a", fillOpacity: 1 })
        .bindTooltip(el("span", {}, tip)).addTo(sitesLayer);
      list.appendChild(el("li", {}, tip + " — " + s.lat.toFixed(5) + ", " + s.lon.toFixed(5)));
    });
  }

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
  document.getElementById("show-stations").addEventListener("change", loadStations);

  // Legend: the choropleth classes and the gap colour.
  (function legend() {
    var box = document.getElementById("legend");
    box.appendChild(el("strong", {}, T.covered));
    settings.classes.forEach(function (pair) {
      var item = el("span", { "class": "key" });
      item.appendChild(el("i", { style: "background:" + pair[1] }));
      item.appendChild(document.createTextNode("≥ " + pair[0] + "%"));
      box.appendChild(item);
    });
    var gap = el("span", { "class": "key" });
    gap.appendChild(el("i", { style: "background:" + GAP + ";opacity:.5" }));
    gap.appendChild(document.createTextNode(T.gaps));
    box.appendChild(gap);
    var site = el("span", { "class": "key" });
    site.appendChild(el("i", { style: "background:#6a1b9a;border-radius:50%" }));
    site.appendChild(document.createTextNode(T.sites));
    box.appendChild(site);
  })();

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
    [[T.stations, totals.stations], [T.covered, totals.area_covered_pct === null ? "—" : totals.area_covered_pct.toFixed(1) + "%"]]
      .forEach(function (pair) {
        box.appendChild(el("dt", {}, T.totals + " · " + pair[0]));
        box.appendChild(el("dd", {}, pair[1]));
      });
  }

  // -- compute -----------------------------------------------------------------------
  function failure(response) {
    return response.json().then(function (body) {
      var reasons = (body.errors || []).map(function (e) { return e.parameter + ": " + e.reason; });
      throw new Error(T.error + (reasons.length ? " (" + reasons.join("; ") + ")" : ""));
    }, function () { throw new Error(T.error); });
  }

  function getJson(url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : failure(r); });
  }

  function links() {
    ["csv", "xlsx", "geojson", "html"].forEach(function (f) {
      document.getElementById("dl-" + f).setAttribute("href", apiUrl(f));
    });
    // The other files are named by the server (Content-Disposition); the GeoJSON is a plain API answer.
    document.getElementById("dl-geojson").setAttribute("download", "coverage-gaps-" + area.value + ".geojson");
  }

  function compute() {
    var ticket = ++state.ticket;
    document.body.classList.add("busy");
    form.setAttribute("aria-busy", "true");
    statusEl.textContent = T.computing;
    links();
    // The table first, then the gaps: the second request is answered from the server's cache.
    getJson(apiUrl("json")).then(function (body) {
      if (ticket !== state.ticket) return null;
      state.districts = body.districts;
      state.at = body.query.at;
      renderRows();
      renderTotals(body.totals);
      drawSites(body.recommendations);
      document.getElementById("assumptions").textContent = body.assumptions;
      return outlinesReady.then(function () { paintDistricts(body.districts); })
        .then(function () { return getJson(apiUrl("geojson")); })
        .then(function (gaps) {
          if (ticket !== state.ticket) return;
          drawGaps(gaps);
          statusEl.textContent = T.done.replace("{n}", body.districts.length);
          document.body.classList.remove("busy");
          form.removeAttribute("aria-busy");
          table.setAttribute("data-ready", params().toString());
          if (document.getElementById("show-stations").checked) loadStations();
        });
    }).catch(function (error) {
      if (ticket !== state.ticket) return;
      document.body.classList.remove("busy");
      form.removeAttribute("aria-busy");
      statusEl.textContent = error && error.message ? error.message : T.error;
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); compute(); });
  form.addEventListener("change", function () { compute(); });
  compute();
})();
