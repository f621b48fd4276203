/* stationmap embeddable map (/embed/map), shown inside news articles' iframes.
 *
 * Station names and addresses are untrusted (they come from spreadsheets): they reach the page
 * through textContent only. Every overlay is already in the base map's coordinate system (the
 * server converts; GCJ-02 on AMap). The page must not steal the article's scrolling: the wheel
 * zooms the map only after a click or keyboard focus, and stops when the pointer leaves.
 */
(function () {
  "use strict";

  var settings = stationmap.settings();
  var T = settings.text;

  var el = stationmap.el;

  var map = L.map("map", { scrollWheelZoom: false, maxZoom: settings.tiles.max_zoom, zoomSnap: 0.5 });
  window.stationmapEmbed = { map: map };           // for tests and the curious

  // -- wheel zoom only on purpose --------------------------------------------------------
  var hint = document.getElementById("hint");
  var hintTimer = null;
  function enableWheel() { map.scrollWheelZoom.enable(); hint.hidden = true; }
  function disableWheel() { map.scrollWheelZoom.disable(); }
  map.on("click focus", enableWheel);
  map.on("mouseout blur", disableWheel);
  map.getContainer().addEventListener("wheel", function () {
    if (map.scrollWheelZoom.enabled()) return;
    hint.hidden = false;
    clearTimeout(hintTimer);
    hintTimer = setTimeout(function () { hint.hidden = true; }, 1500);
  }, { passive: true });

  // -- base map and outlines ----------------------------------------------------------------
  stationmap.baseMap(map, settings.tiles, T.no_tiles);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" target="_blank" rel="noopener">Leaflet</a>');

  var plain = !settings.tiles.url;
  var outlineStyle = { color: "#555", weight: 1, fillColor: "#fff", fillOpacity: plain ? 0.7 : 0, interactive: false };
  var outlines = L.geoJSON(settings.outlines, { style: outlineStyle }).addTo(map);

  var bounds = outlines.getBounds();
  if (settings.center) {
    map.setView([settings.center[1], settings.center[0]], settings.zoom || 12);
  } else if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [8, 8] });
    if (settings.zoom) map.setZoom(settings.zoom);
  } else {
    map.setView([31.23, 121.47], settings.zoom || 10);
  }

  if (settings.layer === "stations") stationsLayer(); else coverageLayer();

  // -- stations -----------------------------------------------------------------------------
  function stationsLayer() {
    var cluster = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false, chunkedLoading: true });
    var icon = L.divIcon({ className: "pin", iconSize: [14, 14] });
    var markers = settings.stations.map(function (row) {      // [lon, lat, name, type index, address]
      var marker = L.marker([row[1], row[0]], { icon: icon, keyboard: false, title: "" });
      marker.bindTooltip(el("span", {}, row[2]));
      marker.bindPopup(function () {
        var box = el("div", { "class": "popup" });
        box.appendChild(el("strong", {}, row[2]));
        box.appendChild(el("span", {}, settings.types[row[3]] || ""));
        if (row[4]) box.appendChild(el("span", {}, row[4]));
        return box;
      });
      return marker;
    });
    cluster.addLayers(markers);
    map.addLayer(cluster);
    window.stationmapEmbed.stations = cluster;
  }

  // -- coverage: the planner page's heat layer (heat.js), districts as outlines with their share ----
  function legend(bands, unit, assumptions) {
    var box = L.control({ position: "topright" });
    box.onAdd = function () {
      var div = el("div", { "class": "legend" });
      stationmapHeat.legend(div, bands, unit === "min" ? T.min : "m", { title: T.legend, gap: T.gaps });
      if (assumptions) div.appendChild(el("p", {}, assumptions));
      return div;
    };
    box.addTo(map);
  }

  function coverageLayer() {
    var P = settings.palette;
    var status = el("p", { "class": "status", role: "status" }, T.loading);
    document.body.appendChild(status);
    function ask(f) {
      var q = new URLSearchParams({ adcode: settings.adcode, lang: settings.lang, f: f,
                                    coordsys: settings.outlines.coordsys || "wgs84" });
      return fetch("/api/v1/coverage?" + q.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
    }
    ask("json").then(function (body) {
      return ask("cells").then(function (cells) { return [body, cells]; });
    }).then(function (got) {
      var body = got[0], cells = got[1];
      var byCode = {};
      (body.districts || []).forEach(function (d) { byCode[String(d.adcode)] = d; });
      map.removeLayer(outlines);
      var heat = new stationmapHeat.Layer({ opacity: P.opacity }).addTo(map);
      heat.setData(cells);
      var drawn = L.geoJSON(settings.outlines, {
        style: { color: P.outline, weight: 1.2, opacity: 0.9, fill: true, fillOpacity: 0 },
        onEachFeature: function (f, layer) {
          var d = byCode[f.properties.adcode];
          var box = el("div", { "class": "popup" });
          box.appendChild(el("strong", {}, d ? d.name : f.properties.name));
          if (d) {
            box.appendChild(el("span", {}, T.covered + " " + Math.round(d.area_covered_pct) + "%"));
            box.appendChild(el("span", {}, T.stations + " " + d.stations));
            if (d.mean_dist_m !== null && d.mean_dist_m !== undefined) {
              box.appendChild(el("span", {}, T.mean_dist + " " + Math.round(d.mean_dist_m) + " m"));
            }
          }
          layer.bindTooltip(box, { sticky: true });
        }
      }).addTo(map);
      window.stationmapEmbed.coverage = drawn;
      window.stationmapEmbed.heat = heat;
      legend(cells.bands, cells.unit, body.assumptions);
      status.remove();
    }).catch(function () { status.textContent = T.coverage_failed; });
  }
})();
