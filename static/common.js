/* What every page script shares: the element helper, the settings the server wrote into the
 * page, and the base map. Loaded before the page's own script (worker, coverage, embed, builder).
 *
 * Station text is untrusted: el() puts text in with textContent only, never as HTML.
 */
var stationmap = (function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // The page's settings: JSON in <script type="application/json" id="settings"> (templates/base.html).
  function settings() {
    return JSON.parse(document.getElementById("settings").textContent);
  }

  // The configured tile layer on `map`; without tiles ("none", or Tianditu with no key), a note
  // in the attribution instead. Returns whether tiles were added.
  function baseMap(map, tiles, noTilesText) {
    if (tiles.url) {
      L.tileLayer(tiles.url, { subdomains: tiles.subdomains || "abc", attribution: tiles.attribution,
                               maxZoom: tiles.max_zoom }).addTo(map);
      return true;
    }
    map.attributionControl.addAttribution(noTilesText);
    return false;
  }

  return { el: el, settings: settings, baseMap: baseMap };
})();
