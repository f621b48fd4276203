/* stationmap planner page: a long coverage question as a job in the server's heavy-work pool.
 *
 * POST /api/v1/coverage/jobs?<the form> answers at once with the job's id; its status (stage,
 * progress, detail: districts done, cells sampled, the solver's time) is polled until it is done,
 * then its three answers (json, cells, geojson) are fetched (``partUrl(f)``: from the plain API, which
 * answers them from the same job; else from the job's own links). DELETE cancels it: the pool kills the
 * worker process running it. A job id from the URL is resumed (a reload keeps watching); a job the
 * server no longer knows is asked again. Used by coverage.js; nothing here touches the page.
 */
var stationmapJobs = (function () {
  "use strict";

  var BASE = "/api/v1/coverage/jobs";
  var EVERY_MS = 500;

  function Cancelled() { this.cancelled = true; this.message = "cancelled"; }

  // A refusal (400 with named parameters, 429, 503) is handed back whole: the page explains it.
  function refused(response) { var e = new Error("refused"); e.response = response; return e; }

  function start(options) {
    var id = options.resume || null;
    var stopped = false;
    var timer = null;
    var onStatus = options.onStatus || function () {};

    function submit() {
      var body = null;
      if (options.file) {                          // demand the planner brings: sent with the question
        body = new FormData();
        body.append("demand", options.file, options.file.name);
        body.append("demand_coordsys", options.fileCoordsys || "gcj02");
      }
      return fetch(BASE + "?" + options.query, { method: "POST", body: body, headers: { Accept: "application/json" } })
        .then(function (r) { if (r.status !== 202) throw refused(r); return r.json(); })
        .then(function (status) { id = status.id; return status; });
    }

    function status() {
      return fetch(BASE + "/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 404) return null;         // forgotten (or another server): ask again
          if (!r.ok) throw refused(r);
          return r.json();
        });
    }

    function parts(s) {
      return Promise.all(["json", "cells", "geojson"].map(function (f) {
        return fetch(options.partUrl ? options.partUrl(f) : s.links[f]).then(function (r) { if (!r.ok) throw refused(r); return r.json(); });
      })).then(function (got) { return { json: got[0], cells: got[1], geojson: got[2] }; });
    }

    var stop = null;
    var promise = new Promise(function (resolve, reject) {
      stop = function () { reject(new Cancelled()); };
      function look(s) {
        if (stopped) return reject(new Cancelled());
        onStatus(s);
        if (s.state === "done") return parts(s).then(resolve, reject);
        if (s.state === "cancelled") return reject(new Cancelled());
        if (s.state === "failed") return reject(new Error(s.error || "failed"));
        timer = setTimeout(poll, EVERY_MS);
      }
      function poll() {
        if (stopped) return reject(new Cancelled());
        status().then(function (s) {
          if (s) return look(s);
          onStatus({ lost: true });
          return submit().then(look);
        }).catch(reject);
      }
      (id ? Promise.resolve(null).then(poll) : submit().then(look)).catch(reject);
    });

    return {
      promise: promise,
      id: function () { return id; },
      // Stop watching; with ``really`` also stop the work in the pool (a question nobody waits for).
      cancel: function (really) {
        stopped = true;
        clearTimeout(timer);
        stop();
        if (!really || !id) return Promise.resolve(null);
        return fetch(BASE + "/" + encodeURIComponent(id), { method: "DELETE" })
          .then(function (r) { return r.ok ? r.json() : null; }, function () { return null; });
      }
    };
  }

  return { start: start, Cancelled: Cancelled };
})();
