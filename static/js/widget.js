/* The status notice for your own site: while an incident or a maintenance is open on the status page, a small
 * box names it and links to it; when all is well, nothing is shown. No dependency; it reads the page's public
 * API (api/v2/summary.json, open to every origin) next to where this script was loaded from.
 *
 *   <script src="https://status.example.com/widget.js" async
 *           data-position="bottom-right" data-background="#1d2430" data-color="#ffffff"></script>
 *
 * data-position: bottom-right (default), bottom-left, top-right or top-left.
 * data-background, data-color, data-link-color: CSS colours of the box, its text and its links.
 * data-refresh: seconds between two reads of the status (default 60; 0 reads it once).
 * Every text from the API is set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) return;
  var options = script.dataset;
  var base = script.src.replace(/widget\.js(?:[?#].*)?$/, "");
  var summary = base + "api/v2/summary.json";
  var ACTIVE_MAINTENANCE = { in_progress: true, verifying: true };
  var box = null;
  var dismissed = {}; // what the visitor closed: shown again only when its status changes

  function label(status) {
    var text = String(status || "").replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function element(tag, text, parent) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function link(text, href, parent) {
    var a = element("a", text, parent);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener";
    a.style.color = options.linkColor || options.color || "#ffffff";
    a.style.textDecoration = "underline";
    return a;
  }

  function place(node) {
    var where = (options.position || "bottom-right").split("-");
    node.style[where[0] === "top" ? "top" : "bottom"] = "16px";
    node.style[where[1] === "left" ? "left" : "right"] = "16px";
  }

  function build(items) {
    var node = element("div");
    node.setAttribute("role", "status");
    node.className = "statuspage-widget";
    var style = node.style;
    style.position = "fixed";
    style.zIndex = "2147483000";
    style.maxWidth = "min(360px, calc(100vw - 32px))";
    style.boxSizing = "border-box";
    style.padding = "12px 36px 12px 14px";
    style.borderRadius = "6px";
    style.boxShadow = "0 4px 16px rgba(0, 0, 0, 0.25)";
    style.font = "14px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    style.background = options.background || "#1d2430";
    style.color = options.color || "#ffffff";
    place(node);
    items.forEach(function (item) {
      var line = element("p", "", node);
      line.style.margin = "0 0 4px";
      var name = link(item.name, base + "incidents/" + encodeURIComponent(item.id), line);
      name.style.fontWeight = "600";
      name.className = "statuspage-widget-name";
      element("span", " · " + label(item.status), line).className = "statuspage-widget-status";
    });
    link("View status page", base, node).style.fontSize = "12px";
    var close = element("button", "×", node);
    close.type = "button";
    close.setAttribute("aria-label", "Close");
    close.style.cssText = "position:absolute;top:4px;right:6px;border:0;background:none;cursor:pointer;font-size:18px";
    close.style.color = options.color || "#ffffff";
    close.addEventListener("click", function () {
      node.remove();
      box = null;
      items.forEach(function (item) { dismissed[item.id + item.status] = true; });
    });
    return node;
  }

  function show(data) {
    var incidents = (data && data.incidents) || [];
    var maintenances = ((data && data.scheduled_maintenances) || []).filter(function (m) {
      return ACTIVE_MAINTENANCE[m.status];
    });
    var items = incidents.concat(maintenances).filter(function (item) {
      return !dismissed[item.id + item.status];
    });
    if (box) {
      box.remove();
      box = null;
    }
    if (items.length) {
      box = build(items.slice(0, 3));
      document.body.appendChild(box);
    }
    script.setAttribute("data-state", items.length ? "open" : "clear"); // read, for one, by the tests
  }

  function load() {
    fetch(summary, { cache: "no-cache", credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) show(data); })
      .catch(function () {});
  }

  var refresh = parseInt(options.refresh === undefined ? "60" : options.refresh, 10);
  function start() {
    load();
    if (refresh > 0) setInterval(load, Math.max(refresh, 10) * 1000);
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
