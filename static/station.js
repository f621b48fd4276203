/* The station page (/s/<id>): readable without script; this adds the report buttons
 * ("还开着" / "有问题", static/reports.js) and keeps the page's summary line current. */
(function () {
  "use strict";
  var settings = stationmap.settings();
  var section = document.getElementById("report");
  if (!section) return;
  section.appendChild(stationmapReports.box({
    stationId: settings.station_id, summary: null, text: settings.report_text, kinds: settings.report_kinds,
    amenities: settings.amenities, lang: settings.lang,
    onSummary: function (line) {
      var dd = document.getElementById("reports-summary");
      if (dd) dd.textContent = line;
    }
  }));
})();
