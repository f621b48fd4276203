/* The worker page's search box: stations, roads and districts by name, address or pinyin, from
 * GET /api/v1/search. An ARIA 1.2 combobox: type, then ↓/↑ to move through the results, Enter
 * to choose (the first result if none is highlighted), Esc to close; a tap or click chooses too.
 * Result text comes from the register: textContent only.
 */
var stationmapSearch = (function () {
  "use strict";

  var el = stationmap.el;

  // options: {lang, text: {none, kinds: {station, road, district}}, near(): {lat, lon, coordsys} | null,
  //           onChoose(result), onError(message)}
  function attach(input, list, options) {
    var results = [], active = -1, timer = null, ticket = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.setAttribute("aria-selected", String(j === i));
      });
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }

    function choose(i) {
      var chosen = results[i];
      if (!chosen) return;
      input.value = chosen.name;
      close();
      options.onChoose(chosen);
    }

    function show(body) {
      results = body.results;
      list.textContent = "";
      if (!results.length) {
        list.appendChild(el("li", { "class": "none", role: "option", "aria-disabled": "true", id: list.id + "-none" },
                            options.text.none.replace("{q}", input.value.trim())));
      }
      results.forEach(function (r, i) {
        var li = el("li", { role: "option", id: list.id + "-" + i, "aria-selected": "false", "class": "kind-" + r.kind });
        li.appendChild(el("span", { "class": "what" }, options.text.kinds[r.kind] || r.kind));
        li.appendChild(el("span", { "class": "name" }, options.lang === "en" && r.name_en ? r.name_en : r.name));
        if (r.district && r.kind !== "district") li.appendChild(el("span", { "class": "where" }, r.district));
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });   // keep focus in the box
        li.addEventListener("click", function () { choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    function ask() {
      var q = input.value.trim();
      if (!q) { close(); results = []; return; }
      var params = new URLSearchParams({ q: q.slice(0, 100), limit: "8", lang: options.lang });
      var near = options.near();
      if (near) { params.set("lat", near.lat.toFixed(6)); params.set("lon", near.lon.toFixed(6)); params.set("coordsys", near.coordsys); }
      var mine = ++ticket;
      return fetch("/api/v1/search?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (body) { if (mine === ticket && input.value.trim() === q) show(body); })
        .catch(function () { if (mine === ticket) options.onError(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 200);
    });
    input.addEventListener("keydown", function (e) {
      var n = results.length;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { if (n) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } return; }
        if (!n) return;
        highlight(e.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n);
      } else if (e.key === "Enter") {
        e.preventDefault();                       // the controls form must not submit
        clearTimeout(timer);
        if (!list.hidden && n) choose(active >= 0 ? active : 0);
        else { var pending = ask(); if (pending) pending.then(function () { if (results.length) choose(0); }); }
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    close();
  }

  return { attach: attach };
})();
