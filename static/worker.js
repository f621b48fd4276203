/* stationmap worker page.
 *
 * Station text is untrusted (it comes from spreadsheets): it only ever enters the page through
 * textContent, never innerHTML, in the list, the popups and the tooltips.
 *
 * The list first, the map after: this file needs no Leaflet. It draws the nearest stations as
 * soon as the answer is in (the page's head has already asked for it when the link carries a
 * position), then loads the map (Leaflet, markercluster, static/worker_map.js), which attaches
 * itself and draws what the list shows. On a throttled phone the map's scripts are most of the
 * bytes and most of the script time; a rider waits for the list.
 *
 * Sections: map loading · controls · URL state · errors and offline · nearest · cards · selection ·
 * along my route · ways to choose the point · start.
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

  // -- map loading: after the first answer (or at once when there is none to wait for) --
  var view = null;                                // the map, once static/worker_map.js has attached
  var current = null;                             // what the list shows: {kind: "nearest" | "route", body}
  var mapPending = false;                         // the map is behind the list (drawn in the next task)
  var mapStylesReady = null;
  var mapStyles = new Promise(function (resolve) { mapStylesReady = resolve; });

  function loadMap() {
    // Leaflet's styles go before the page's own (base.css...), as when they were in the head.
    var first = document.querySelector("link[rel=stylesheet]");
    Promise.all(settings.map_assets.styles.map(function (href) {
      return new Promise(function (resolve) {
        var link = el("link", { rel: "stylesheet", href: href });
        link.onload = link.onerror = resolve;
        document.head.insertBefore(link, first);
      });
    })).then(function () { mapStylesReady(); });
    settings.map_assets.scripts.forEach(function (src) {
      var script = document.createElement("script");
      script.src = src;
      script.async = false;                      // in order: Leaflet, markercluster, the map
      document.body.appendChild(script);
    });
  }

  // The list is drawn in this task; the map in the next, so the list is painted first.
  function paintMap() {
    if (!view || mapPending) return;
    mapPending = true;
    setTimeout(function () {
      mapPending = false;
      if (!current) { view.clear(); return; }
      view.draw(current);
      // The chosen station once the drawing has settled (clusters made), as a tap would find it.
      setTimeout(function () { if (selected && shownIds()[selected] && !mapPending) view.focus(selected); }, 0);
    }, 0);
  }

  function shownIds() {
    var ids = {};
    if (current) current.body.results.forEach(function (record) { ids[record.id] = true; });
    return ids;
  }

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

  function render(body, live) {
    var q = body.query;
    current = { kind: "nearest", body: body };
    clearButton.hidden = true;
    resultsEl.textContent = "";
    body.results.forEach(function (record) { resultsEl.appendChild(listItem(record)); });
    assumptionsEl.textContent = body.assumptions || "";
    noticesEl.textContent = "";
    if (q.in_served_area === false) {
      notice("warn", T.outside_area.replace("{area}", q.served_area ? q.served_area.name : ""));
    } else if (body.results.length && body.results[0].distance_m > 3000) {
      notice("warn", T.far_warning.replace("{d}", distanceText(body.results[0].distance_m)));
    }
    if (live) say(body.results.length ? T.found.replace("{n}", body.results.length) : T.none_found);
    restoreSelection();
    paintMap();
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

  function listItem(record, extra) {
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
    // Before the map is drawn, the drawing brings the chosen station into view (paintMap).
    if (fromList && view && !mapPending) view.focus(id);
  }

  // The list's part; the map's (bring the pin into view) comes when the map is drawn.
  function restoreSelection() {
    if (selected && shownIds()[selected]) markSelected();
    else if (selected) { selected = null; writeState(false); }
  }

  // -- along my route: the straight line from the point to a destination -------------
  var routeBox = document.getElementById("route");
  var pickButton = document.getElementById("route-pick");
  var clearButton = document.getElementById("route-clear");
  var picking = false;

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
    // This request's own start and destination: a newer request, or the back button, must not
    // lend its point to this one's drawing (the list and the line come from one answer).
    var to = [destination.lon, destination.lat];
    var start = null;
    say(T.loading);
    // The start in the display system, as the server converts it (the nearest answer's query).
    getJson(query(5000)).then(function (near) {
      start = display === "gcj02" ? near.query.gcj02 : near.query.wgs84;
      var body = filterBody({ route: { type: "LineString", coordinates: [start, to] },
                              coordsys: display, distance_m: Number(withinSelect.value), mode: mode(), lang: settings.lang });
      return getJson("/api/v1/stations/along-route", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body) });
    }).then(function (body) {
      if (ticket !== pending) return;
      body.start = start;
      body.destination = to;
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

  function renderRoute(body, live) {
    current = { kind: "route", body: body };
    clearButton.hidden = false;
    resultsEl.textContent = "";
    body.results.forEach(function (record, i) {
      record.rank = i + 1;
      resultsEl.appendChild(listItem(record, [
        T.along.replace("{d}", distanceText(record.along_m)),
        T.detour.replace("{m}", Math.max(1, Math.round(record.detour_minutes)))]));
    });
    noticesEl.textContent = "";
    notice("info", body.results.length
      ? T.route_found.replace("{n}", body.results.length).replace("{len}", distanceText(body.route_length_m))
      : T.route_none.replace("{d}", distanceText(body.distance_m)));
    assumptionsEl.textContent = T.route_note + " " + (body.assumptions || "");
    if (live) say(body.results.length ? T.found.replace("{n}", body.results.length) : T.route_none.replace("{d}", distanceText(body.distance_m)));
    restoreSelection();
    paintMap();
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

  // A tap on the map (static/worker_map.js), in the display coordinate system.
  function tapped(at) {
    if (picking) { setDestination(at); return; }
    districtSelect.value = "";
    newPoint({ lon: at.lon, lat: at.lat, coordsys: display });
  }

  districtSelect.addEventListener("change", function () {
    var chosen = settings.districts.filter(function (d) { return d.adcode === districtSelect.value; })[0];
    if (!chosen) return;
    newPoint({ lon: chosen.point[0], lat: chosen.point[1], coordsys: display });
  });

  var controls = document.getElementById("controls");
  controls.addEventListener("change", function (e) {
    if (e.target !== districtSelect) { writeState(false); run(); if (view) view.loadView(); }
  });
  controls.addEventListener("submit", function (e) { e.preventDefault(); run(); });

  window.addEventListener("popstate", function () {
    if (readState()) run();
    else {
      pending++;                                  // an answer still on its way is for the page left behind
      current = null; clearButton.hidden = true; paintMap(); resultsEl.textContent = ""; noticesEl.textContent = "";
      say(T.tap_hint);
    }
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
  // The map (and with it the district outlines) and the offline copy (static/sw.js, served at
  // /sw.js) share the phone's bandwidth and processor with the answer a rider is waiting for,
  // so they come after it.
  var afterFirst = (function () {
    var done = false;
    return function () {
      if (done) return;
      done = true;
      loadMap();
      if ("serviceWorker" in navigator && settings.service_worker) {
        navigator.serviceWorker.register(settings.service_worker, { scope: "/" })
          .catch(function () { /* no offline copy (e.g. plain http off localhost); the page works */ });
      }
    };
  })();

  // What static/worker_map.js needs from the list, and how it attaches.
  window.stationmapWorker = {
    settings: settings, mapStyles: mapStyles, nameOf: nameOf, latLngOf: latLngOf, distanceText: distanceText,
    stateOf: stateOf, choose: choose, tapped: tapped, filterParams: filterParams, mode: mode,
    attach: function (map) { view = map; paintMap(); }
  };

  // -- start: the URL's state, or (offline, nothing asked) the last answer kept -------------
  if (readState()) run();
  else if (navigator.onLine === false) showSaved(new Failure("offline_none"));
  if (!point) afterFirst();
})();
