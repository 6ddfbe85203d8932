// The live tail: reads the page's event stream (server-sent events) into
// #tail-events, newest first, keeping at most data-cap entries. Each entry
// records when it arrived (data-arrived, ms since the epoch) for the
// latency measurement. Text goes in with textContent only: no event's
// content is ever parsed as HTML.
(function () {
  "use strict";
  var list = document.getElementById("tail-events");
  if (!list) return;
  var cap = parseInt(list.dataset.cap, 10) || 200;
  var status = document.getElementById("tail-status");
  var droppedNote = document.getElementById("tail-dropped");
  var dropped = 0, seen = 0;
  var es = new EventSource(list.dataset.stream);
  es.onopen = function () { status.textContent = "Following: " + seen + " events so far."; };
  es.onerror = function () { status.textContent = "Disconnected; reconnecting…"; };
  es.addEventListener("event", function (m) {
    var arrived = performance.timeOrigin + performance.now();
    var e = JSON.parse(m.data);
    var li = document.createElement("li");
    li.dataset.arrived = String(arrived);
    li.dataset.id = e.id;
    li.dataset.seq = String(e.seq);
    var head = document.createElement("div");
    head.className = "tail-head";
    head.textContent = e.time + " · " + e.bus + " · " + e.type + " · " + e.source + (e.subject ? " · " + e.subject : "") + " · " + e.id;
    var body = document.createElement("code");
    body.className = "tail-event";
    body.textContent = JSON.stringify(e.event);
    li.appendChild(head);
    li.appendChild(body);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > cap) list.removeChild(list.lastChild);
    seen++;
    status.textContent = "Following: " + seen + " events so far.";
  });
  es.addEventListener("dropped", function (m) {
    dropped += parseInt(m.data, 10) || 0;
    droppedNote.hidden = false;
    droppedNote.textContent = "Dropped " + dropped + " events: they came faster than this page read them.";
  });
  window.addEventListener("pagehide", function () { es.close(); });
})();
