/* stationmap worker page.
 *
 * Station text is untrusted (it comes from spreadsheets): it only ever enters the page through
 * textContent, never innerHTML, in the list, the popups and the tooltips.
 * Every map overlay is drawn in the base map's coordinate system (GCJ-02 on AMap tiles).
 */
(function () {
  "use strict";

  var settings = stationmap.settings();
  var T = settings.text;
  var display = settings.tiles.coordsys;          // "wgs84" or "gcj02"
  var point = null;                               // last query point {lon, lat, coordsys}
  var statusEl = document.getElementById("status");
  var resultsEl = document.getElementById("results");
  var assumptionsEl = document.getElementById("assumptions");

  var el = stationmap.el;

  function say(message) { statusEl.textContent = message; }

  function nameOf(record) {
    return settings.lang === "en" && record.name_en ? record.name_en : record.name;
  }

  // -- map ---------------------------------------------------------------------------
  var map = L.map("map", { zoomControl: true, maxZoom: settings.tiles.max_zoom }).setView([settings.centre[1], settings.centre[0]], 11);
  if (!stationmap.baseMap(map, settings.tiles, T.no_tiles)) {
    fetch("/api/v1/districts?coordsys=" + display + "&lang=" + settings.lang)
      .then(function (r) { return r.json(); })
      .then(function (geojson) {
        L.geoJSON(geojson, { style: { color: "#555", weight: 1, fillColor: "#fff", fillOpacity: 0.6 },
                             interactive: false }).addTo(map);
      })
      .catch(function () { /* outlines are decoration; the list still works */ });
  }
  var stations = L.markerClusterGroup({ disableClusteringAtZoom: 16, maxClusterRadius: 30, showCoverageOnHover: false });
  map.addLayer(stations);
  var you = null;
  // Every station in view (when zoomed in far enough to be useful), behind the results.
  var around = L.markerClusterGroup({ disableClusteringAtZoom: 16, maxClusterRadius: 40, showCoverageOnHover: false });
  map.addLayer(around);
  window.stationmapPage = { map: map, stations: stations, around: around };   // for tests and the curious

  function latLngOf(record) {
    var p = display === "gcj02" ? record.gcj02 : [record.lon, record.lat];
    return [p[1], p[0]];
  }

  // -- controls ----------------------------------------------------------------------
  var districtSelect = document.getElementById("district");
  settings.districts.forEach(function (d) {
    districtSelect.appendChild(el("option", { value: d.adcode }, d.name));
  });
  var typeSelect = document.getElementById("type");
  Object.keys(settings.types).forEach(function (code) {
    typeSelect.appendChild(el("option", { value: code }, settings.types[code]));
  });
  var amenityBox = document.getElementById("amenities");
  Object.keys(settings.amenities).forEach(function (code) {
    var label = el("label");
    var box = el("input", { type: "checkbox", value: code, name: "amenity" });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + settings.amenities[code]));
    amenityBox.appendChild(label);
  });

  function mode() { return document.querySelector("input[name=mode]:checked").value; }

  function filterParams(q) {
    if (document.getElementById("open-now").checked) q.set("open_now", "true");
    if (typeSelect.value) q.set("type", typeSelect.value);
    var amenities = Array.prototype.map.call(
      document.querySelectorAll("input[name=amenity]:checked"), function (b) { return b.value; });
    if (amenities.length) q.set("amenity", amenities.join(","));
    return q;
  }

  function query(radius) {
    var q = new URLSearchParams({
      lat: point.lat.toFixed(7), lon: point.lon.toFixed(7), coordsys: point.coordsys,
      k: "10", radius_m: String(radius), mode: mode(), lang: settings.lang
    });
    return "/api/v1/stations/nearest?" + filterParams(q).toString();
  }

  // -- search and render -------------------------------------------------------------
  var pending = 0;
  function search() {
    if (!point) return;
    var ticket = ++pending;
    say(T.loading);
    fetchNearest(5000).then(function (body) {
      if (body.results.length === 0) return fetchNearest(50000);   // widen once before giving up
      return body;
    }).then(function (body) {
      if (ticket !== pending) return;                                  // a newer search won
      render(body);
    }).catch(function (error) {
      if (ticket !== pending) return;
      say(error && error.message ? error.message : T.error);
    });
  }

  function fetchNearest(radius) {
    return fetch(query(radius), { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var reasons = (body.errors || []).map(function (e) { return e.parameter + ": " + e.reason; });
          throw new Error(T.error + (reasons.length ? " (" + reasons.join("; ") + ")" : ""));
        }
        return body;
      });
    });
  }

  function distanceText(metres) {
    return metres < 1000 ? Math.round(metres) + " m" : (metres / 1000).toFixed(2) + " km";
  }

  function badge(record) {
    var kind = record.open_now ? "open" : (record.hours_state === "unknown" ? "unknown" : "closed");
    return el("span", { "class": "badge " + kind }, T[kind]);
  }

  function popupContent(record) {
    var box = el("div", { "class": "popup" });
    box.appendChild(el("strong", {}, nameOf(record)));
    box.appendChild(el("span", {}, distanceText(record.distance_m) + " · " + (record.next_change_text || "")));
    var go = el("a", { href: record.links.amap_navigation }, T.navigate);
    box.appendChild(el("br"));
    box.appendChild(go);
    return box;
  }

  function render(body) {
    stations.clearLayers();
    resultsEl.textContent = "";
    shown = {};
    body.results.forEach(function (record) { shown[record.id] = true; });
    var q = body.query;
    var here = display === "gcj02" ? q.gcj02 : q.wgs84;
    if (you) map.removeLayer(you);
    you = L.circleMarker([here[1], here[0]], { radius: 9, color: "#fff", weight: 3, fillColor: "#0b57d0", fillOpacity: 1 })
      .bindTooltip(el("span", {}, T.you)).addTo(map);
    var bounds = [[here[1], here[0]]];
    body.results.forEach(function (record) {
      var at = latLngOf(record);
      bounds.push(at);
      var state = record.open_now ? "open" : (record.hours_state === "unknown" ? "unknown" : "closed");
      // markercluster clusters L.Marker; a CSS dot keeps it free of image files.
      var marker = L.marker(at, { icon: L.divIcon({ className: "pin pin-" + state, iconSize: [18, 18] }),
                                  keyboard: false, title: "" });
      marker.bindPopup(popupContent(record));
      marker.bindTooltip(el("span", {}, nameOf(record)));
      stations.addLayer(marker);
      resultsEl.appendChild(listItem(record, marker));
    });
    assumptionsEl.textContent = body.assumptions || "";
    say(body.results.length ? T.found.replace("{n}", body.results.length) : T.none_found);
    // No animation: markers are placed at once, so a tap on the list finds them on the map.
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
    else map.setView(bounds[0], 14, { animate: false });
  }

  function listItem(record, marker) {
    var li = el("li", { "class": "station", "data-id": record.id });
    var h = el("h2");
    var name = el("button", { type: "button" }, record.rank + ". " + nameOf(record));
    name.addEventListener("click", function () {
      if (stations.getVisibleParent(marker) === marker) {
        // Already drawn on its own: zoomToShowLayer would wait for a map move that never comes.
        map.panTo(marker.getLatLng());
        marker.openPopup();
      } else {
        stations.zoomToShowLayer(marker, function () { marker.openPopup(); });
      }
    });
    h.appendChild(name);
    li.appendChild(h);
    var meta = el("div", { "class": "meta" });
    meta.appendChild(el("span", {}, distanceText(record.distance_m)));
    meta.appendChild(el("span", {}, T.minutes.replace("{m}", Math.max(1, Math.round(record.est_minutes)))));
    meta.appendChild(badge(record));
    if (record.next_change_text) meta.appendChild(el("span", {}, record.next_change_text));
    meta.appendChild(el("span", {}, record.type_label));
    li.appendChild(meta);
    if (record.amenities.length) {
      var list = el("ul", { "class": "amenity-list" });
      record.amenities.forEach(function (a) { list.appendChild(el("li", {}, a.label)); });
      li.appendChild(list);
    }
    if (record.address) li.appendChild(el("p", { "class": "address" }, record.address));
    if (record.phone) {
      var phone = el("p", { "class": "address" }, T.phone + ": ");
      phone.appendChild(el("a", { href: "tel:" + record.phone.replace(/[^0-9+]/g, "") }, record.phone));
      li.appendChild(phone);
    }
    var actions = el("div", { "class": "actions" });
    // AMap's web pages, not app links: WeChat's browser cannot open the AMap app.
    actions.appendChild(el("a", { "class": "go", href: record.links.amap_navigation }, T.navigate));
    actions.appendChild(el("a", { "class": "see", href: record.links.amap_marker }, T.marker));
    li.appendChild(actions);
    return li;
  }

  // -- the stations in view ----------------------------------------------------------
  var shown = {};                 // ids drawn as results, not repeated in the view layer
  var viewTicket = 0;
  function loadView() {
    if (map.getZoom() < 13) { around.clearLayers(); return; }
    var b = map.getBounds();
    // The stations endpoint takes WGS-84; on GCJ-02 tiles the view is pushed out by up to
    // about 700 m, so pad it rather than miss the edges.
    var pad = display === "wgs84" ? 0 : 0.01;
    var q = filterParams(new URLSearchParams({
      bbox: [b.getWest() - pad, b.getSouth() - pad, b.getEast() + pad, b.getNorth() + pad]
        .map(function (v) { return v.toFixed(6); }).join(","),
      limit: "500", mode: mode(), lang: settings.lang
    }));
    var ticket = ++viewTicket;
    fetch("/api/v1/stations?" + q.toString()).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body || ticket !== viewTicket) return;
        around.clearLayers();
        body.results.forEach(function (record) {
          if (shown[record.id]) return;
          var marker = L.marker(latLngOf(record), { icon: L.divIcon({ className: "pin pin-other", iconSize: [12, 12] }),
                                                    keyboard: false, title: "" });
          var box = el("div", { "class": "popup" });
          box.appendChild(el("strong", {}, nameOf(record)));
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

  // -- ways to choose the point ---------------------------------------------------
  document.getElementById("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { say(T.located_failed); return; }
    say(T.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      // The Geolocation API reports WGS-84.
      point = { lon: pos.coords.longitude, lat: pos.coords.latitude, coordsys: "wgs84" };
      districtSelect.value = "";
      search();
    }, function () { say(T.located_failed); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });

  map.on("click", function (e) {
    point = { lon: e.latlng.lng, lat: e.latlng.lat, coordsys: display };
    districtSelect.value = "";
    search();
  });

  districtSelect.addEventListener("change", function () {
    var chosen = settings.districts.filter(function (d) { return d.adcode === districtSelect.value; })[0];
    if (!chosen) return;
    point = { lon: chosen.point[0], lat: chosen.point[1], coordsys: display };
    search();
  });

  document.getElementById("controls").addEventListener("change", function (e) {
    if (e.target !== districtSelect) { search(); loadView(); }
  });
  document.getElementById("controls").addEventListener("submit", function (e) { e.preventDefault(); search(); });
})();
