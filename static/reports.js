/* Workers' reports on a station: the summary line, "还开着 (it's open, I'm here)" and
 * "有问题 (report a problem)", shared by the worker page's cards and the station page.
 *
 * Everything a station or a worker wrote goes in with textContent only (stationmap.el).
 * The request carries no cookie and no token (credentials: "omit"): reports are anonymous.
 */
var stationmapReports = (function () {
  "use strict";

  var el = stationmap.el;

  function summaryText(summary, R) {
    if (!summary || !summary.text) return "";
    return summary.closure_flagged ? summary.text + " · " + R.ranked : summary.text;
  }

  function showSummary(line, summary, R) {
    line.textContent = summaryText(summary, R);
    line.hidden = !line.textContent;
    line.classList.toggle("flagged", Boolean(summary && summary.closure_flagged));
  }

  // POST the report; `done(message, summary)` with the words to show in the page's language.
  function send(stationId, body, lang, R, done) {
    fetch("/api/v1/stations/" + encodeURIComponent(stationId) + "/reports?lang=" + lang, {
      method: "POST", credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.status === 201) done(body.kind === "confirm_open" ? R.thanks_open : R.thanks, answer.reports, true);
        else if (r.status === 409) done(R.already, null, false);
        else if (r.status === 429) done(R.busy, null, false);
        else if (r.status === 405) done(R.read_only, null, false);
        else if (r.status === 400) done(R.bad, null, false);
        else done(R.failed, null, false);
      });
    }, function () { done(R.failed, null, false); });
  }

  var counter = 0;

  // The report box of one station: summary line, the two buttons, the problem form, the result.
  // `options`: {stationId, summary, text (REPORTS words), kinds [[code, label]], amenities {code: label}, lang}.
  function box(options) {
    var R = options.text, id = "report-" + (++counter);
    var wrap = el("div", { "class": "reports" });
    var line = el("p", { "class": "report-summary" });
    showSummary(line, options.summary, R);
    wrap.appendChild(line);
    var result = el("p", { "class": "report-result", role: "status", "aria-live": "polite" });

    function finished(message, summary, ok) {
      result.textContent = message;
      result.classList.toggle("ok", ok);
      if (summary) showSummary(line, summary, R);
      if (summary && options.onSummary) options.onSummary(summaryText(summary, R));
      buttons.forEach(function (b) { b.disabled = false; });
      if (ok) problem.open = false;
    }

    function report(body) {
      buttons.forEach(function (b) { b.disabled = true; });
      result.textContent = R.sending;
      send(options.stationId, body, options.lang, R, finished);
    }

    var actions = el("div", { "class": "report-actions" });
    var open = el("button", { type: "button", "class": "secondary report-open", title: R.open_hint }, R.open);
    open.addEventListener("click", function () { report({ kind: "confirm_open" }); });
    actions.appendChild(open);

    var problem = el("details", { "class": "report-problem" });
    problem.appendChild(el("summary", {}, R.problem));
    var buttons = [open];
    // The form is made when a rider opens it: its radios and its select of every amenity are
    // most of a card's elements, ten times over in the list, on a slow phone; few riders open one.
    problem.addEventListener("toggle", function () {
      if (problem.open && buttons.length === 1) problem.appendChild(problemForm());
    });
    actions.appendChild(problem);
    wrap.appendChild(actions);
    wrap.appendChild(result);
    return wrap;

    function problemForm() {
      var form = el("form", { "class": "report-form", novalidate: "" });
      var kinds = el("fieldset");
      kinds.appendChild(el("legend", {}, R.kind));
      options.kinds.forEach(function (kind) {                // [code, label], in the order of the rules
        var code = kind[0];
        if (code === "confirm_open") return;
        var label = el("label");
        var attrs = { type: "radio", name: id + "-kind", value: code };
        if (code === "closed") attrs.checked = "";          // the commonest problem, ready to send
        label.appendChild(el("input", attrs));
        label.appendChild(document.createTextNode(" " + kind[1]));
        kinds.appendChild(label);
      });
      form.appendChild(kinds);
      // Labels point at their controls (for=) rather than wrap them: a wrapping label's name
      // would include every option's text.
      var amenityLabel = el("div", { "class": "field" });
      amenityLabel.appendChild(el("label", { "for": id + "-amenity" }, R.amenity));
      var amenity = el("select", { name: "amenity", id: id + "-amenity" });
      Object.keys(options.amenities).forEach(function (code) {
        amenity.appendChild(el("option", { value: code }, options.amenities[code]));
      });
      amenityLabel.appendChild(amenity);
      amenityLabel.hidden = true;
      form.appendChild(amenityLabel);
      var noteLabel = el("label", { "class": "field" }, R.note);
      var note = el("textarea", { name: "note", maxlength: "300", rows: "2" });
      noteLabel.appendChild(note);
      form.appendChild(noteLabel);
      var contactLabel = el("label", { "class": "field" }, R.contact);
      var contact = el("input", { type: "text", name: "contact", maxlength: "100", autocomplete: "tel" });
      contactLabel.appendChild(contact);
      form.appendChild(contactLabel);
      form.appendChild(el("p", { "class": "note" }, R.privacy));
      var submit = el("button", { type: "submit", "class": "primary report-send" }, R.send);
      submit.disabled = open.disabled;                      // a report already on its way
      buttons.push(submit);
      form.appendChild(submit);
      function chosenKind() {
        var checked = form.querySelector("input[name='" + id + "-kind']:checked");
        return checked ? checked.value : "other";
      }
      kinds.addEventListener("change", function () { amenityLabel.hidden = chosenKind() !== "missing_facility"; });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var body = { kind: chosenKind() };
        if (body.kind === "missing_facility") body.amenity = amenity.value;
        if (note.value.trim()) body.note = note.value.trim().slice(0, 300);
        if (contact.value.trim()) body.contact = contact.value.trim().slice(0, 100);
        report(body);
      });
      return form;
    }
  }

  return { box: box, summaryText: summaryText };
})();
