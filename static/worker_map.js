/* stationmap worker page: the map (Leaflet + markercluster), loaded after the list.
 *
 * A rider on a weak signal waits for the list, not the map: static/worker.js draws the nearest
 * stations as soon as the answer is in and only then loads Leaflet, markercluster and this file
 * (about 55 kB gzipped, and most of the page's script time on a slow phone). Once here, the map
 * attaches itself to the list (stationmapWorker.attach) and draws what the list already shows.
 *
 * Station text is untrusted: it enters popups and tooltips through textContent only (el()).
 * Every overlay is drawn in the base map's coordinate system (GCJ-02 on AMap tiles).
 */
/* global L, stationmap, stationmapWorker */
(function () {
  "use strict";

  var page = stationmapWorker;
  var settings = page.settings;
  var T = settings.text;
  var el = stationmap.el;
  var display = settings.tiles.coordsys;

  function start() {
    // Cluster bubbles are markers too: keep them, like the pins, out of the tab order (the list
    // is the keyboard's way in, with a skip link over the map).
    L.MarkerCluster.prototype.options = L.Util.extend(Object.create(L.Marker.prototype.options), { keyboard: false });
    var map = L.map("map", { zoomControl: true, maxZoom: settings.tiles.max_zoom, keyboard: false })
      .setView([settings.centre[1], settings.centre[0]], 11);
    var withoutTiles = !stationmap.baseMap(map, settings.tiles, T.no_tiles);
    // Clusters as markercluster draws them, but 44 × 44 px: a thumb's tap target.
    function clusterIcon(cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
      var icon = el("div");
      icon.appendChild(el("span", {}, n));
      return L.divIcon({ html: icon.outerHTML, className: "marker-cluster marker-cluster-" + size, iconSize: L.point(44, 44) });
    }
    // A pin: a 44 × 44 px tap target around a coloured dot (CSS).
    function pinIcon(state) {
      return L.divIcon({ className: "pin pin-" + state, iconSize: [44, 44] });
    }
    var stations = L.markerClusterGroup({ disableClusteringAtZoom: 16, maxClusterRadius: 30, showCoverageOnHover: false,
                                          iconCreateFunction: clusterIcon });
    map.addLayer(stations);
    // Every station in view (when zoomed in far enough to be useful), behind the results.
    var around = L.markerClusterGroup({ disableClusteringAtZoom: 16, maxClusterRadius: 40, showCoverageOnHover: false,
                                        iconCreateFunction: clusterIcon });
    map.addLayer(around);
    var you = null, routeLine = null, destinationMarker = null;
    var markers = {};                             // station id -> its marker among the results
    var shown = {};                               // ids drawn as results, not repeated in the view layer
    window.stationmapPage = { map: map, stations: stations, around: around, markers: markers };   // for tests

    function popupContent(record) {
      var box = el("div", { "class": "popup" });
      box.appendChild(el("strong", {}, page.nameOf(record)));
      box.appendChild(el("span", {}, page.distanceText(record.distance_m) + " · " + (record.next_change_text || "")));
      box.appendChild(el("br"));
      box.appendChild(el("a", { href: record.links.amap_navigation }, T.navigate));
      return box;
    }

    function showYou(here) {
      if (you) map.removeLayer(you);
      you = L.circleMarker([here[1], here[0]], { radius: 9, color: "#fff", weight: 3, fillColor: "#0b57d0", fillOpacity: 1,
                                                 keyboard: false })
        .bindTooltip(el("span", {}, T.you)).addTo(map);
    }

    function clear() {
      if (routeLine) { map.removeLayer(routeLine); routeLine = null; }
      if (destinationMarker) { map.removeLayer(destinationMarker); destinationMarker = null; }
      stations.clearLayers();
      Object.keys(markers).forEach(function (id) { delete markers[id]; });
      shown = {};
    }

    function drawResults(results, tooltips) {
      return results.map(function (record) {
        shown[record.id] = true;
        var at = page.latLngOf(record);
        // markercluster clusters L.Marker; a CSS dot keeps it free of image files.
        var marker = L.marker(at, { icon: pinIcon(page.stateOf(record)), keyboard: false, title: "" });
        marker.bindPopup(popupContent(record));
        if (tooltips) marker.bindTooltip(el("span", {}, page.nameOf(record)));
        marker.on("click", function () { page.choose(record.id, false); });
        markers[record.id] = marker;
        stations.addLayer(marker);
        return at;
      });
    }

    // What the list shows, on the map: {kind: "nearest" | "route", body}.
    function draw(shownNow) {
      var body = shownNow.body;
      clear();
      // No animation: markers are placed at once, so a tap on the list finds them on the map.
      if (shownNow.kind === "route") {
        var line = [[body.start[1], body.start[0]], [body.destination[1], body.destination[0]]];
        showYou(body.start);
        routeLine = L.polyline(line, { color: "#0b57d0", weight: 4, dashArray: "8 6", interactive: false }).addTo(map);
        destinationMarker = L.circleMarker(line[1], { radius: 8, color: "#0b57d0", weight: 3, fillColor: "#fff",
                                                      fillOpacity: 1, keyboard: false }).addTo(map);
        drawResults(body.results, false);
        map.fitBounds(line, { padding: [24, 24], maxZoom: 16, animate: false });
        return;
      }
      var here = display === "gcj02" ? body.query.gcj02 : body.query.wgs84;
      showYou(here);
      var bounds = [[here[1], here[0]]].concat(drawResults(body.results, true));
      if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
      else map.setView(bounds[0], 14, { animate: false });
    }

    // The station chosen in the list, on the map with its popup open. markercluster's own
    // zoomToShowLayer waits for a map move and calls back after it; when the map is already where
    // that move would take it, no move comes and neither does the popup. So go to the pin
    // ourselves (from zoom 16 nothing is clustered: disableClusteringAtZoom) and open the popup
    // as soon as the pin is on the map on its own, checking every 100 ms for at most 5 s
    // (markercluster adds it after its re-clustering, later on a slow phone).
    var focusTicket = 0;
    function focus(id) {
      var marker = markers[id];
      if (!marker) return;
      var ticket = ++focusTicket;
      if (stations.getVisibleParent(marker) === marker) map.panTo(marker.getLatLng(), { animate: false });
      else map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16), { animate: false });
      var tries = 50;
      (function open() {
        if (ticket !== focusTicket || markers[id] !== marker) return;   // another choice, or redrawn
        if (map.hasLayer(marker)) { marker.openPopup(); return; }
        if (--tries > 0) setTimeout(open, 100);
      })();
    }

    // -- the stations in view ----------------------------------------------------------
    var viewTicket = 0;
    function loadView() {
      if (map.getZoom() < 13) { around.clearLayers(); return; }
      var b = map.getBounds();
      // The stations endpoint takes WGS-84; on GCJ-02 tiles the view is pushed out by up to
      // about 700 m, so pad it rather than miss the edges.
      var pad = display === "wgs84" ? 0 : 0.01;
      var q = page.filterParams(new URLSearchParams({
        bbox: [b.getWest() - pad, b.getSouth() - pad, b.getEast() + pad, b.getNorth() + pad]
          .map(function (v) { return v.toFixed(6); }).join(","),
        limit: "500", mode: page.mode(), lang: settings.lang
      }));
      var ticket = ++viewTicket;
      fetch("/api/v1/stations?" + q.toString()).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || ticket !== viewTicket) return;
          around.clearLayers();
          body.results.forEach(function (record) {
            if (shown[record.id]) return;
            var marker = L.marker(page.latLngOf(record), { icon: pinIcon("other"), keyboard: false, title: "" });
            var box = el("div", { "class": "popup" });
            box.appendChild(el("strong", {}, page.nameOf(record)));
            box.appendChild(el("span", {}, record.next_change_text || ""));
            box.appendChild(el("br"));
            box.appendChild(el("a", { href: record.links.amap_navigation }, T.navigate));
            marker.bindPopup(box);
            around.addLayer(marker);
          });
        }).catch(function () { /* the view layer is a bonus; the list is the answer */ });
    }
    var viewTimer = null;
    map.on("moveend", function () { clearTimeout(viewTimer); viewTimer = setTimeout(loadView, 250); });
    map.on("click", function (e) { page.tapped({ lon: e.latlng.lng, lat: e.latlng.lat }); });

    // District outlines (without tiles): decoration, after the list a rider was waiting for.
    if (withoutTiles) {
      fetch("/api/v1/districts?coordsys=" + display)
        .then(function (r) { return r.json(); })
        .then(function (geojson) {
          L.geoJSON(geojson, { style: { color: "#555", weight: 1, fillColor: "#fff", fillOpacity: 0.6 },
                               interactive: false }).addTo(map);
        })
        .catch(function () { /* outlines are decoration; the list still works */ });
    }

    page.attach({ draw: draw, clear: clear, focus: focus, loadView: loadView });
  }

  page.mapStyles.then(start);
})();
