/* stationmap worker page.
 *
 * Station text is untrusted (it comes from spreadsheets): it only ever enters the page through
 * textContent, never innerHTML, in the list, the popups and the tooltips.
 * Every map overlay is drawn in the base map's coordinate system (GCJ-02 on AMap tiles).
 *
 * Sections: map · controls · URL state · errors and offline · nearest · cards · selection ·
 * along my route · stations in view · ways to choose the point · start.
 */
(function () {
  "use strict";

  var settings = stationmap.settings();
  var T = settings.text;
  var display = settings.tiles.coordsys;          // "wgs84" or "gcj02"
  var point = null;                               // last query point {lon, lat, coordsys}
  var statusEl = document.getElementById("status");
  var noticesEl = document.getElementById("notices");
  var resultsEl = document.getElementById("results");
  var assumptionsEl = document.getElementById("assumptions");
  var SAVED = "stationmap-last-" + settings.lang;  // the last answer, for offline use

  var el = stationmap.el;

  function say(message) { statusEl.textContent = message; }

  function notice(kind, message) {
    noticesEl.appendChild(el("p", { "class": "notice " + kind }, message));
  }

  function nameOf(record) {
    return settings.lang === "en" && record.name_en ? record.name_en : record.name;
  }

  // -- high contrast (remembered on this phone) ------------------------------------
  var contrastButton = document.getElementById("contrast");
  function showContrast() {
    contrastButton.setAttribute("aria-pressed", String(document.documentElement.classList.contains("hc")));
  }
  contrastButton.addEventListener("click", function () {
    var on = document.documentElement.classList.toggle("hc");
    try { localStorage.setItem("stationmap-contrast", on ? "high" : "normal"); } catch (e) { /* private mode */ }
    showContrast();
  });
  showContrast();

  // -- map ---------------------------------------------------------------------------
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
  var you = null;
  // Every station in view (when zoomed in far enough to be useful), behind the results.
  var around = L.markerClusterGroup({ disableClusteringAtZoom: 16, maxClusterRadius: 40, showCoverageOnHover: false,
                                      iconCreateFunction: clusterIcon });
  map.addLayer(around);
  var routeLine = null, destinationMarker = null;
  var markers = {};                               // station id -> its marker among the results
  window.stationmapPage = { map: map, stations: stations, around: around, markers: markers };   // for tests

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
  var openNow = document.getElementById("open-now");
  var withinSelect = document.getElementById("route-within");

  function mode() { return document.querySelector("input[name=mode]:checked").value; }

  function chosenAmenities() {
    return Array.prototype.map.call(document.querySelectorAll("input[name=amenity]:checked"),
                                    function (b) { return b.value; });
  }

  function filterParams(q) {
    if (openNow.checked) q.set("open_now", "true");
    if (typeSelect.value) q.set("type", typeSelect.value);
    var amenities = chosenAmenities();
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

  // -- URL state: what is seen, in the address (reload, back and a shared link restore it) --
  var selected = null;                            // id of the station chosen in the list
  var destination = null;                         // {lon, lat} in the display coordinate system

  function pair(text) {
    var parts = (text || "").split(",").map(Number);
    return parts.length === 2 && parts.every(isFinite) ? { lat: parts[0], lon: parts[1] } : null;
  }

  function currentState() {
    var q = new URLSearchParams();
    q.set("lang", settings.lang);
    if (districtSelect.value) q.set("d", districtSelect.value);
    else if (point) { q.set("at", point.lat.toFixed(6) + "," + point.lon.toFixed(6)); q.set("cs", point.coordsys); }
    if (mode() !== "walk") q.set("mode", mode());
    if (openNow.checked) q.set("open", "1");
    if (typeSelect.value) q.set("type", typeSelect.value);
    if (chosenAmenities().length) q.set("amenity", chosenAmenities().join(","));
    if (destination) { q.set("to", destination.lat.toFixed(6) + "," + destination.lon.toFixed(6)); q.set("within", withinSelect.value); }
    if (selected) q.set("sel", selected);
    return q;
  }

  function writeState(push) {
    var q = currentState().toString();
    var url = location.pathname + (q ? "?" + q : "");
    if (url === location.pathname + location.search) return;
    history[push ? "pushState" : "replaceState"](null, "", url);
    keepLanguageLink();
  }

  // The language switch keeps everything else the URL says.
  function keepLanguageLink() {
    var link = document.querySelector("a.lang");
    if (!link) return;
    var q = new URLSearchParams(location.search);
    q.set("lang", settings.lang === "zh" ? "en" : "zh");
    link.setAttribute("href", "?" + q.toString());
  }

  // Puts the controls and the point where the URL says; returns whether there is a point.
  function readState() {
    var q = new URLSearchParams(location.search);
    // `district` too: the district poster's QR code (/d/<adcode>/poster.*) links to /?district=ADCODE.
    var wanted = q.get("d") || q.get("district");
    var chosen = settings.districts.filter(function (d) { return d.adcode === wanted; })[0];
    var at = pair(q.get("at"));
    districtSelect.value = chosen ? chosen.adcode : "";
    if (chosen) point = { lon: chosen.point[0], lat: chosen.point[1], coordsys: display };
    else if (at) point = { lon: at.lon, lat: at.lat, coordsys: ["wgs84", "gcj02", "bd09"].indexOf(q.get("cs")) >= 0 ? q.get("cs") : display };
    else point = null;
    var travel = q.get("mode") === "ebike" ? "ebike" : "walk";
    document.querySelector("input[name=mode][value=" + travel + "]").checked = true;
    openNow.checked = q.get("open") === "1";
    typeSelect.value = settings.types[q.get("type")] ? q.get("type") : "";
    var amenities = (q.get("amenity") || "").split(",");
    document.querySelectorAll("input[name=amenity]").forEach(function (b) { b.checked = amenities.indexOf(b.value) >= 0; });
    destination = pair(q.get("to"));
    if (destination && q.get("within") && withinSelect.querySelector("option[value='" + CSS.escape(q.get("within")) + "']")) {
      withinSelect.value = q.get("within");
    }
    selected = q.get("sel") || null;
    keepLanguageLink();
    return point !== null;
  }

  // -- errors and offline: always in the page's language ------------------------------
  function Failure(kind) { this.kind = kind; }

  function failureText(error) {
    if (error instanceof Failure) return T[error.kind];
    return navigator.onLine === false ? T.offline_none : T.network_error;    // fetch's own TypeError
  }

  function getJson(url, options) {
    var early = window.stationmapEarly;         // started in the page's head for a shared link
    var answer;
    if (early && early.url === url) { window.stationmapEarly = null; answer = early.answer; }
    else answer = fetch(url, options);
    return answer.then(function (r) {
      if (r.ok) return r.json();
      throw new Failure(r.status === 429 ? "busy" : r.status >= 500 ? "server_error" : "bad_request");
    }, function () { throw new Failure(navigator.onLine === false ? "offline_none" : "network_error"); });
  }

  function save(kind, body) {
    try {
      localStorage.setItem(SAVED, JSON.stringify({ kind: kind, body: body, saved: new Date().toISOString() }));
    } catch (e) { /* storage full or private mode: nothing to show offline, nothing lost */ }
  }

  function clock(iso) {
    var t = new Date(iso);
    return ("0" + t.getHours()).slice(-2) + ":" + ("0" + t.getMinutes()).slice(-2);
  }

  // The last answer kept on this phone, with its time and what is unavailable; false if none.
  function showSaved(error) {
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(SAVED) || "null"); } catch (e) { kept = null; }
    afterFirst();
    if (!kept || !kept.body) { say(failureText(error)); return false; }
    if (kept.kind === "route") renderRoute(kept.body, false); else render(kept.body, false);
    noticesEl.textContent = "";
    notice("offline", T.offline_results.replace("{t}", clock(kept.saved)));
    notice("offline", navigator.onLine === false ? T.offline_unavailable : failureText(error));
    say(T.offline_results.replace("{t}", clock(kept.saved)));
    return true;
  }

  window.addEventListener("online", function () { if (point) run(); });

  // -- nearest -----------------------------------------------------------------------
  var pending = 0;
  function search() {
    if (!point) return;
    var ticket = ++pending;
    say(T.loading);
    getJson(query(5000), { headers: { Accept: "application/json" } }).then(function (body) {
      // Widen once before giving up, but never out of the served area: there it says so.
      if (body.results.length === 0 && body.query.in_served_area !== false) return getJson(query(50000));
      return body;
    }).then(function (body) {
      if (ticket !== pending) return;                                  // a newer search won
      save("nearest", body);
      render(body, true);
    }).catch(function (error) {
      if (ticket !== pending) return;
      showSaved(error);
    });
  }

  function distanceText(metres) {
    return metres < 1000 ? Math.round(metres) + " m" : (metres / 1000).toFixed(metres < 10000 ? 2 : 1) + " km";
  }

  function stateOf(record) {
    return record.open_now ? "open" : (record.hours_state === "unknown" ? "unknown" : "closed");
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

  function showYou(here) {
    if (you) map.removeLayer(you);
    you = L.circleMarker([here[1], here[0]], { radius: 9, color: "#fff", weight: 3, fillColor: "#0b57d0", fillOpacity: 1,
                                               keyboard: false })
      .bindTooltip(el("span", {}, T.you)).addTo(map);
  }

  function drawStations(results) {
    stations.clearLayers();
    resultsEl.textContent = "";
    Object.keys(markers).forEach(function (id) { delete markers[id]; });
    shown = {};
    return results.map(function (record) {
      shown[record.id] = true;
      var at = latLngOf(record);
      // markercluster clusters L.Marker; a CSS dot keeps it free of image files.
      var marker = L.marker(at, { icon: pinIcon(stateOf(record)),
                                  keyboard: false, title: "" });
      marker.bindPopup(popupContent(record));
      marker.bindTooltip(el("span", {}, nameOf(record)));
      marker.on("click", function () { choose(record.id, false); });
      markers[record.id] = marker;
      stations.addLayer(marker);
      resultsEl.appendChild(listItem(record, marker));
      return at;
    });
  }

  function render(body, live) {
    var q = body.query;
    var here = display === "gcj02" ? q.gcj02 : q.wgs84;
    clearRoute();
    showYou(here);
    var bounds = [[here[1], here[0]]].concat(drawStations(body.results));
    assumptionsEl.textContent = body.assumptions || "";
    noticesEl.textContent = "";
    if (q.in_served_area === false) {
      notice("warn", T.outside_area.replace("{area}", q.served_area ? q.served_area.name : ""));
    } else if (body.results.length && body.results[0].distance_m > 3000) {
      notice("warn", T.far_warning.replace("{d}", distanceText(body.results[0].distance_m)));
    }
    if (live) say(body.results.length ? T.found.replace("{n}", body.results.length) : T.none_found);
    // No animation: markers are placed at once, so a tap on the list finds them on the map.
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
    else map.setView(bounds[0], 14, { animate: false });
    restoreSelection();
    afterFirst();
  }

  // -- cards ---------------------------------------------------------------------------
  function accessBadge(record) {
    var code = record.access || "public";
    return el("span", { "class": "access access-" + code }, T["access_" + code] || record.access_label);
  }

  function weekDetails(record) {
    var box = el("details", { "class": "week" });
    var verified = record.last_verified ? T.last_verified.replace("{d}", record.last_verified) : T.not_verified;
    box.appendChild(el("summary", {}, T.week_hours + " · " + verified));
    if (record.week_hours) {
      var table = el("table");
      record.week_hours.forEach(function (day) {
        var row = el("tr");
        row.appendChild(el("th", { scope: "row" }, day.day + " " + day.date.slice(5)));
        row.appendChild(el("td", {}, day.hours));
        table.appendChild(row);
      });
      box.appendChild(table);
    } else {
      box.appendChild(el("p", {}, record.next_change_text || T.unknown));
    }
    return box;
  }

  function listItem(record, marker, extra) {
    var li = el("li", { "class": "station", "data-id": record.id });
    var h = el("h2");
    var name = el("button", { type: "button", "class": "name" }, (record.rank ? record.rank + ". " : "") + nameOf(record));
    name.addEventListener("click", function () { choose(record.id, true); });
    h.appendChild(name);
    li.appendChild(h);
    var meta = el("div", { "class": "meta" });
    (extra || [distanceText(record.distance_m), T.minutes.replace("{m}", Math.max(1, Math.round(record.est_minutes)))])
      .forEach(function (text) { meta.appendChild(el("span", {}, text)); });
    meta.appendChild(el("span", { "class": "badge " + stateOf(record) }, T[stateOf(record)]));
    if (record.next_change_text) meta.appendChild(el("span", {}, record.next_change_text));
    meta.appendChild(el("span", {}, record.type_label));
    meta.appendChild(accessBadge(record));
    li.appendChild(meta);
    if (record.amenities.length) {
      var list = el("ul", { "class": "amenity-list" });
      record.amenities.forEach(function (a) { list.appendChild(el("li", {}, a.label)); });
      li.appendChild(list);
    }
    if (record.address) li.appendChild(el("p", { "class": "address" }, record.address));
    if (record.phone) {
      var phone = el("p", { "class": "address" }, T.phone + ": ");
      phone.appendChild(el("a", { "class": "tel", href: "tel:" + record.phone.replace(/[^0-9+]/g, "") }, record.phone));
      li.appendChild(phone);
    }
    li.appendChild(weekDetails(record));
    li.appendChild(stationmapReports.box({ stationId: record.id, summary: record.reports, text: settings.report_text,
                                           kinds: settings.report_kinds, amenities: settings.amenities,
                                           lang: settings.lang }));
    var actions = el("div", { "class": "actions" });
    // AMap's web pages, not app links: WeChat's browser cannot open the AMap app.
    actions.appendChild(el("a", { "class": "go", href: record.links.amap_navigation }, T.navigate));
    actions.appendChild(el("a", { "class": "see", href: record.links.amap_marker }, T.marker));
    var toHere = el("button", { type: "button", "class": "secondary to-here" }, T.route_set_here);
    toHere.addEventListener("click", function () {
      var at = latLngOf(record);
      setDestination({ lat: at[0], lon: at[1] });
    });
    actions.appendChild(toHere);
    li.appendChild(actions);
    return li;
  }

  // -- selection: the list and the map agree on one station ----------------------------
  function bringIntoView(marker) {
    if (stations.getVisibleParent(marker) === marker) {
      // Already drawn on its own: zoomToShowLayer would wait for a map move that never comes.
      map.panTo(marker.getLatLng(), { animate: false });
      marker.openPopup();
    } else {
      stations.zoomToShowLayer(marker, function () { marker.openPopup(); });
    }
  }

  function markSelected() {
    resultsEl.querySelectorAll("li.station").forEach(function (li) {
      var on = li.getAttribute("data-id") === selected;
      li.classList.toggle("selected", on);
      if (on) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current");
    });
  }

  function choose(id, fromList) {
    selected = id;
    markSelected();
    writeState(false);
    if (fromList && markers[id]) bringIntoView(markers[id]);
  }

  function restoreSelection() {
    if (selected && markers[selected]) { markSelected(); bringIntoView(markers[selected]); }
    else if (selected) { selected = null; writeState(false); }
  }

  // -- along my route: the straight line from the point to a destination -------------
  var routeBox = document.getElementById("route");
  var pickButton = document.getElementById("route-pick");
  var clearButton = document.getElementById("route-clear");
  var picking = false;
  var lastStart = null;                          // the point as the last answer drew it, display coordinates

  function setDestination(to) {
    picking = false;
    pickButton.classList.remove("active");
    destination = to;
    routeBox.open = true;
    writeState(true);
    runRoute();
  }

  function runRoute() {
    if (!destination) return;
    if (!point) { say(T.route_need_point); return; }
    var ticket = ++pending;
    say(T.loading);
    // The start in the display system, as the server converts it (the nearest answer's query).
    getJson(query(5000)).then(function (near) {
      lastStart = display === "gcj02" ? near.query.gcj02 : near.query.wgs84;
      var body = filterBody({ route: { type: "LineString", coordinates: [lastStart, [destination.lon, destination.lat]] },
                              coordsys: display, distance_m: Number(withinSelect.value), mode: mode(), lang: settings.lang });
      return getJson("/api/v1/stations/along-route", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body) });
    }).then(function (body) {
      if (ticket !== pending) return;
      body.start = lastStart;
      body.destination = [destination.lon, destination.lat];
      save("route", body);
      renderRoute(body, true);
    }).catch(function (error) {
      if (ticket !== pending) return;
      showSaved(error);
    });
  }

  function filterBody(body) {
    if (openNow.checked) body.open_now = true;
    if (typeSelect.value) body.type = [typeSelect.value];
    if (chosenAmenities().length) body.amenity = chosenAmenities();
    return body;
  }

  function clearRoute() {
    if (routeLine) { map.removeLayer(routeLine); routeLine = null; }
    if (destinationMarker) { map.removeLayer(destinationMarker); destinationMarker = null; }
    clearButton.hidden = true;
  }

  function renderRoute(body, live) {
    clearRoute();
    var line = [[body.start[1], body.start[0]], [body.destination[1], body.destination[0]]];
    showYou(body.start);
    routeLine = L.polyline(line, { color: "#0b57d0", weight: 4, dashArray: "8 6", interactive: false }).addTo(map);
    destinationMarker = L.circleMarker(line[1], { radius: 8, color: "#0b57d0", weight: 3, fillColor: "#fff",
                                                  fillOpacity: 1, keyboard: false }).addTo(map);
    clearButton.hidden = false;
    stations.clearLayers();
    resultsEl.textContent = "";
    Object.keys(markers).forEach(function (id) { delete markers[id]; });
    shown = {};
    body.results.forEach(function (record, i) {
      record.rank = i + 1;
      shown[record.id] = true;
      var marker = L.marker(latLngOf(record), { icon: pinIcon(stateOf(record)),
                                                keyboard: false, title: "" });
      marker.bindPopup(popupContent(record));
      marker.on("click", function () { choose(record.id, false); });
      markers[record.id] = marker;
      stations.addLayer(marker);
      resultsEl.appendChild(listItem(record, marker, [
        T.along.replace("{d}", distanceText(record.along_m)),
        T.detour.replace("{m}", Math.max(1, Math.round(record.detour_minutes)))]));
    });
    noticesEl.textContent = "";
    notice("info", body.results.length
      ? T.route_found.replace("{n}", body.results.length).replace("{len}", distanceText(body.route_length_m))
      : T.route_none.replace("{d}", distanceText(body.distance_m)));
    assumptionsEl.textContent = T.route_note + " " + (body.assumptions || "");
    if (live) say(body.results.length ? T.found.replace("{n}", body.results.length) : T.route_none.replace("{d}", distanceText(body.distance_m)));
    map.fitBounds(line, { padding: [24, 24], maxZoom: 16, animate: false });
    restoreSelection();
    afterFirst();
  }

  pickButton.addEventListener("click", function () {
    if (!point) { say(T.route_need_point); return; }
    picking = true;
    pickButton.classList.add("active");
    say(T.route_picking);
  });
  clearButton.addEventListener("click", function () {
    destination = null;
    selected = null;
    writeState(true);
    search();
  });
  withinSelect.addEventListener("change", function () { if (destination) { writeState(false); runRoute(); } });

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
          var marker = L.marker(latLngOf(record), { icon: pinIcon("other"),
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
  function run() { if (destination) runRoute(); else search(); }

  function newPoint(p) {
    point = p;
    selected = null;
    writeState(true);
    run();
  }

  document.getElementById("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { say(T.located_failed); return; }
    say(T.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      districtSelect.value = "";
      // The Geolocation API reports WGS-84.
      newPoint({ lon: pos.coords.longitude, lat: pos.coords.latitude, coordsys: "wgs84" });
    }, function (error) {
      say(error.code === 1 ? T.locate_denied : error.code === 3 ? T.locate_timeout : T.located_failed);
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });

  map.on("click", function (e) {
    if (picking) { setDestination({ lon: e.latlng.lng, lat: e.latlng.lat }); return; }
    districtSelect.value = "";
    newPoint({ lon: e.latlng.lng, lat: e.latlng.lat, coordsys: display });
  });

  districtSelect.addEventListener("change", function () {
    var chosen = settings.districts.filter(function (d) { return d.adcode === districtSelect.value; })[0];
    if (!chosen) return;
    newPoint({ lon: chosen.point[0], lat: chosen.point[1], coordsys: display });
  });

  var controls = document.getElementById("controls");
  controls.addEventListener("change", function (e) {
    if (e.target !== districtSelect) { writeState(false); run(); loadView(); }
  });
  controls.addEventListener("submit", function (e) { e.preventDefault(); run(); });

  window.addEventListener("popstate", function () {
    if (readState()) run();
    else { clearRoute(); stations.clearLayers(); resultsEl.textContent = ""; noticesEl.textContent = ""; say(T.tap_hint); }
  });

  // The skip link moves focus to the list itself (not only the scroll position), so the next
  // Tab is the first station, never a map control.
  document.querySelector("a.skip").addEventListener("click", function (e) {
    e.preventDefault();
    resultsEl.focus();
  });

  // -- the search box: a station, road or district centres the map and lists the nearest around it --
  stationmapSearch.attach(document.getElementById("search"), document.getElementById("search-results"), {
    lang: settings.lang,
    text: { none: T.search_none, kinds: { station: T.search_station, road: T.search_road, district: T.search_district } },
    near: function () { return point; },
    onError: function () { say(T.search_failed); },
    onChoose: function (result) {
      var at = display === "gcj02" ? result.gcj02 : [result.lon, result.lat];
      districtSelect.value = result.kind === "district" && settings.districts.some(function (d) { return d.adcode === result.id; })
        ? result.id : "";
      destination = null;
      point = { lon: at[0], lat: at[1], coordsys: display };
      selected = result.kind === "station" ? result.id : null;      // its card is marked and its pin shown
      say(T.search_chosen.replace("{n}", "").replace("{name}", result.name));
      writeState(true);
      search();
    }
  });

  // -- after the first answer: what can wait on a weak signal ------------------------------
  // District outlines (without tiles) and the offline copy (static/sw.js, served at /sw.js)
  // share the phone's bandwidth with the answer a rider is waiting for, so they come after it.
  var afterFirst = (function () {
    var done = false;
    return function () {
      if (done) return;
      done = true;
      if (withoutTiles) {
        fetch("/api/v1/districts?coordsys=" + display)
          .then(function (r) { return r.json(); })
          .then(function (geojson) {
            L.geoJSON(geojson, { style: { color: "#555", weight: 1, fillColor: "#fff", fillOpacity: 0.6 },
                                 interactive: false }).addTo(map);
          })
          .catch(function () { /* outlines are decoration; the list still works */ });
      }
      if ("serviceWorker" in navigator && settings.service_worker) {
        navigator.serviceWorker.register(settings.service_worker, { scope: "/" })
          .catch(function () { /* no offline copy (e.g. plain http off localhost); the page works */ });
      }
    };
  })();

  // -- start: the URL's state, or (offline, nothing asked) the last answer kept -------------
  if (readState()) run();
  else if (navigator.onLine === false) showSaved(new Failure("offline_none"));
  if (!point) afterFirst();
})();
