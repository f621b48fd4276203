/* The heat layer: minutes from every H3 cell to the nearest open station, drawn on canvas tiles.
 *
 * Shared by the planner page and the embedded map. The data is GET /api/v1/coverage?f=cells
 * (stationmap/heat.py): integer steps of 1e-5 degrees from cell to cell, values in tenths, and
 * one hexagon shape per district that is offset to each centre. Colours are the bands the server
 * sends (stationmap/maps/style.py): one palette for every map the project draws.
 */
var stationmapHeat = (function () {
  "use strict";

  function decode(payload) {
    var n = payload.count, c = payload.cells, step = payload.step_deg;
    var lon = new Float64Array(n), lat = new Float64Array(n), value = new Float64Array(n), shape = new Int32Array(n);
    var x = payload.origin[0], y = payload.origin[1];
    for (var i = 0; i < n; i++) {
      x += c[4 * i]; y += c[4 * i + 1];
      lon[i] = x * step; lat[i] = y * step;
      value[i] = c[4 * i + 2] < 0 ? Infinity : c[4 * i + 2] / 10;
      shape[i] = c[4 * i + 3];
    }
    return { n: n, lon: lon, lat: lat, value: value, shape: shape, step: step, shapes: payload.shapes,
             bands: payload.bands, threshold: payload.threshold, unit: payload.unit };
  }

  // The band of a value: the last band whose lower edge it exceeds (the first band starts at 0).
  function bandOf(bands, v) {
    for (var b = bands.length - 1; b > 0; b--) if (v > bands[b][0]) return b;
    return 0;
  }

  var Layer = L.GridLayer.extend({
    options: { opacity: 0.72, updateWhenZooming: false, className: "heat-layer" },

    setData: function (payload) {
      this._data = payload ? decode(payload) : null;
      if (this._data) {
        var d = this._data, band = new Int8Array(d.n);
        for (var i = 0; i < d.n; i++) band[i] = bandOf(d.bands, d.value[i]);
        d.band = band;
      }
      if (this._map) this.redraw();
      return this;
    },

    data: function () { return this._data; },

    // The colour drawn at a point (the cell whose centre is nearest, if within one cell): for tests and tooltips.
    valueAt: function (latlng) {
      var d = this._data, best = -1, bestD = Infinity;
      if (!d) return null;
      for (var i = 0; i < d.n; i++) {
        var dx = (d.lon[i] - latlng.lng) * Math.cos(latlng.lat * Math.PI / 180), dy = d.lat[i] - latlng.lat;
        var dd = dx * dx + dy * dy;
        if (dd < bestD) { bestD = dd; best = i; }
      }
      return best < 0 ? null : { value: d.value[best], colour: d.bands[d.band[best]][2] };
    },

    createTile: function (coords) {
      var tile = document.createElement("canvas");
      var size = this.getTileSize();
      tile.width = size.x; tile.height = size.y;
      var d = this._data;
      if (!d || !d.n) return tile;
      var map = this._map, z = coords.z;
      var nw = coords.scaleBy(size);
      var ctx = tile.getContext("2d");
      var corner = map.unproject(nw, z), far = map.unproject(nw.add(size), z);
      // Pixels per degree near this tile (Web Mercator is conformal: locally a scale).
      var mid = L.latLng((corner.lat + far.lat) / 2, (corner.lng + far.lng) / 2);
      var p0 = map.project(mid, z), p1 = map.project(L.latLng(mid.lat + 0.01, mid.lng + 0.01), z);
      var kx = (p1.x - p0.x) / 0.01, ky = (p1.y - p0.y) / 0.01;
      var pad = 0.05;                                  // degrees: wider than any cell drawn
      var west = corner.lng - pad, east = far.lng + pad, north = corner.lat + pad, south = far.lat - pad;
      // Cells a few pixels wide are drawn as squares (fillRect is cheap); larger ones as hexagons,
      // grown by 4 % so anti-aliased edges leave no hairline seams between neighbours.
      var radius = Math.max.apply(null, d.shapes[0].map(function (v) { return Math.abs(v[0] * d.step * kx); }));
      var small = radius < 5;
      var shapes = d.shapes.map(function (s) {
        return s.map(function (v) { return [v[0] * d.step * kx * 1.04, v[1] * d.step * ky * 1.04]; });
      });
      var paths = d.bands.map(function () { return small ? [] : new Path2D(); });
      for (var i = 0; i < d.n; i++) {
        var lon = d.lon[i], lat = d.lat[i];
        if (lon < west || lon > east || lat < south || lat > north) continue;
        var px = (lon - mid.lng) * kx + p0.x - nw.x, py = (lat - mid.lat) * ky + p0.y - nw.y;
        if (small) { paths[d.band[i]].push(px, py); continue; }
        var s = shapes[d.shape[i]], path = paths[d.band[i]];
        path.moveTo(px + s[0][0], py + s[0][1]);
        for (var k = 1; k < s.length; k++) path.lineTo(px + s[k][0], py + s[k][1]);
        path.closePath();
      }
      var side = Math.max(1, Math.ceil(radius * 1.8)), half = side / 2;
      d.bands.forEach(function (b, j) {
        ctx.fillStyle = b[2];
        if (!small) { ctx.fill(paths[j]); return; }
        var xy = paths[j];
        for (var q = 0; q < xy.length; q += 2) ctx.fillRect(Math.round(xy[q] - half), Math.round(xy[q + 1] - half), side, side);
      });
      return tile;
    }
  });

  // The legend: one swatch per band, labelled by its edges; the threshold is the edge before the gap band.
  function legend(box, bands, unit, texts) {
    box.textContent = "";
    var el = stationmap.el;
    box.appendChild(el("strong", {}, texts.title));
    var scale = el("span", { "class": "heat-scale" });
    bands.forEach(function (b, i) {
      var key = el("span", { "class": "key" + (b[1] === null ? " gap" : ""), "data-colour": b[2] });
      key.appendChild(el("i", { style: "background:" + b[2] }));
      var fmt = function (v) { return String(Math.round(v * 10) / 10); };
      key.appendChild(document.createTextNode(b[1] === null ? "> " + fmt(b[0]) + " " + unit + " · " + texts.gap
                                                          : fmt(b[0]) + "–" + fmt(b[1])));
      if (i === bands.length - 2) key.classList.add("edge");
      scale.appendChild(key);
    });
    box.appendChild(scale);
  }

  return { Layer: Layer, decode: decode, bandOf: bandOf, legend: legend };
})();
