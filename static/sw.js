/* stationmap's service worker: the worker page opens, and shows its last results, with no network.
 *
 * Served at /sw.js (scope: the whole site) by stationmap/web/worker.py, which writes
 * self.STATIONMAP = {cache, precache, default_lang} in front of this file.
 *
 * - The page (any ?state): the copy kept for its language at once, refreshed in the background
 *   ("stale while revalidate"), so a repeat visit on a weak signal does not wait for the network;
 *   the page's URL state (position, filters) is read by the page's script, not by the server.
 * - Static files (their URLs carry a version): from the copy, else the network.
 * - District outlines: the copy at once, refreshed in the background (ETag: cheap when unchanged).
 * - Everything else (the live answers): the network only; the page itself keeps its last answer
 *   (localStorage) and says so when it shows it.
 */
/* global self, caches, fetch, URL, Request, Promise */
"use strict";

var CONFIG = self.STATIONMAP;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CONFIG.cache).then(function (cache) {
    return cache.addAll(CONFIG.precache);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("stationmap-") === 0 && name !== CONFIG.cache;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function pageKey(url) {
  var lang = url.searchParams.get("lang");
  if (lang !== "zh" && lang !== "en") lang = CONFIG.default_lang;
  return new Request(url.origin + "/?lang=" + lang);
}

function refresh(cache, key, request) {
  return fetch(request).then(function (response) {
    if (response.ok) cache.put(key, response.clone());
    return response;
  });
}

function staleWhileRevalidate(key, request) {
  return caches.open(CONFIG.cache).then(function (cache) {
    return cache.match(key).then(function (kept) {
      var fresh = refresh(cache, key, request);
      if (kept) {
        fresh.catch(function () { /* offline: the kept copy was the answer */ });
        return kept;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;               // map tiles: the browser's own cache
  if (request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(staleWhileRevalidate(pageKey(url), request));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(request).then(function (kept) { return kept || fetch(request); }));
  } else if (url.pathname === "/api/v1/districts") {
    event.respondWith(staleWhileRevalidate(request, request));
  }
});
