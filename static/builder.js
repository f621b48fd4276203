/* stationmap embed builder (/embed): options → a live preview, a copy-ready <iframe>, a picture link. */
(function () {
  "use strict";

  var settings = stationmap.settings();
  var T = settings.text;
  var form = document.getElementById("options");
  var preview = document.getElementById("preview");
  var snippet = document.getElementById("snippet");
  var download = document.getElementById("download");
  var copied = document.getElementById("copied");

  function value(name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }

  function size(name, fallback) {
    var n = parseInt(value(name), 10);
    return isFinite(n) ? Math.min(2000, Math.max(200, n)) : fallback;
  }

  // Text going into the snippet's HTML attributes, escaped as HTML wants.
  function attr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function mapUrl() {
    var q = new URLSearchParams();
    if (value("adcode")) q.set("adcode", value("adcode"));
    q.set("layer", value("layer"));
    if (value("layer") === "stations" && value("type")) q.set("type", value("type"));
    q.set("lang", value("lang"));
    q.set("tiles", value("tiles"));
    return settings.map_url + "?" + q.toString();
  }

  var timer = null;
  function update() {
    form.elements.type.disabled = value("layer") !== "stations";
    var url = mapUrl();
    var width = size("width", 640), height = size("height", 480);
    var title = settings.titles[value("lang")][value("layer")];
    snippet.value = '<iframe src="' + attr(url) + '" width="' + width + '" height="' + height +
      '" style="border:0;max-width:100%" loading="lazy" title="' + attr(title) + '"></iframe>';
    // A picture for an article: twice the frame's width for sharp phone screens, and never
    // under the 1080 px WeChat articles show full-width (the API draws 300-3000 px).
    var pictureWidth = Math.min(3000, Math.max(1080, 2 * width));
    var picture = new URLSearchParams({ layer: value("layer"), lang: value("lang"), width: String(pictureWidth) });
    if (value("adcode")) picture.set("adcode", value("adcode"));
    if (value("layer") === "stations" && value("type")) picture.set("type", value("type"));
    download.href = settings.image_url + "?" + picture.toString();
    copied.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(function () {              // typing a width should not reload the map per key
      preview.width = String(width);
      preview.height = String(height);
      if (preview.getAttribute("src") !== url) preview.setAttribute("src", url);
    }, 250);
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (e) { e.preventDefault(); });

  document.getElementById("copy").addEventListener("click", function () {
    function fallback() {
      snippet.focus();
      snippet.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      copied.textContent = ok ? T.copied : T.copy_failed;
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(snippet.value).then(function () { copied.textContent = T.copied; }, fallback);
    } else {
      fallback();
    }
  });

  update();
})();
