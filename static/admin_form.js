/* The admin's station form: a pin to place or drag, and the hours preview.
 *
 * The longitude and latitude fields are in the base map's coordinate system (GCJ-02 on AMap
 * tiles, WGS-84 otherwise: the form's hidden "coordsys" says which, and the server converts to
 * WGS-84 when it stores them), so the pin and the fields always agree with the tiles under them.
 * The fields are the keyboard's way to place a station; the map is the mouse's and the finger's.
 * Hours typed in the form are previewed for the next seven days by the server, with the same
 * engine (and China's public holidays) as the worker page. Text only ever goes in by textContent.
 */
(function () {
  "use strict";

  var settings = stationmap.settings();
  var el = stationmap.el;
  var lonInput = document.getElementById("f-lon");
  var latInput = document.getElementById("f-lat");
  var mapBox = document.getElementById("map");
  var DIGITS = 7;                                  // 1e-7 degrees: about a centimetre

  // -- map and pin -------------------------------------------------------------------
  if (mapBox && window.L) {
    var editable = !lonInput.disabled && !lonInput.closest("fieldset[disabled]");
    var map = L.map(mapBox, { maxZoom: settings.tiles.max_zoom || 18, keyboard: true });
    var withTiles = stationmap.baseMap(map, settings.tiles, "");
    var pin = null;

    var icon = L.icon({ iconUrl: "/static/vendor/leaflet/dist/images/marker-icon.png",
                        iconRetinaUrl: "/static/vendor/leaflet/dist/images/marker-icon-2x.png",
                        shadowUrl: "/static/vendor/leaflet/dist/images/marker-shadow.png",
                        iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41] });

    var typed = function () {
      var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
      return isFinite(lon) && isFinite(lat) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? L.latLng(lat, lon) : null;
    };
    var write = function (latlng) {
      lonInput.value = latlng.lng.toFixed(DIGITS);
      latInput.value = latlng.lat.toFixed(DIGITS);
    };
    var place = function (latlng) {
      if (!pin) {
        pin = L.marker(latlng, { draggable: editable, icon: icon, keyboard: false }).addTo(map);
        pin.on("dragend", function () { write(pin.getLatLng()); });
      } else {
        pin.setLatLng(latlng);
      }
    };

    var start = typed();
    if (start) {
      place(start);
      map.setView(start, 16);
    } else {
      map.setView([31.23, 121.47], 10);
    }
    // A station not yet placed opens on its district (and follows the district chosen), so a
    // click lands where the station is filed: the server refuses a point standing in a district
    // the editor does not keep.
    var adcodeSelect = document.getElementById("f-adcode");
    var outlines = null;
    var toDistrict = function () {
      if (pin || !outlines || !adcodeSelect) return;
      var chosen = outlines.features.filter(function (f) { return f.properties.adcode === adcodeSelect.value; })[0];
      if (!chosen) return;
      map.setView([chosen.properties.label_point[1], chosen.properties.label_point[0]], 14);
      mapBox.setAttribute("data-district", chosen.properties.adcode);
    };
    fetch("/api/v1/districts?coordsys=" + encodeURIComponent(settings.coordsys))
      .then(function (r) { return r.json(); })
      .then(function (geojson) {
        outlines = geojson;
        if (!withTiles) {
          L.geoJSON(geojson, { style: { color: "#555", weight: 1, fillColor: "#fff", fillOpacity: 0.6 },
                               interactive: false }).addTo(map);
        }
        toDistrict();
      })
      .catch(function () { /* outlines are decoration; the fields still work */ });
    if (adcodeSelect) adcodeSelect.addEventListener("change", toDistrict);
    if (editable) {
      map.on("click", function (event) { place(event.latlng); write(event.latlng); });
      [lonInput, latInput].forEach(function (input) {
        input.addEventListener("change", function () {
          var here = typed();
          if (here) { place(here); map.panTo(here); }
        });
      });
      document.getElementById("clear-location").addEventListener("click", function () {
        lonInput.value = "";
        latInput.value = "";
        if (pin) { map.removeLayer(pin); pin = null; }
      });
    }
  }

  // -- hours preview -------------------------------------------------------------------
  var hoursInput = document.getElementById("f-opening_hours");
  var statusSelect = document.getElementById("f-status");
  var week = document.getElementById("hours-week");
  var expression = document.getElementById("hours-expression");
  var timer = null;
  var asked = 0;

  function show(answer) {
    week.textContent = "";
    if (answer.week.length === 0) {
      var row = el("tr");
      var cell = el("td", { colspan: "2" }, answer.problem || answer.status);
      row.appendChild(cell);
      week.appendChild(row);
    }
    answer.week.forEach(function (day, i) {
      var tr = el("tr", i === 0 ? { "class": "today" } : {});
      tr.appendChild(el("th", { scope: "row" }, day.date.slice(5) + " " + day.day));
      tr.appendChild(el("td", {}, day.hours));
      week.appendChild(tr);
    });
    expression.textContent = answer.expression ? settings.hours_as.replace("{expr}", answer.expression)
                                               : (answer.problem || "");
  }

  function preview() {
    var mine = ++asked;
    var query = new URLSearchParams({ text: hoursInput.value, status: statusSelect.value, lang: settings.lang });
    fetch(settings.preview_url.split("?")[0] + "?" + query.toString(), { headers: { Accept: "application/json" },
                                                                         credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) { if (answer && mine === asked) show(answer); })
      .catch(function () { /* the preview is a help; saving still checks the hours */ });
  }

  if (hoursInput && week) {
    hoursInput.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(preview, 300);
    });
    statusSelect.addEventListener("change", preview);
  }
})();
