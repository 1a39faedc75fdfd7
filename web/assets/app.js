// What the pages do with JavaScript; each works without it.
// - Times (<time datetime>) are shown in the visitor's own time zone; the server writes UTC.
// - The order countdown ticks every second; at zero the payment and cancel forms are disabled
//   and the page fetches the order again until it says what happened (expired, or paid).
// - With the event bus (an element with data-live), the pages follow changes through server-sent
//   events: the listing drops a ticket the moment it is reserved and shows it again where it was
//   when it is freed (the first page of the default view also shows new listings at the top);
//   the order page shows what happened to the order (paid, expired, cancelled) as it happens.
//   Every stream starts with a snapshot, so a page that reconnects catches up.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  // Every <time datetime> under `root` in local time, the UTC form kept as its title.
  function localizeTimes(root) {
    if (!window.Intl || !Intl.DateTimeFormat) { return; }
    var format;
    try {
      format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) { return; }
    Array.prototype.forEach.call((root || document).querySelectorAll("time[datetime]"), function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at) || el.dataset.local) { return; }
      el.title = el.textContent;
      el.textContent = format.format(new Date(at));
      el.dataset.local = "true";
    });
  }

  // The order page, fetched again and put in place (no reload, no form sent again); `done` is
  // told whether the order is still open.
  var fetching = false;
  function refreshOrder(done) {
    if (fetching) { return; }
    fetching = true;
    fetch(window.location.pathname, { headers: { accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        fetching = false;
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) {
          main.innerHTML = fresh.innerHTML;
          localizeTimes(main);
          startCountdown();
        }
        if (done) { done(!!document.querySelector("#order[data-open]")); }
      })
      .catch(function () { fetching = false; if (done) { done(true); } });
  }

  // After the deadline the server's timer ends the order within moments: ask until it has.
  var awaiting = false;
  function awaitOutcome(triesLeft) {
    awaiting = true;
    refreshOrder(function (open) {
      if (open && triesLeft > 1) {
        setTimeout(function () { awaitOutcome(triesLeft - 1); }, 1000);
      } else {
        awaiting = false;
      }
    });
  }

  function afterDeadline() {
    if (!awaiting) { setTimeout(function () { awaitOutcome(30); }, 500); }
  }

  var countdownTimer = null;

  function expired() {
    ["pay", "cancel"].forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) { return; }
      form.setAttribute("aria-disabled", "true");
      Array.prototype.forEach.call(form.querySelectorAll("button, input"), function (el) {
        if (el.type !== "hidden") { el.disabled = true; }
      });
    });
  }

  function tick(el) {
    var left = Math.floor((Date.parse(el.dataset.expiresAt) - Date.now()) / 1000);
    if (left <= 0) {
      el.textContent = "Order expired";
      expired();
      return false;
    }
    el.textContent = Math.floor(left / 60) + ":" + pad(left % 60) + " left";
    return true;
  }

  function startCountdown() {
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    var el = document.getElementById("countdown");
    if (!el || !el.dataset.expiresAt) { return; }
    if (!tick(el)) { afterDeadline(); return; }
    countdownTimer = setInterval(function () {
      if (!tick(el)) {
        clearInterval(countdownTimer);
        countdownTimer = null;
        afterDeadline();
      }
    }, 1000);
  }

  // The listing: `ul#tickets` holds one `li[data-ticket-id]` per ticket for sale on this page.
  function followListing(list) {
    var empty = document.getElementById("no-tickets");
    var top = list.dataset.insert === "top"; // the default view's first page: newest first
    var size = Number(list.dataset.pageSize) || 20;
    var complete = Number(list.dataset.snapshotLimit) || 500;
    var currency = (list.dataset.currency || "usd").toUpperCase();
    var versions = {};
    // Where a ticket that left the page was: the id of the item after it (or "" for the end).
    var left = {};

    function money(price) {
      try {
        return new Intl.NumberFormat("en-US", { style: "currency", currency: currency }).format(price);
      } catch (e) { return Number(price).toFixed(2) + " " + currency; }
    }

    function itemOf(ticket) {
      var li = document.createElement("li");
      li.dataset.ticketId = ticket.id;
      li.dataset.version = ticket.version;
      var link = document.createElement("a");
      link.href = "/tickets/" + encodeURIComponent(ticket.id);
      link.textContent = ticket.title;
      var price = document.createElement("span");
      price.className = "price";
      price.textContent = money(ticket.price);
      li.appendChild(link);
      li.appendChild(price);
      return li;
    }

    function find(id) {
      for (var i = 0; i < list.children.length; i++) {
        if (list.children[i].dataset.ticketId === id) { return list.children[i]; }
      }
      return null;
    }

    function trim() {
      while (top && list.children.length > size) { list.removeChild(list.lastChild); }
    }

    function drop(id) {
      var shown = find(id);
      if (!shown) { return; }
      left[id] = shown.nextElementSibling ? shown.nextElementSibling.dataset.ticketId : "";
      list.removeChild(shown);
    }

    // A ticket for sale: updated in place, back where it was, or (new, on the first page of the
    // default view) at the top.
    function show(ticket, isNew) {
      var shown = find(ticket.id);
      var item = itemOf(ticket);
      if (shown) {
        if (shown.dataset.version !== String(ticket.version)) { list.replaceChild(item, shown); }
        return;
      }
      if (left[ticket.id] !== undefined) {
        var next = left[ticket.id] ? find(left[ticket.id]) : null;
        delete left[ticket.id];
        list.insertBefore(item, next);
      } else if (isNew && top) {
        list.insertBefore(item, list.firstChild);
      } else {
        return;
      }
      localizeTimes(item);
      trim();
    }

    function settle() { if (empty) { empty.hidden = list.children.length > 0; } }

    // A ticket's event, unless it is older than what the page knows.
    function apply(ticket, isNew) {
      if (versions[ticket.id] !== undefined && ticket.version <= versions[ticket.id]) { return; }
      versions[ticket.id] = ticket.version;
      if (ticket.orderId || ticket.withdrawnAt) { drop(ticket.id); } else { show(ticket, isNew); }
      settle();
    }

    var source = new EventSource(list.dataset.live);
    source.addEventListener("snapshot", function (e) {
      var tickets = JSON.parse(e.data); // for sale, newest first
      var forSale = {};
      versions = {};
      tickets.forEach(function (t) { forSale[t.id] = true; versions[t.id] = t.version; });
      // A ticket missing from a snapshot that holds every ticket for sale (or, on the first
      // page of the default view, the newest ones) is no longer for sale.
      if (top || tickets.length < complete) {
        Array.prototype.slice.call(list.children).forEach(function (li) {
          if (!forSale[li.dataset.ticketId]) { drop(li.dataset.ticketId); }
        });
      }
      tickets.forEach(function (t) {
        var shown = find(t.id);
        if (shown && shown.dataset.version !== String(t.version)) { list.replaceChild(itemOf(t), shown); }
      });
      if (top) {
        tickets.slice(0, size).reverse().forEach(function (t) { if (!find(t.id)) { show(t, true); } });
      }
      settle();
    });
    source.addEventListener("ticket:created", function (e) { apply(JSON.parse(e.data), true); });
    source.addEventListener("ticket:updated", function (e) { apply(JSON.parse(e.data), false); });
    source.addEventListener("ticket:withdrawn", function (e) { apply(JSON.parse(e.data), false); });
  }

  // The order page: `#order` says the order's status; on any change, the page is fetched again.
  function followOrder(card) {
    var source = new EventSource(card.dataset.live);

    function refresh() {
      refreshOrder(function (open) {
        // An order that ended has nothing more to follow.
        if (!open) { source.close(); }
      });
    }

    source.addEventListener("snapshot", function (e) {
      var order = JSON.parse(e.data);
      var shown = document.getElementById("order");
      if (!shown || shown.dataset.status !== order.status) { refresh(); }
    });
    ["order:cancelled", "expiration:complete", "payment:created"].forEach(function (kind) {
      source.addEventListener(kind, refresh);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localizeTimes(document);
    startCountdown();
    if (!window.EventSource) { return; }
    var list = document.querySelector("ul#tickets[data-live]");
    if (list) { followListing(list); }
    var order = document.querySelector("#order[data-live]");
    if (order) { followOrder(order); }
  });
})();
